package compile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// newCapture returns a file a child process writes its stdout or stderr to
// directly: an anonymous memory file. Unlike a pipe, it needs no goroutine
// copying the output while the child runs, and no wake-ups (a daemon runs
// several compilers at once, most of them printing nothing).
func newCapture(name string) (*os.File, error) {
	fd, err := unix.MemfdCreate("dcc-"+name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), "dcc-"+name), nil
}

// newReopenable returns a file a child process opens again by the name
// extraName gives it among runProcess's extra descriptors, and writes or
// reads as a file of its own: an anonymous memory file, which /dev/fd/N
// opens anew (own offset, O_TRUNC honoured). No file is created on disk and
// removed again for every compile (on ext4, a tenth of the daemon's CPU per
// compile).
func newReopenable(name string) (*os.File, error) {
	return newCapture(name)
}
