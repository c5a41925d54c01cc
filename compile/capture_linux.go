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
