package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxSocketPath is the longest Unix socket path Linux accepts (sun_path holds
// 108 bytes with the terminating NUL).
const maxSocketPath = 107

// ServerOptions configure a daemon.
type ServerOptions struct {
	// SocketPath is the Unix socket to listen on (required). Its directory is
	// created 0700 if missing; the socket is made 0600; the pid file is
	// PIDPath(SocketPath).
	SocketPath string
	// IdleTimeout is how long the daemon runs with no request in flight and
	// no new connection before it exits; 0 or less means never.
	IdleTimeout time.Duration
	// Logger receives the daemon's log; nil discards it.
	Logger *slog.Logger
	// BuildID identifies this build of dcc in the handshake (see
	// ExecutableBuildID).
	BuildID string
	// ShutdownGrace is how long a stopping daemon lets requests in flight
	// finish before cancelling them (0: DefaultShutdownGrace).
	ShutdownGrace time.Duration
	// HandshakeTimeout bounds a new connection's handshake (0: DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// WriteTimeout bounds the write of one reply (0: DefaultWriteTimeout).
	WriteTimeout time.Duration
	// LockWait bounds the wait for an exiting daemon to release the pid
	// file (0: DefaultLockWait).
	LockWait time.Duration
	// CloseTimeout bounds closing the backend on the way out (0:
	// DefaultCloseTimeout).
	CloseTimeout time.Duration
}

// checkSocketPath fails, saying what to do, for a socket path longer than
// a Unix socket address holds (connect and bind would say only "invalid
// argument").
func checkSocketPath(path string) error {
	if len(path) > maxSocketPath {
		return fmt.Errorf("daemon: socket path %s is %d bytes long, over the limit of %d: set a shorter DCC_DIR", path, len(path), maxSocketPath)
	}
	return nil
}

// withDefaults validates o and fills in its zero durations.
func (o ServerOptions) withDefaults() (ServerOptions, error) {
	if o.SocketPath == "" {
		return o, errors.New("daemon: no socket path")
	}
	if err := checkSocketPath(o.SocketPath); err != nil {
		return o, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ShutdownGrace, DefaultShutdownGrace)
	def(&o.HandshakeTimeout, DefaultHandshakeTimeout)
	def(&o.WriteTimeout, DefaultWriteTimeout)
	def(&o.LockWait, DefaultLockWait)
	def(&o.CloseTimeout, DefaultCloseTimeout)
	return o, nil
}

// Listener is a daemon that owns its socket but serves nothing yet: it holds
// the pid file's lock, so no other daemon can start on the same socket. Take
// it before opening the cache, so that a daemon still closing the cache is
// waited for rather than raced.
type Listener struct {
	opts ServerOptions
	ln   *net.UnixListener
	pid  *fileLock
	// sock is the socket file as created, to tell when it goes.
	sock os.FileInfo
}

// Listen claims opts.SocketPath for a new daemon. If a daemon answers on the
// socket it fails with ErrAlreadyRunning; if one is exiting (its pid file is
// still locked but it no longer answers) it waits up to opts.LockWait for it.
// A stale socket file left by a dead daemon is replaced; any other file in
// the way is an error.
func Listen(ctx context.Context, opts ServerOptions) (*Listener, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := privateDir(filepath.Dir(opts.SocketPath)); err != nil {
		return nil, err
	}
	pid, err := claimPIDFile(ctx, opts)
	if err != nil {
		return nil, err
	}
	ln, err := listenSocket(opts.SocketPath)
	if err != nil {
		pid.unlock()
		return nil, err
	}
	if err := writePID(pid); err != nil {
		ln.Close()
		pid.unlock()
		return nil, err
	}
	sock, _ := os.Lstat(opts.SocketPath)
	return &Listener{opts: opts, ln: ln, pid: pid, sock: sock}, nil
}

// Close gives the socket up without serving (Serve does it itself).
func (l *Listener) Close() error {
	err := l.ln.Close()
	if rerr := releasePIDFile(l.pid); err == nil {
		err = rerr
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close daemon listener: %w", err)
	}
	return nil
}

// privateDir makes sure dir exists, belongs to us and is 0700.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("daemon directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("daemon directory: %w", err)
	}
	if !ownedByMe(fi) || fi.Mode()&fs.ModeSticky != 0 {
		return fmt.Errorf("daemon directory %s must be a private directory of this user", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("daemon directory: %w", err)
		}
	}
	return nil
}

// claimPIDFile takes the pid file's lock, telling a live daemon (an error)
// from an exiting one (waited for).
func claimPIDFile(ctx context.Context, opts ServerOptions) (*fileLock, error) {
	path := PIDPath(opts.SocketPath)
	l, ok, err := tryLock(path)
	if err != nil {
		return nil, fmt.Errorf("daemon pid file: %w", err)
	}
	if ok {
		return l, nil
	}
	if answers(ctx, opts.SocketPath) {
		return nil, fmt.Errorf("%w on %s", ErrAlreadyRunning, opts.SocketPath)
	}
	opts.Logger.Info("waiting for the previous daemon to exit", "pid_file", path)
	wctx, cancel := context.WithTimeout(ctx, opts.LockWait)
	defer cancel()
	l, err = lockWait(wctx, path)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: its pid file stays locked: %w", ErrAlreadyRunning, opts.SocketPath, err)
	}
	return l, nil
}

// answers reports whether a daemon, of any version, answers on socketPath.
func answers(ctx context.Context, socketPath string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, _, err := dialRaw(ctx, socketPath, "")
	if err != nil && !errors.Is(err, ErrVersionMismatch) {
		return false
	}
	c.Close()
	return true
}

// listenSocket replaces a stale socket file (we hold the pid lock, so no live
// daemon owns it) and listens with mode 0600.
func listenSocket(path string) (*net.UnixListener, error) {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode().Type() != fs.ModeSocket:
		return nil, fmt.Errorf("daemon socket %s exists and is not a socket", path)
	case err == nil:
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale daemon socket: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("daemon socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("daemon listen: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("daemon socket mode: %w", err)
	}
	return ln, nil
}

// writePID writes our pid into the locked pid file.
func writePID(l *fileLock) error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	if _, err := l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// releasePIDFile empties the pid file and releases its lock. The file stays:
// removing a locked file would let two daemons lock two different files.
func releasePIDFile(l *fileLock) error {
	terr := l.f.Truncate(0)
	if err := l.unlock(); err != nil {
		return err
	}
	if terr != nil {
		return fmt.Errorf("empty pid file: %w", terr)
	}
	return nil
}

// ReadPID returns the pid recorded in the pid file of socketPath, or 0 when no
// daemon holds it (the file is missing, empty or unlocked).
func ReadPID(socketPath string) (int, error) {
	path := PIDPath(socketPath)
	held, err := lockHeld(path)
	if err != nil || !held {
		return 0, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, nil
	}
	pid, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	return pid, nil
}
