//go:build !linux

package compile

import "os"

// replaceWith moves the file tmp to path atomically.
func replaceWith(tmp, path string) error {
	return os.Rename(tmp, path)
}
