//go:build !unix

package badgerstore

// lockDir is a no-op where Badger's directory lock is not a flock.
func lockDir(string) (unlock func(), err error) { return func() {}, nil }
