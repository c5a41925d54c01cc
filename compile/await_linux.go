package compile

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit returns when process pid has exited, parked in the network
// poller on a pidfd (Linux 5.3 and later). Where a pidfd cannot be had, it
// returns at once and the caller's Wait blocks as usual.
func awaitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	// The first call says "not yet"; the poller then waits until the pidfd
	// is readable, which it becomes when the process exits.
	waited := false
	_ = rc.Read(func(uintptr) bool {
		done := waited
		waited = true
		return done
	})
}
