//go:build unix

package badgerstore

import (
	"fmt"
	"os"

	"github.com/dcc-build/dcc/filelock"
)

// lockDir takes the lock Badger itself takes on an open database's
// directory (flock on the directory), and returns the function that drops
// it. It fails when another process has the database open.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	held, err := filelock.TryExclusive(f)
	if err != nil || !held {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		return nil, fmt.Errorf("another process has the cache database %s open", dir)
	}
	return func() { f.Close() }, nil
}
