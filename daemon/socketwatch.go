package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// socketGone says why the daemon no longer owns its socket path: the file
// was removed (rm -rf of $DCC_DIR, as users reset a cache) or replaced (a
// new daemon started in a new directory at the same place), or nil while
// the path is still the socket the daemon listens on (orig).
func socketGone(path string, orig os.FileInfo) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("its socket %s was removed", path)
	case err != nil:
		return nil // cannot tell: keep serving
	case orig != nil && !os.SameFile(fi, orig):
		return fmt.Errorf("its socket %s was replaced", path)
	}
	return nil
}

// closeWithin calls closeFn and waits for it up to d; past d it returns an
// error and leaves closeFn running (the process is exiting).
func closeWithin(d time.Duration, closeFn func() error) error {
	done := make(chan error, 1)
	go func() { done <- closeFn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("%w after %s", errCloseTimeout, d)
	}
}

// errCloseTimeout: the backend did not close in time (its files were
// removed or its disk is failing); the daemon exits without it.
var errCloseTimeout = errors.New("the cache did not close")
