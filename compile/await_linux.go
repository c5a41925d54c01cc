package compile

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// awaitRecheck bounds how long awaitExit trusts the poller: past it, the
// process's state is read again whatever the poller said, so a missed
// wake-up costs at most this long, never a hang; rarely, since every
// recheck wakes the daemon (and the runtime monitor with it).
const awaitRecheck = 250 * time.Millisecond

// awaitExit returns when process pid has exited (not yet reaped: the
// caller's Wait does that), parked in the network poller on a pidfd instead
// of a thread blocked in wait: a goroutine blocked in a system call for a
// whole compile keeps the Go runtime's monitor waking every 20 µs to take
// its processor back. Where a pidfd cannot be had (Linux before 5.3), it
// returns at once and Wait blocks as usual.
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
	for {
		if err := f.SetReadDeadline(time.Now().Add(awaitRecheck)); err != nil {
			return // not in the poller: Wait blocks
		}
		err := rc.Read(func(fd uintptr) bool { return exited(int(fd)) })
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
	}
}

// exited reports whether the process of a pidfd has exited (or cannot be
// asked about), without reaping it.
func exited(pidfd int) bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	return err != nil || info.Signo != 0
}
