//go:build !linux

package compile

import (
	"fmt"
	"os"
)

// newCapture returns a file a child process writes its stdout or stderr to
// directly: an unlinked temporary file.
func newCapture(name string) (*os.File, error) {
	f, err := os.CreateTemp("", "dcc-"+name)
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", name, err)
	}
	os.Remove(f.Name())
	return f, nil
}

// newDepsCapture: nil here, where /dev/fd/N may name the same open file
// rather than open it again; the dependency list goes to a temporary file.
func newDepsCapture() (f *os.File, name string, err error) {
	return nil, "", nil
}
