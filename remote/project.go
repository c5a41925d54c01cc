package remote

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxProjectBase bounds the base-name part of a project name.
const maxProjectBase = 64

// rootMemo remembers ProjectRoot's answers: the daemon asks for each
// compile (a project name, and the team cache's base directory), and each
// answer costs a walk up the directory tree.
var rootMemo struct {
	sync.Mutex
	m map[string]string
}

// maxRootMemo bounds rootMemo; past it the memo starts over.
const maxRootMemo = 4096

// ProjectOf returns the shared-cache namespace of the project that dir
// belongs to: $DCC_PROJECT when set, else the base name of the nearest
// ancestor of dir (dir included) holding a .git entry, else of dir itself,
// with every character outside [A-Za-z0-9._-] replaced by "_". The name
// holds no path, so that the checkouts of one project on every developer's
// machine share a namespace (entries are keyed by content, so two projects
// with one name only share what is identical, and "dcc clean --remote"
// cleans both). Symbolic links in dir are resolved when possible.
func ProjectOf(dir string) string {
	if p := os.Getenv("DCC_PROJECT"); p != "" {
		return ProjectName(p)
	}
	return projectName(ProjectRoot(dir))
}

// ProjectRoot returns the absolute directory that names dir's project: the
// nearest ancestor of dir (dir included, symbolic links resolved) holding a
// .git entry, else dir itself. Answers are remembered for the process.
func ProjectRoot(dir string) string {
	rootMemo.Lock()
	root, ok := rootMemo.m[dir]
	rootMemo.Unlock()
	if ok {
		return root
	}
	root = findProjectRoot(dir)
	rootMemo.Lock()
	if rootMemo.m == nil || len(rootMemo.m) >= maxRootMemo {
		rootMemo.m = map[string]string{}
	}
	rootMemo.m[dir] = root
	rootMemo.Unlock()
	return root
}

// findProjectRoot is ProjectRoot without the memo.
func findProjectRoot(dir string) string {
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
	base := filepath.Base(root)
	if base == string(filepath.Separator) || base == "." || base == "" {
		base = "root"
	}
	return ProjectName(base)
}

// ProjectName makes a project name the servers accept: at most 64
// characters of [A-Za-z0-9._-], others replaced by "_".
func ProjectName(base string) string {
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
	return base
}
