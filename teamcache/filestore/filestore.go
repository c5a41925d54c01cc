// Package filestore is a teamcache.Backend in a directory, such as an NFS
// or SMB mount many clients share (remote_storage "file:/shared/dir"):
// each entry is a file named by its key under a directory of the key's
// first two digits, written to a temporary file in that directory and
// renamed over the old one, so that readers on any client see a whole
// entry or none.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Store is a directory of entries.
type Store struct {
	dir string
}

// New returns the store in dir, which must exist (a mount that is not
// there is an error, not a new empty directory on the local disk).
func New(dir string) (*Store, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("file storage %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("file storage %s: not a directory", dir)
	}
	return &Store{dir: dir}, nil
}

// path returns the file of key, refusing a key that is not lowercase hex
// of at least three digits (it would name another file).
func (s *Store) path(key string) (string, error) {
	if len(key) < 3 || strings.Trim(key, "0123456789abcdef") != "" {
		return "", fmt.Errorf("file storage: key %q is not a hex digest", key)
	}
	return filepath.Join(s.dir, key[:2], key), nil
}

// Get implements teamcache.Backend.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("file storage: %w", err)
	}
	return b, true, nil
}

// Put implements teamcache.Backend.
func (s *Store) Put(ctx context.Context, key string, entry []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("file storage: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+key+"-")
	if err != nil {
		return fmt.Errorf("file storage: %w", err)
	}
	_, err = tmp.Write(entry)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("file storage: %w", err)
	}
	return nil
}
