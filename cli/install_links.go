package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/dcc-build/dcc/toolchain"
	"github.com/dcc-build/dcc/wrapper"
)

// Link is one masquerade link made by InstallLinks.
type Link struct {
	// Name is the compiler name the link carries ("gcc", "clang++-14").
	Name string
	// Real is the compiler the link stands in front of.
	Real string
}

// CompilersInPath lists the compiler drivers found in path (PATH syntax), first
// occurrence of each name winning, skipping dcc itself and its links.
func CompilersInPath(f *wrapper.Finder) []Link {
	seen := map[string]bool{}
	var out []Link
	for _, dir := range filepath.SplitList(f.Path) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if seen[name] || !toolchain.IsCompilerName(name) {
				continue
			}
			real, err := f.Find(name)
			if err != nil {
				continue
			}
			seen[name] = true
			out = append(out, Link{Name: name, Real: real})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// InstallLinks makes dir a masquerade directory: one symlink to dcc (self) for
// each compiler found by f, and one named ccache when f finds ccache. An existing link to dcc is kept; anything else of the
// same name is an error naming it, and nothing of the user's is overwritten.
func InstallLinks(dir, self string, f *wrapper.Finder) ([]Link, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	selfInfo, err := os.Stat(self)
	if err != nil {
		return nil, fmt.Errorf("stat dcc executable %s: %w", self, err)
	}
	links := CompilersInPath(f)
	if real, err := f.Find(wrapper.CcacheName); err == nil {
		// Build systems put a ccache they find in front of compiles
		// (meson does by itself): they find dcc's instead.
		links = append(links, Link{Name: wrapper.CcacheName, Real: real})
	}
	for _, l := range links {
		path := filepath.Join(dir, l.Name)
		st, err := os.Stat(path)
		switch {
		case err == nil && os.SameFile(st, selfInfo):
			continue
		case err == nil:
			return nil, fmt.Errorf("%s exists and is not a link to dcc; remove it first", path)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("check %s: %w", path, err)
		}
		if lst, lerr := os.Lstat(path); lerr == nil && lst.Mode()&fs.ModeSymlink != 0 {
			// A dangling link (say to an older dcc that moved): replace it.
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("replace dangling link %s: %w", path, err)
			}
		}
		if err := os.Symlink(self, path); err != nil {
			return nil, fmt.Errorf("link %s: %w", path, err)
		}
	}
	return links, nil
}
