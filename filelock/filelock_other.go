//go:build !unix

package filelock

import (
	"errors"
	"os"
)

// TryExclusive is not supported here.
func TryExclusive(f *os.File) (held bool, err error) {
	return false, errors.ErrUnsupported
}
