package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// EnsureOptions say where the daemon lives and how to start it.
type EnsureOptions struct {
	// SocketPath is the daemon's socket (required).
	SocketPath string
	// LockPath is the lock file that starters hold while they start a
	// daemon (required; the daemon itself locks PIDPath(SocketPath)).
	LockPath string
	// BuildID identifies this build of dcc; a daemon of another build is
	// stopped and replaced.
	BuildID string
	// Command starts the daemon in the foreground, e.g. {exe, "daemon", "run"}
	// (required). It must serve SocketPath with the same BuildID.
	Command []string
	// Env is the daemon's environment; nil means this process's.
	Env []string
	// LogPath receives the daemon's stderr (appended; moved to LogPath.old
	// first once it grows past 8 MiB); "" discards it.
	LogPath string
	// StartTimeout bounds the whole of Ensure (0: DefaultStartTimeout).
	StartTimeout time.Duration
	// FailureBackoff is how long after a failed start Ensure fails at once
	// instead of trying again, so that a daemon that cannot start (a broken
	// cache, a full disk) costs a build one attempt, not one per compile
	// (0: DefaultFailureBackoff; negative: always try).
	FailureBackoff time.Duration
}

// Ensure returns a connection to a daemon of this build, starting one if
// none runs. Starting is race-free: starters take an exclusive lock on
// LockPath, look again, and only then spawn the daemon (detached, in a
// session of its own, stdin and stdout on /dev/null, stderr on LogPath) and
// wait until it answers; meanwhile other callers keep trying to connect, so
// any number of concurrent callers get exactly one daemon. A daemon of
// another version is asked to stop, waited for and replaced, under the same
// lock. After a failed start, callers fail at once with ErrStartFailed for
// FailureBackoff instead of trying again. Any failure is ErrStartFailed or a
// Dial error: the caller then compiles without the daemon.
func Ensure(ctx context.Context, opts EnsureOptions) (*Client, error) {
	if opts.SocketPath == "" || opts.LockPath == "" || len(opts.Command) == 0 {
		return nil, fmt.Errorf("%w: EnsureOptions needs SocketPath, LockPath and Command", ErrStartFailed)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := startPollFirst
	for first := true; ; first = false {
		c, err := Dial(ctx, opts.SocketPath, opts.BuildID)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, ErrNotRunning) && !errors.Is(err, ErrVersionMismatch) {
			return nil, err
		}
		if first {
			if err := privateDir(filepath.Dir(opts.LockPath)); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrStartFailed, err)
			}
		}
		l, ok, lerr := tryLock(opts.LockPath)
		if lerr != nil {
			return nil, fmt.Errorf("%w: %w", ErrStartFailed, lerr)
		}
		if ok {
			c, err := startLocked(ctx, opts)
			if uerr := l.unlock(); uerr != nil && err == nil {
				c.Close()
				return nil, fmt.Errorf("%w: %w", ErrStartFailed, uerr)
			}
			return c, err
		}
		// Someone else is starting it: keep trying to connect.
		if serr := sleep(ctx, delay); serr != nil {
			return nil, fmt.Errorf("%w: waiting for another starter: %w (last: %w)", ErrStartFailed, serr, err)
		}
		delay = min(2*delay, startPollMax)
	}
}

// startPollFirst and startPollMax bound the pauses between attempts to reach
// a daemon being started: a new daemon answers 3-4 ms after it is spawned,
// and pauses of 1, 2, 4 and 8 ms found it at 7 ms, so every wrapper of a
// build's first compiles waited about 3 ms for nothing. A failed attempt
// costs tens of microseconds.
const (
	startPollFirst = 250 * time.Microsecond
	startPollMax   = 5 * time.Millisecond
)

// startLocked starts the daemon; the caller holds the starters' lock.
func startLocked(ctx context.Context, opts EnsureOptions) (*Client, error) {
	c, err := Dial(ctx, opts.SocketPath, opts.BuildID)
	switch {
	case err == nil:
		return c, nil
	case !errors.Is(err, ErrNotRunning) && !errors.Is(err, ErrVersionMismatch):
		return nil, err
	}
	if ferr := recentFailure(opts); ferr != nil {
		return nil, ferr
	}
	if errors.Is(err, ErrVersionMismatch) {
		if _, serr := StopDaemon(ctx, opts.SocketPath, opts.BuildID); serr != nil && !errors.Is(serr, ErrNotRunning) {
			err = fmt.Errorf("%w: replace the daemon of another version: %w", ErrStartFailed, serr)
			recordStart(opts, err)
			return nil, err
		}
	}
	p, err := spawn(opts)
	if err == nil {
		c, err = awaitDaemon(ctx, opts, p)
	} else {
		err = fmt.Errorf("%w: %w", ErrStartFailed, err)
	}
	recordStart(opts, err)
	return c, err
}

