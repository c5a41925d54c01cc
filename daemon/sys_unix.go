//go:build unix

package daemon

import (
	"fmt"
	"os"
	"syscall"

	"github.com/dcc-build/dcc/filelock"
)

// fileLock is an exclusive flock(2) on an open file; closing the file (or the
// process ending) releases it. flock locks belong to the open file, so two
// opens in one process exclude each other as two processes do.
type fileLock struct {
	f *os.File
}

// tryLock takes an exclusive lock on path (created 0600 if missing) without
// waiting; ok is false when someone else holds it.
func tryLock(path string) (l *fileLock, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("open lock file: %w", err)
	}
	held, err := filelock.TryExclusive(f)
	if err != nil || !held {
		f.Close()
		if err != nil {
			return nil, false, fmt.Errorf("lock %s: %w", path, err)
		}
		return nil, false, nil
	}
	return &fileLock{f: f}, true, nil
}

// unlock releases the lock.
func (l *fileLock) unlock() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("release lock %s: %w", l.f.Name(), err)
	}
	return nil
}

// ownedByMe reports whether fi belongs to this process's user.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// detached returns the attributes that start a process in a session of its
// own, out of reach of the terminal's signals and of make's process group.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

// maxInheritedFD is the highest descriptor closeOnExecAll looks at.
const maxInheritedFD = 1024

// closeOnExecAll marks every open descriptor above stderr close-on-exec, so
// that a child started now inherits only what exec.Cmd passes it, and
// returns the function that restores the marks it changed (the process may
// still exec a compiler that needs, say, make's jobserver descriptors). Go
// opens its own files close-on-exec; the ones without it were inherited.
func closeOnExecAll() (restore func()) {
	var changed []int
	for fd := 3; fd < maxInheritedFD; fd++ {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if errno != 0 || flags&syscall.FD_CLOEXEC != 0 {
			continue
		}
		syscall.CloseOnExec(fd)
		changed = append(changed, fd)
	}
	return func() {
		for _, fd := range changed {
			syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0)
		}
	}
}
