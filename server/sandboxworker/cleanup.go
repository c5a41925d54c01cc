package sandboxworker

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// reapLimit bounds how long the processes a job left behind may take to
// die; past it the worker exits, and the kernel kills them with the
// namespace.
const reapLimit = 10 * time.Second

// killRest kills every process of the namespace but this one (what the
// job left running) and reaps them all.
func killRest() error {
	t := time.AfterFunc(reapLimit, func() {
		fmt.Fprintln(os.Stderr, "sandbox worker: a job's processes did not die: giving up the slot")
		os.Exit(3)
	})
	defer t.Stop()
	if err := syscall.Kill(-1, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("kill what the job left: %w", err)
	}
	for {
		_, err := syscall.Wait4(-1, nil, 0, nil)
		switch err {
		case nil, syscall.EINTR:
		case syscall.ECHILD:
			return nil
		default:
			return fmt.Errorf("reap what the job left: %w", err)
		}
	}
}

// skeleton is what the writable places held when the worker started: the
// directories bubblewrap made as mount points (a toolchain installed under
// /tmp is bound read-only at its path) and the mounts themselves, which
// stay; anything else a job made goes.
type skeleton struct {
	roots []string
	// entries maps each path present at start to its identity and mode.
	entries map[string]skeletonEntry
}

// skeletonEntry is a path's identity (device, inode) and mode at start.
type skeletonEntry struct {
	dev, ino uint64
	mode     uint32
	// mount: on another file system than its root (a bound directory),
	// never entered.
	mount bool
}

// takeSkeleton records what roots hold now.
func takeSkeleton(roots []string) (*skeleton, error) {
	sk := &skeleton{roots: roots, entries: map[string]skeletonEntry{}}
	for _, root := range roots {
		var rootDev uint64
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				if p == root && errors.Is(err, os.ErrNotExist) {
					return filepath.SkipDir
				}
				return err
			}
			var st syscall.Stat_t
			if err := syscall.Lstat(p, &st); err != nil {
				return err
			}
			if p == root {
				rootDev = st.Dev
			}
			e := skeletonEntry{dev: st.Dev, ino: st.Ino, mode: st.Mode, mount: st.Dev != rootDev}
			sk.entries[p] = e
			if e.mount && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("look at %s: %w", root, err)
		}
	}
	return sk, nil
}

// restore removes from the roots whatever was not there at start and
// gives what was its mode back: what a job wrote to the namespace's own
// /tmp, /dev/shm and /dev/mqueue is not seen by the next.
func (sk *skeleton) restore() error {
	for _, root := range sk.roots {
		if _, ok := sk.entries[root]; ok {
			if err := sk.restoreDir(root); err != nil {
				return err
			}
		}
	}
	return nil
}

// restoreDir restores dir, a directory of the skeleton, and what is in it.
func (sk *skeleton) restoreDir(dir string) error {
	if err := sk.restoreMode(dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("empty %s: %w", dir, err)
	}
	for _, d := range entries {
		p := filepath.Join(dir, d.Name())
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
		e, ok := sk.entries[p]
		switch {
		case ok && e.dev == st.Dev && e.ino == st.Ino:
			if e.mount {
				continue
			}
			if d.IsDir() {
				if err := sk.restoreDir(p); err != nil {
					return err
				}
			} else if err := sk.restoreMode(p); err != nil {
				return err
			}
		default:
			if err := removeAll(p); err != nil {
				return fmt.Errorf("empty %s: %w", dir, err)
			}
		}
	}
	return nil
}

// restoreMode gives p its mode at start back.
func (sk *skeleton) restoreMode(p string) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return fmt.Errorf("restore %s: %w", p, err)
	}
	if e := sk.entries[p]; st.Mode != e.mode && st.Mode&syscall.S_IFMT != syscall.S_IFLNK {
		if err := os.Chmod(p, os.FileMode(e.mode&0o777)|modeBits(e.mode)); err != nil {
			return fmt.Errorf("restore the mode of %s: %w", p, err)
		}
	}
	return nil
}

// modeBits turns a stat mode's setuid, setgid and sticky bits into
// os.FileMode's.
func modeBits(m uint32) os.FileMode {
	var f os.FileMode
	if m&syscall.S_ISUID != 0 {
		f |= os.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		f |= os.ModeSetgid
	}
	if m&syscall.S_ISVTX != 0 {
		f |= os.ModeSticky
	}
	return f
}

// removeAll removes p, opening up first the directories a job made
// unwritable.
func removeAll(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	_ = filepath.WalkDir(p, func(q string, d os.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			_ = os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}

// sysvIPC are the tables of the namespace's System V IPC objects.
var sysvIPC = []string{"/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg"}

// checkIPC fails when a job left System V IPC objects in the namespace
// (compilers make none): the slot is then given up rather than cleaned.
func checkIPC() error {
	for _, table := range sysvIPC {
		b, err := os.ReadFile(table)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return fmt.Errorf("read %s: %w", table, err)
		}
		// A header line, then one line per object.
		if lines := bytes.Count(bytes.TrimSpace(b), []byte("\n")); lines > 0 {
			return fmt.Errorf("a job left %d System V IPC objects (%s)", lines, filepath.Base(table))
		}
	}
	return nil
}
