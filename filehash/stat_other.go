//go:build !(linux || openbsd || dragonfly || solaris || illumos || darwin || freebsd || netbsd || ios)

package filehash

import "io/fs"

// keyOf returns the stat data a memoized hash is valid for. Without a Unix
// stat there is no ctime or inode: size and mtime only, as ccache on Windows.
func keyOf(fi fs.FileInfo) fileKey {
	t := fi.ModTime().UnixNano()
	return fileKey{size: fi.Size(), mtime: t, ctime: t}
}
