package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dcc-build/dcc/protocol"
)

// Job directories, and how a job's command is made. A job runs in its own
// directory (job-*, its input, object and temporary files) and, when sent
// with its sources, reads its tree (tree-*/root). Sandboxed as another user
// (the server runs as root), the job's user must reach both through
// bubblewrap's binds, so both go under the tree directory, which that user
// may traverse but not list (0711); the job directory belongs to that user.

// jobsParent returns where the job directories go: the workdir, or the tree
// directory when jobs run as another user, which must then reach them.
func (r *Runner) jobsParent() (string, error) {
	sb := r.opts.sandbox
	if sb == nil || !sb.dropsUser() {
		return r.workdir, nil
	}
	dirs := []string{r.treeDir}
	if r.opts.TreeDir == "" && r.treeDir != r.workdir {
		dirs = append(dirs, filepath.Dir(r.treeDir)) // ShmTreeDir's own parent
	}
	for _, d := range dirs {
		if err := os.Chmod(d, 0o711); err != nil {
			return "", fmt.Errorf("server: let the job user %s reach %s: %w", sb.user, d, err)
		}
	}
	return r.treeDir, nil
}

// newJobDir creates a job directory under parent: the job's user's own
// when it is not the server's (sb is nil without a sandbox).
func newJobDir(sb *sandbox, parent string) (string, error) {
	dir, err := os.MkdirTemp(parent, "job-")
	if err != nil {
		return "", fmt.Errorf("create job directory: %w", err)
	}
	if sb != nil && sb.dropsUser() {
		if err := os.Chown(dir, int(sb.cred.Uid), int(sb.cred.Gid)); err != nil {
			os.Remove(dir)
			return "", fmt.Errorf("give the job directory to user %s: %w", sb.user, err)
		}
	}
	return dir, nil
}

// newTreeDir creates the parent of a job's tree under parent, which the
// job's user may traverse when it is not the server's.
func (r *Runner) newTreeDir(parent string) (string, error) {
	dir, err := os.MkdirTemp(parent, "tree-")
	if err != nil {
		return "", fmt.Errorf("create the job's tree: %w", err)
	}
	if sb := r.opts.sandbox; sb != nil && sb.dropsUser() {
		if err := os.Chmod(dir, 0o711); err != nil {
			os.Remove(dir)
			return "", fmt.Errorf("open the job's tree to user %s: %w", sb.user, err)
		}
	}
	return dir, nil
}

// newSandboxedRunner makes the runner of a server with configuration cfg:
// with the sandbox of cfg, tried once (an error says why it does not work
// and how to allow it), unless cfg turns it off.
func newSandboxedRunner(ctx context.Context, cfg *Config, opts RunnerOptions) (*Runner, error) {
	if cfg.Sandbox.Off {
		opts.Logger.Warn("jobs run WITHOUT a sandbox (sandbox = \"off\"): a client can read what this server's user can read")
		return NewRunner(opts)
	}
	sb, err := newSandbox(cfg.Sandbox, opts.JobTimeout, opts.Toolchains.Installed())
	if err != nil {
		return nil, fmt.Errorf("%w; or set sandbox = \"off\" in %s to run jobs without one", err, cfg.File)
	}
	opts.sandbox = sb
	r, err := NewRunner(opts)
	if err != nil {
		return nil, err
	}
	if r.boxes, err = newSlotPool(sb, r.jobDir, r.treeDir, opts.Logger); err != nil {
		r.Close()
		return nil, err
	}
	if err := sb.check(ctx, r.boxes, cfg.File); err != nil {
		r.Close()
		return nil, err
	}
	if r.ship, err = newShipper(r, cfg); err != nil {
		r.Close()
		return nil, err
	}
	as := "the server's user"
	if sb.dropsUser() {
		as = "user " + sb.user
	}
	opts.Logger.Info("jobs run in a sandbox", "bwrap", sb.bwrap, "as", as, "cpu", sb.cpu,
		"memory", FormatSize(sb.cfg.Memory), "file_size", FormatSize(sb.cfg.FileSize), "processes", sb.cfg.Processes)
	return r, nil
}

// Sandboxed reports whether jobs run in a sandbox.
func (r *Runner) Sandboxed() bool { return r.opts.sandbox != nil }

// openJobFile opens a file the job wrote in its directory: a regular file,
// not a symlink (the server, perhaps root, would follow it to a host file
// the job cannot read) nor a FIFO or device (which would block or never end).
func openJobFile(name string) (*os.File, error) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if err == syscall.ELOOP {
			return nil, fmt.Errorf("%s is a symbolic link, not a file the compiler wrote", filepath.Base(name))
		}
		return nil, &os.PathError{Op: "open", Path: filepath.Base(name), Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is a %s, not a file the compiler wrote", filepath.Base(name), fileKind(info.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readJobFile reads a file the job wrote in its directory (see openJobFile).
func readJobFile(name string) ([]byte, error) {
	f, err := openJobFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, protocol.MaxMessageSize))
}

// fileKind names the kind of a file that is not a regular one.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
