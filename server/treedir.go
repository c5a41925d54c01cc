package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
)

// Where the trees of jobs compiled from their sources go. A tree is a
// hundred files and a score of directories per job; on a busy ext4 file
// system creating their inodes cost the server more CPU than the compile
// (find_inode_bit in perf profiles), while on tmpfs it costs next to
// nothing. So by default the trees go to a directory of this server's own
// under /dev/shm when there is one, else to the workdir.

// shmDir is the tmpfs most Linux systems mount.
const shmDir = "/dev/shm"

// defaultTreeDir returns the directory for the trees of the server whose
// real workdir is workdir: a private directory under /dev/shm named after
// the user and the workdir, when it can be made safely, else workdir.
func defaultTreeDir(workdir string) string {
	if runtime.GOOS != "linux" {
		return workdir
	}
	if info, err := os.Stat(shmDir); err != nil || !info.IsDir() {
		return workdir
	}
	dir := ShmTreeDir(workdir)
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := privateDir(d); err != nil {
			return workdir
		}
	}
	return dir
}

// ShmTreeDir is the directory under /dev/shm where a server whose real
// workdir is workdir lays out the trees of jobs compiled from their
// sources, when it can. A server removes it when it stops; one killed
// leaves it, and the next server with that workdir removes trees left
// there an hour later.
func ShmTreeDir(workdir string) string {
	sum := sha256.Sum256([]byte(workdir))
	return filepath.Join(shmDir, "dcc-server-"+strconv.Itoa(os.Getuid()), hex.EncodeToString(sum[:6]))
}

// privateDir makes dir (mode 0700) if needed and checks that it is a real
// directory of this user that nobody else may write (others may traverse it): /dev/shm is shared,
// and a directory someone else made there in advance must not receive jobs.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case !info.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case !ok || int(st.Uid) != os.Getuid():
		return fmt.Errorf("%s belongs to another user", dir)
	case info.Mode().Perm()&0o022 != 0:
		// 0711 is allowed: a sandboxed job's user traverses it.
		return fmt.Errorf("%s is open to other users", dir)
	}
	return nil
}

// varTmpDir is the persistent directory every user may write, where a
// server running as root keeps the toolchains clients ship by default:
// the job user must traverse the path to them, which a home directory
// (0700) forbids.
const varTmpDir = "/var/tmp"

// SharedToolchainDir is the directory where a server running as root,
// whose real workdir is workdir, keeps shipped toolchains unless its
// config names one: a private directory under /var/tmp named after the
// user and the workdir, which others may traverse but not list.
func SharedToolchainDir(workdir string) string {
	sum := sha256.Sum256([]byte(workdir))
	return filepath.Join(varTmpDir, "dcc-server-"+strconv.Itoa(os.Getuid()), hex.EncodeToString(sum[:6]), "toolchains")
}

// reachableBy reports the first directory of dir and its ancestors that
// other users (the job user) may not traverse, or "".
func reachableBy(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		info, err := os.Stat(d)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return d
		}
		if d == "/" {
			return ""
		}
	}
}
