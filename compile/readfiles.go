package compile

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcc-build/dcc/filehash"
)

// Files that options make the compiler read besides the source and headers
// (toolchain.Analysis.ReadFiles: profile data, sample profiles, sanitizer
// and profile lists). Their content, or their absence, enters every key of
// the compile, so a new profile is a miss that gets the compiler's new
// object. A directory (gcc's -fprofile-use=DIR, where the .gcda file has a
// mangled name) counts with every file in it.

// Limits on what a directory named by an option may hold before the compile
// is not cached: hashing it is part of every lookup.
const (
	maxReadDirFiles = 4096
	maxReadDirDepth = 8
)

// errReadFiles: a file an option names cannot be hashed (unreadable, or a
// directory too large), so the compile is not cached.
var errReadFiles = errors.New("a file the compile reads cannot be put in the key")

// hashReadFiles fills j.readDigests with the name and digest (or "absent")
// of every file the options make the compiler read.
func (j *job) hashReadFiles() error {
	for _, name := range j.a.ReadFiles {
		path := resolve(j.req.Dir, name)
		info, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			j.readDigests = append(j.readDigests, "absent", name)
			continue
		case err != nil:
			return fmt.Errorf("%s: %v: %w", name, err, errReadFiles)
		case info.IsDir():
			files, err := j.dirDigests(path, 0)
			if err != nil {
				return fmt.Errorf("%s: %v: %w", name, err, errReadFiles)
			}
			j.readDigests = append(append(j.readDigests, "dir", name), files...)
			continue
		}
		h, err := j.s.opts.Memo.Hash(path)
		if err != nil {
			return fmt.Errorf("%s: %v: %w", name, err, errReadFiles)
		}
		j.readDigests = append(j.readDigests, "file", name, hex.EncodeToString(h.Digest[:]))
	}
	return nil
}

// dirDigests lists every regular file under dir (following links, as the
// compiler opening a name would) with its digest, in name order.
func (j *job) dirDigests(dir string, depth int) ([]string, error) {
	if depth > maxReadDirDepth {
		return nil, fmt.Errorf("more than %d levels of directories", maxReadDirDepth)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	if len(entries) > maxReadDirFiles {
		return nil, fmt.Errorf("more than %d files", maxReadDirFiles)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	var out []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		h, err := j.s.opts.Memo.Hash(p)
		switch {
		case errors.Is(err, filehash.ErrNotRegular):
			sub, err := j.dirDigests(p, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(append(out, "dir", e.Name()), sub...)
			out = append(out, "end")
		case err != nil:
			return nil, err
		default:
			out = append(out, e.Name(), hex.EncodeToString(h.Digest[:]))
		}
		if len(out) > 3*maxReadDirFiles {
			return nil, fmt.Errorf("more than %d files", maxReadDirFiles)
		}
	}
	return out, nil
}
