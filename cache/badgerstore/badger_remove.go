package badgerstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Remove deletes the database in dir, whatever state it is in (a database
// that no longer opens included), leaving dir empty. It refuses while
// another process has the database open.
func Remove(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cache: remove the database: %w", err)
	case !fi.IsDir():
		// Not a database at all: what stands in its place goes.
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("cache: remove the database: %w", err)
		}
		return nil
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("cache: remove the database: %w", err)
	}
	defer unlock()
	names, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cache: remove the database: %w", err)
	}
	for _, e := range names {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("cache: remove the database: %w", err)
		}
	}
	return nil
}
