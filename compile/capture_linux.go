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

// newDepsCapture returns a file a compiler writes the dependency list dcc
// asks for to, and the name the compiler opens it by when it is the child's
// first extra descriptor (runProcess's extra): an anonymous memory file,
// which gcc and clang open again through /dev/fd/3. No file is created in
// the cache's directory and removed again for every compile (on ext4, a
// tenth of the daemon's CPU per compile).
func newDepsCapture() (f *os.File, name string, err error) {
	f, err = newCapture("deps")
	return f, "/dev/fd/3", err
}
