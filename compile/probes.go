package compile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/includescan"
)

// __has_include and __has_include_next make the preprocessor look for a
// file it does not read, so no dependency output or line marker names it.
// A direct-mode manifest must still notice when the answer changes: for
// every probe in the source or a header outside the compiler's own
// directories, each place the compiler looked is recorded, up to the first
// place where the name exists: absent places must stay absent, and the file
// found there keeps its digest (a probe that found a file answers false once
// it is gone). Places in the compiler's own directories count too for a
// probe written in the project's own files (a library's header installed
// later changes `__has_include(<zstd.h>)`), not for probes inside the
// compiler's own headers, which change with the compiler and the system.

// errProbeUnknown: a probe cannot be followed (a directory where a file was
// looked for, a name the scan cannot read): direct mode is not recorded.
var errProbeUnknown = errors.New("a __has_include probe the manifest cannot follow")

// probeWatch is what keeps a manifest result honest about probes: paths that
// must stay absent and files that must keep their digests.
type probeWatch struct {
	absent []string
	files  []cache.FileDigest
}

// probeCandidates lists, for every __has_include in the files the compile
// read (included, the source among them or not), the places that must stay
// as they are. isSystem tells the compiler's own directories.
func (j *job) probeCandidates(included []cache.FileDigest, builtin []string, isSystem func(abs string) bool) (probeWatch, error) {
	var w probeWatch
	files := make([]string, 0, len(included)+1)
	files = append(files, j.a.Source)
	for _, f := range included {
		if f.Path != j.a.Source {
			files = append(files, f.Path)
		}
	}
	quote := optionDirs(j.a.PreprocessorArgs, quoteDirOptions)
	dirs := j.searchDirs(builtin)
	seen := map[string]bool{}
	for _, f := range files {
		abs := resolve(j.req.Dir, f)
		if isSystem(abs) {
			continue
		}
		info, err := j.s.opts.Memo.Hash(abs)
		if err != nil {
			return w, fmt.Errorf("%s: %v: %w", f, err, errProbeUnknown)
		}
		if !info.Probes {
			continue
		}
		data, err := os.ReadFile(abs)
		if err != nil || filehash.HashBytes(data) != info.Digest {
			return w, fmt.Errorf("%s changed: %w", f, errProbeUnknown)
		}
		directives, err := includescan.Scan(data)
		if err != nil {
			return w, fmt.Errorf("%s: %v: %w", f, err, errProbeUnknown)
		}
		for _, d := range directives {
			if !d.Probe {
				continue
			}
			var places []string
			switch {
			case filepath.IsAbs(d.Name):
				places = []string{""}
			case d.Angle:
				places = dirs[len(quote):]
			default:
				places = append([]string{filepath.Dir(f)}, dirs...)
			}
			for _, place := range places {
				p := filepath.Join(place, d.Name)
				if filepath.IsAbs(d.Name) {
					p = filepath.Clean(d.Name)
				}
				if seen[p] {
					continue
				}
				seen[p] = true
				found, err := w.watch(j, p)
				if err != nil {
					return w, err
				}
				if found {
					break
				}
			}
			if len(w.absent)+len(w.files) > maxAbsent {
				return w, fmt.Errorf("more than %d places: %w", maxAbsent, errProbeUnknown)
			}
		}
	}
	return w, nil
}

// watch records what must hold of path p (as the compiler names it) and
// says whether a file is there (the search stops at it).
func (w *probeWatch) watch(j *job, p string) (found bool, err error) {
	abs := resolve(j.req.Dir, p)
	info, err := j.s.opts.Memo.Hash(abs)
	switch {
	case err == nil:
		w.files = append(w.files, cache.FileDigest{Path: p, Digest: info.Digest})
		return true, nil
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
	case errors.Is(err, filehash.ErrNotRegular):
		return false, fmt.Errorf("%s is not a regular file: %w", p, errProbeUnknown)
	default:
		return false, fmt.Errorf("%s: %v: %w", p, err, errProbeUnknown)
	}
	// Absent: the shallowest missing path on the way to it is what must
	// stay absent (a directory created later holds the file).
	clean := filepath.Clean(p)
	for q := clean; ; {
		parent := filepath.Dir(q)
		if parent == q || parent == "." || parent == "/" {
			w.absent = append(w.absent, q)
			return false, nil
		}
		if _, err := os.Lstat(resolve(j.req.Dir, parent)); err == nil {
			w.absent = append(w.absent, q)
			return false, nil
		}
		q = parent
	}
}

// inDirs returns a test of whether an absolute path lies in one of dirs (as
// given: relative to the working directory or absolute).
func (j *job) inDirs(dirs []string) func(abs string) bool {
	abss := make([]string, len(dirs))
	for i, d := range dirs {
		abss[i] = resolve(j.req.Dir, d)
	}
	return func(abs string) bool {
		for _, d := range abss {
			if _, ok := within(abs, d); ok || abs == d {
				return true
			}
		}
		return false
	}
}
