//go:build !unix

package daemon

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileLock is not available here: the daemon needs flock(2).
type fileLock struct {
	f *os.File
}

// tryLock reports that file locks are unsupported on this system, so the
// daemon is never started and wrappers compile directly.
func tryLock(path string) (*fileLock, bool, error) {
	return nil, false, fmt.Errorf("lock %s: %w", path, errors.ErrUnsupported)
}

// unlock releases the lock.
func (l *fileLock) unlock() error {
	return l.f.Close()
}

// ownedByMe reports whether fi belongs to this process's user; without Unix
// ownership everything counts as ours.
func ownedByMe(fi os.FileInfo) bool {
	return true
}

// detached returns the attributes for a daemon process: none here.
func detached() *syscall.SysProcAttr {
	return nil
}

// closeOnExecAll does nothing here: the system has no inherited descriptors
// to worry about.
func closeOnExecAll() (restore func()) {
	return func() {}
}
