package ship

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/dcc-build/dcc/protocol"
)

// maxLinks bounds the symlinks followed to resolve one path.
const maxLinks = 40

// entries collects a bundle's entries as the kernel finds them: a path
// through a symlink adds the link and the path it leads to, so that no
// entry is below a link (protocol.BundleFile).
type entries struct {
	files map[string]protocol.BundleFile
	// local are the files to read, by path (all regular files).
	regular []string
}

func newEntries() *entries { return &entries{files: map[string]protocol.BundleFile{}} }

// add adds the file the absolute path p leads to, every symlink on the
// way, and returns the file's own path (no link in it).
func (e *entries) add(p string) (string, error) {
	return e.resolve(p, 0)
}

// resolve walks p component by component from the root as the kernel
// does: ".." goes to the parent of the directory reached so far (after
// its links), a link is recorded and its target walked in its place.
func (e *entries) resolve(p string, links int) (string, error) {
	if !path.IsAbs(p) {
		return "", fmt.Errorf("%s: not an absolute path", p)
	}
	cur := "/"
	comps := strings.Split(p, "/")
	for i, c := range comps {
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		info, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if links >= maxLinks {
				return "", fmt.Errorf("%s: too many levels of symbolic links", p)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			e.files[next] = protocol.BundleFile{Path: next, Kind: protocol.BundleSymlink, Link: target}
			rest := strings.Join(comps[i+1:], "/")
			base := target
			if !path.IsAbs(target) {
				base = cur + "/" + target
			}
			return e.resolve(base+"/"+rest, links+1)
		case info.IsDir():
			cur = next
		case info.Mode().IsRegular():
			if i != len(comps)-1 && strings.Trim(strings.Join(comps[i+1:], ""), "/") != "" {
				return "", fmt.Errorf("%s: %s is not a directory", p, next)
			}
			if _, ok := e.files[next]; !ok {
				kind := uint8(protocol.BundleRegular)
				if info.Mode()&0o111 != 0 {
					kind = protocol.BundleExec
				}
				e.files[next] = protocol.BundleFile{Path: next, Kind: kind, Size: info.Size()}
				e.regular = append(e.regular, next)
			}
			return next, nil
		default:
			return "", fmt.Errorf("%s: not a regular file, directory or link", next)
		}
	}
	return cur, nil
}

// addDir adds the directory p leads to, with every regular file directly
// in it, and the links on the way.
func (e *entries) addDir(p string) error {
	real, err := e.add(p)
	if err != nil {
		return err
	}
	list, err := os.ReadDir(real)
	if err != nil {
		return err
	}
	for _, ent := range list {
		if ent.Type().IsRegular() {
			if _, err := e.add(path.Join(real, ent.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// addEmptyDir adds the directory p leads to as an entry of its own (with
// none of its files), and the links on the way.
func (e *entries) addEmptyDir(p string) error {
	real, err := e.add(p)
	if err != nil {
		return err
	}
	if info, err := os.Stat(real); err != nil || !info.IsDir() {
		return fmt.Errorf("%s is not a directory", real)
	}
	if _, ok := e.files[real]; !ok && real != "/" {
		e.files[real] = protocol.BundleFile{Path: real, Kind: protocol.BundleDir}
	}
	return nil
}
