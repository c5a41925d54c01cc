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
