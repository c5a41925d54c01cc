package badgerstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
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

// SetAside renames the database in dir, one that does not open, to a name
// of its own next to it (dir.damaged-TIME) and returns that name, so that a
// new database can start in dir while the old one is kept for inspection.
// It refuses while another process has the database open.
func SetAside(dir string) (string, error) {
	unlock, err := lockDir(dir)
	if err != nil {
		return "", fmt.Errorf("cache: set the database aside: %w", err)
	}
	defer unlock()
	aside := dir + ".damaged-" + time.Now().UTC().Format("20060102T150405.000")
	if err := os.Rename(dir, aside); err != nil {
		return "", fmt.Errorf("cache: set the database aside: %w", err)
	}
	return aside, nil
}