// failurePath is the file that records a failed start.
func failurePath(opts EnsureOptions) string {
	return opts.LockPath + ".failed"
}

// recentFailure returns an ErrStartFailed error when a start failed less than
// opts.FailureBackoff ago.
func recentFailure(opts EnsureOptions) error {
	backoff := opts.FailureBackoff
	if backoff == 0 {
		backoff = DefaultFailureBackoff
	}
	if backoff < 0 {
		return nil
	}
	fi, err := os.Stat(failurePath(opts))
	if err != nil {
		return nil
	}
	if ago := time.Since(fi.ModTime()); ago >= 0 && ago < backoff {
		why, _ := os.ReadFile(failurePath(opts))
		return fmt.Errorf("%w: a start failed %s ago, next try in %s: %s", ErrStartFailed,
			ago.Round(time.Millisecond), (backoff - ago).Round(time.Millisecond), strings.TrimSpace(string(why)))
	}
	return nil
}

// recordStart notes a start's outcome for recentFailure.
func recordStart(opts EnsureOptions, err error) {
	if err == nil {
		os.Remove(failurePath(opts))
		return
	}
	os.WriteFile(failurePath(opts), []byte(err.Error()+"\n"), 0o600)
}

// awaitDaemon waits until the daemon just started answers.
func awaitDaemon(ctx context.Context, opts EnsureOptions, p *process) (*Client, error) {
	delay := startPollFirst
	for {
		c, err := Dial(ctx, opts.SocketPath, opts.BuildID)
		if err == nil {
			return c, nil
		}
		if errors.Is(err, ErrVersionMismatch) {
			return nil, fmt.Errorf("%w: %s started a daemon of another version: %w", ErrStartFailed, opts.Command[0], err)
		}
		select {
		case <-p.exited:
			// It may have lost to a daemon started outside the lock.
			if c, derr := Dial(ctx, opts.SocketPath, opts.BuildID); derr == nil {
				return c, nil
			}
			return nil, fmt.Errorf("%w: %q exited (%v) without serving %s%s",
				ErrStartFailed, strings.Join(opts.Command, " "), p.err, opts.SocketPath, logHint(opts.LogPath))
		default:
		}
		if serr := sleep(ctx, delay); serr != nil {
			return nil, fmt.Errorf("%w: the daemon (pid %d) did not answer on %s: %w (last: %w)%s",
				ErrStartFailed, p.pid, opts.SocketPath, serr, err, logHint(opts.LogPath))
		}
		delay = min(2*delay, startPollMax)
	}
}

// logHint points at the daemon's log in an error message.
func logHint(path string) string {
	if path == "" {
		return ""
	}
	return "; see " + path
}

// StopDaemon stops the daemon on socketPath, whatever its version, and waits
// until it has exited (its pid file is no longer locked), within ctx's
// deadline or DefaultStopTimeout. It returns the daemon's pid, or
// ErrNotRunning when there was no daemon.
func StopDaemon(ctx context.Context, socketPath, buildID string) (int, error) {
	ctx, cancel := withDefaultTimeout(ctx, DefaultStopTimeout)
	defer cancel()
	conn, h, err := dialRaw(ctx, socketPath, buildID)
	if err != nil && !errors.Is(err, ErrVersionMismatch) {
		return 0, err
	}
	c := newClient(conn, h)
	defer c.Close()
	if err := c.Stop(ctx); err != nil {
		return h.PID, fmt.Errorf("stop daemon (pid %d): %w", h.PID, err)
	}
	if err := waitExit(ctx, socketPath); err != nil {
		return h.PID, fmt.Errorf("stop daemon (pid %d): %w", h.PID, err)
	}
	return h.PID, nil
}

// waitExit waits until no daemon holds the pid file of socketPath.
func waitExit(ctx context.Context, socketPath string) error {
	path := PIDPath(socketPath)
	delay := time.Millisecond
	for {
		held, err := lockHeld(path)
		if err != nil {
			return err
		}
		if !held {
			return nil
		}
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("wait for the daemon to exit: %w", err)
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}
