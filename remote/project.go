package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxProjectBase bounds the base-name part of a project name.
const maxProjectBase = 64

// projectMemo remembers ProjectOf's answers: the daemon asks once per compile.
var projectMemo struct {
	sync.Mutex
	m map[string]string
}

// maxProjectMemo bounds projectMemo; past it the memo starts over.
const maxProjectMemo = 4096

// ProjectOf returns the shared-cache namespace of the project that dir
// belongs to: the nearest ancestor of dir (dir included) holding a .git
// entry, else dir itself, named "<base name>-<first 12 hex digits of the
// SHA-256 of its absolute path>", with every character outside
// [A-Za-z0-9._-] replaced by "_". Symbolic links in dir are resolved when
// possible, so that two paths to one project agree.
func ProjectOf(dir string) string {
	projectMemo.Lock()
	name, ok := projectMemo.m[dir]
	projectMemo.Unlock()
	if ok {
		return name
	}
	name = projectName(projectRoot(dir))
	projectMemo.Lock()
	if projectMemo.m == nil || len(projectMemo.m) >= maxProjectMemo {
		projectMemo.m = map[string]string{}
	}
	projectMemo.m[dir] = name
	projectMemo.Unlock()
	return name
}

// projectRoot returns the absolute directory that names dir's project.
func projectRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = filepath.Clean(dir)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for d := abs; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return abs
		}
		d = parent
	}
}

// projectName names the project rooted at the absolute directory root.
func projectName(root string) string {
	sum := sha256.Sum256([]byte(root))
	base := filepath.Base(root)
	if base == string(filepath.Separator) || base == "." || base == "" {
		base = "root"
	}
	if len(base) > maxProjectBase {
		base = base[:maxProjectBase]
	}
	base = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, base)
	if strings.HasPrefix(base, ".") {
		base = "_" + base[1:]
	}
	return base + "-" + hex.EncodeToString(sum[:6])
}
