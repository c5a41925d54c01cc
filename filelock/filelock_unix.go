//go:build unix

package filelock

import (
	"errors"
	"os"
	"syscall"
)

// TryExclusive takes an exclusive lock on f without waiting. held is false,
// with no error, when another open file holds it.
func TryExclusive(f *os.File) (held bool, err error) {
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return false, nil
	default:
		return false, err
	}
}
