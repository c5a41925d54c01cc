package compile

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/dcc-build/dcc/cache"
)

// minFreeSpace is the free space the cache's file system must keep beyond
// what a write adds. Badger writes its value log and memtables through
// memory maps, and a write there that meets a full disk kills the daemon
// (SIGBUS) instead of failing; below this, dcc stores nothing.
const minFreeSpace = 64 << 20

// errDiskFull: the cache's file system is (nearly) full; nothing was stored.
var errDiskFull = errors.New("the cache's file system is nearly full")

// checkRoom returns errDiskFull when the cache's file system has less than
// minFreeSpace free beyond twice n bytes (the value and its compaction).
// When the free space cannot be read, the write goes ahead.
func (s *Service) checkRoom(n int64) error {
	if s.opts.CacheDir == "" {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.opts.CacheDir, &st); err != nil {
		return nil
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if free < minFreeSpace+2*n {
		return fmt.Errorf("%w: %d bytes free in %s", errDiskFull, free, s.opts.CacheDir)
	}
	return nil
}

// entrySize is about what an entry takes before compression.
func entrySize(e cache.Entry) int64 {
	n := int64(len(e.Stdout) + len(e.Stderr))
	for k, v := range e.Files {
		n += int64(len(k) + len(v))
	}
	return n
}
