//go:build !linux

package compile

// awaitExit does nothing here: the caller's Wait blocks as usual.
func awaitExit(int) {}
