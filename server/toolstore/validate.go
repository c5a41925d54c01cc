package toolstore

import (
	"fmt"
	"path"
	"strings"

	"github.com/dcc-build/dcc/protocol"
)

// InvalidError is an offer the store refuses: what was wrong, in one line.
type InvalidError struct{ Reason string }

// Error implements error.
func (e *InvalidError) Error() string { return e.Reason }

func invalid(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// refusedTops are the top-level directories a bundle may not have: the
// sandbox mounts its own there.
var refusedTops = []string{"dev", "proc", "tmp", "sys", "run"}

// maxPathLen bounds a bundle path or link target.
const maxPathLen = 4096

// families are the compiler families a bundle may be.
var families = []string{"gcc", "clang"}

// Validate checks an offer before anything of it is stored: a known
// family, clean absolute paths each given once, no entry below a symlink or
// a file of the bundle (so laying it out never follows a link), no
// top-level directory the sandbox mounts or that holds one of private (the
// server's own directories, bound into every sandbox at their paths), the
// driver and PATH among the entries, and at most maxBytes of files.
func Validate(o *protocol.ToolchainOffer, private []string, maxBytes int64) error {
	if o.Info.Key == "" || len(o.Info.Key) > 256 || strings.ContainsAny(o.Info.Key, "\x00\n\r") {
		return invalid("toolchain key %q refused", o.Info.Key)
	}
	if !contains(families, o.Info.Family) {
		return invalid("toolchain family %q refused: only gcc and clang toolchains are shipped", o.Info.Family)
	}
	if len(o.Files) == 0 {
		return invalid("the bundle has no files")
	}
	kinds := make(map[string]uint8, len(o.Files))
	var total int64
	for _, f := range o.Files {
		if err := checkPath("path", f.Path); err != nil {
			return err
		}
		if _, dup := kinds[f.Path]; dup {
			return invalid("bundle path %q given twice", f.Path)
		}
		kinds[f.Path] = f.Kind
		top := strings.SplitN(f.Path[1:], "/", 2)[0]
		if contains(refusedTops, top) {
			return invalid("bundle path %q refused: the sandbox mounts its own /%s", f.Path, top)
		}
		for _, p := range private {
			if strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0] == top {
				return invalid("bundle path %q refused: /%s holds this host's own directory %s", f.Path, top, p)
			}
		}
		switch f.Kind {
		case protocol.BundleRegular, protocol.BundleExec:
			if f.Size < 0 || f.Size > protocol.MaxBundleBytes {
				return invalid("bundle file %q has size %d", f.Path, f.Size)
			}
			if !strings.Contains(f.Path[1:], "/") {
				return invalid("bundle file %q refused: a file at the top of the file system", f.Path)
			}
			total += f.Size
		case protocol.BundleSymlink:
			if f.Link == "" || len(f.Link) > maxPathLen || strings.ContainsAny(f.Link, "\x00") {
				return invalid("bundle link %q refused: its target must be a path", f.Path)
			}
		case protocol.BundleDir:
		default:
			return invalid("bundle path %q has kind %d, not a file, link or directory", f.Path, f.Kind)
		}
		if f.Kind != protocol.BundleRegular && f.Kind != protocol.BundleExec && (f.Size != 0 || f.Digest != [32]byte{}) {
			return invalid("bundle entry %q is not a file but has a size or digest", f.Path)
		}
	}
	if total > maxBytes {
		return invalid("the bundle's files take %d bytes, more than this host keeps for shipped toolchains (%d)", total, maxBytes)
	}
	for _, f := range o.Files {
		for p := path.Dir(f.Path); p != "/"; p = path.Dir(p) {
			if k, ok := kinds[p]; ok && k != protocol.BundleDir {
				return invalid("bundle path %q refused: it is below %q, which is not a directory of the bundle", f.Path, p)
			}
		}
	}
	if k, ok := kinds[o.Driver]; !ok || (k != protocol.BundleExec && k != protocol.BundleSymlink) {
		return invalid("driver %q refused: it is not an executable or link of the bundle", o.Driver)
	}
	for _, d := range o.PathDirs {
		if err := checkPath("PATH directory", d); err != nil {
			return err
		}
	}
	return nil
}

// checkPath checks that p is an absolute clean path below the root.
func checkPath(what, p string) error {
	if p == "" || p == "/" || !strings.HasPrefix(p, "/") || path.Clean(p) != p || len(p) > maxPathLen ||
		strings.ContainsAny(p, "\x00\n\r") {
		return invalid("bundle %s %q refused: want an absolute, clean path below /", what, p)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
