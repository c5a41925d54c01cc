// Package wrapper is dcc's front door for compiles: it tells masquerade use
// (dcc started as "gcc") from prefix use ("dcc gcc ..."), finds the real
// compiler in PATH without ever finding dcc again, and hands the command to it
// unchanged.
package wrapper

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrNotFound is returned when no real compiler of the wanted name exists in PATH
// once dcc's own links (and programs already started in this chain) are skipped.
var ErrNotFound = errors.New("not found in PATH")

// Finder looks up real compilers. Its zero value is not usable; see NewFinder.
type Finder struct {
	// Path is the PATH to search, in the OS's list syntax.
	Path string
	// Self is dcc's own executable; entries that are the same file are skipped.
	Self os.FileInfo
	// Chain lists real programs dcc has already started in this process chain
	// (from the guard marker); entries resolving to them are skipped too.
	Chain []string
}

// NewFinder returns a Finder for the given PATH, skipping the running executable
// and every program already in chain.
func NewFinder(path string, chain []string) (*Finder, error) {
	exe, err := executable()
	if err != nil {
		return nil, fmt.Errorf("find dcc's own executable: %w", err)
	}
	self, err := os.Stat(exe)
	if err != nil {
		return nil, fmt.Errorf("stat dcc's own executable %s: %w", exe, err)
	}
	return &Finder{Path: path, Self: self, Chain: chain}, nil
}

// Find returns the path of the real compiler for name. A name with a slash is
// used as given unless it is dcc itself (a masquerade link named explicitly, as
// in CC=/usr/lib/dcc/gcc), in which case its base name is searched in PATH.
func (f *Finder) Find(name string) (string, error) {
	if strings.ContainsRune(name, '/') {
		if !f.skip(name) {
			if _, err := os.Stat(name); err != nil {
				return "", fmt.Errorf("compiler %s: %w", name, err)
			}
			return name, nil
		}
		name = filepath.Base(name)
	}
	for _, dir := range filepath.SplitList(f.Path) {
		if dir == "" {
			dir = "."
		}
		candidate := filepath.Join(dir, name)
		st, err := os.Stat(candidate)
		if err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
			continue
		}
		if f.skip(candidate) {
			continue
		}
		return candidate, nil
	}
	return "", fmt.Errorf("%s: %w (dcc's own links skipped)", name, ErrNotFound)
}

// skip reports whether path resolves to dcc itself or to a program already
// started in this chain.
func (f *Finder) skip(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	if os.SameFile(st, f.Self) {
		return true
	}
	for _, prev := range f.Chain {
		if pst, err := os.Stat(prev); err == nil && os.SameFile(st, pst) {
			return true
		}
	}
	return false
}

// executable is dcc's own path, read once per process: dispatch, the PATH
// lookup and the daemon's location all need it on every compile.
var executable = sync.OnceValues(os.Executable)

// Executable returns dcc's own executable: the running program's, or the
// one SetExecutable named.
func Executable() (string, error) { return executable() }

// SetExecutable names dcc's executable for this process: dccd runs dcc's
// subcommands on its behalf ("dcc install-links" links to dcc, and the PATH
// lookup skips dcc, not dccd).
func SetExecutable(path string) {
	executable = func() (string, error) { return path, nil }
}
