//go:build unix

package badgerstore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes the lock Badger itself takes on an open database's
// directory (flock on the directory), and returns the function that drops
// it. It fails when another process has the database open.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another process has the cache database %s open", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
