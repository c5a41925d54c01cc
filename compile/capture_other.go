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

// newReopenable: nil here, where /dev/fd/N names the same open file (its
// offset shared) rather than opening it anew; callers fall back to files on
// disk, or to gcc's driver.
func newReopenable(name string) (*os.File, error) {
	return nil, nil
}
