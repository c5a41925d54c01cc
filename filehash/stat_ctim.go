//go:build linux || openbsd || dragonfly || solaris || illumos

package filehash

import (
	"io/fs"
	"syscall"
	"time"
)

// keyOf returns the stat data a memoized hash is valid for.
func keyOf(fi fs.FileInfo) fileKey {
	k := fileKey{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		k.ctime = time.Unix(st.Ctim.Unix()).UnixNano()
		k.ino, k.dev = uint64(st.Ino), uint64(st.Dev)
	} else {
		k.ctime = k.mtime
	}
	return k
}
