//go:build unix

package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Environment of the background server that Start starts.
const (
	// DaemonEnv is set to "1" in the background server's environment.
	DaemonEnv = "DCC_SERVER_DAEMON"
	// DaemonTokenEnv carries the --token of the starting command to the
	// background server, so that it does not show in the process list.
	DaemonTokenEnv = "DCC_SERVER_TOKEN"
)

// Timing of the daemon controls.
const (
	// startTimeout bounds how long Start waits for the server to listen
	// (it probes every compiler first).
	startTimeout = 2 * time.Minute
	// stopTimeout bounds how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 30 * time.Second
	// pollInterval is how often the controls look at the pid file or process.
	pollInterval = 25 * time.Millisecond
)

// IsDaemonChild reports whether this process is a background server that
// Start started.
func IsDaemonChild() bool { return os.Getenv(DaemonEnv) == "1" }

// DaemonState is what the pid file says about the background server.
type DaemonState struct {
	// Running: the pid file names a live dcc-server.
	Running bool
	// Pid is the process id in the pid file (0 when there is none).
	Pid int
	// Addr is the address the server listens on.
	Addr string
	// Stale: a pid file is there but its process is gone.
	Stale bool
}

// Status reads the pid file and checks its process.
func Status(pidfile string) (DaemonState, error) {
	data, err := os.ReadFile(pidfile)
	if errors.Is(err, fs.ErrNotExist) {
		return DaemonState{}, nil
	}
	if err != nil {
		return DaemonState{}, fmt.Errorf("read pid file: %w", err)
	}
	pidText, addr, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(pidText))
	if err != nil || pid <= 0 {
		return DaemonState{Stale: true}, nil
	}
	st := DaemonState{Pid: pid, Addr: strings.TrimSpace(addr)}
	if isServerProcess(pid) {
		st.Running = true
	} else {
		st.Stale = true
	}
	return st, nil
}

// WritePidfile records this process's id and the address it listens on,
// atomically: Start waits for it as the sign that the server listens.
func WritePidfile(pidfile, addr string) error {
	dir := filepath.Dir(pidfile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".server-pid-*")
	if err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := fmt.Fprintf(tmp, "%d\n%s\n", os.Getpid(), addr)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), pidfile)
	}
	if werr != nil {
		return fmt.Errorf("write pid file: %w", werr)
	}
	return nil
}

// RemovePidfile removes the pid file if it names this process.
func RemovePidfile(pidfile string) {
	if st, err := Status(pidfile); err == nil && st.Pid == os.Getpid() {
		_ = os.Remove(pidfile)
	}
}

// Start starts this executable with args in the background: in a session
// of its own (setsid), stdin from /dev/null, stdout and stderr appended to
// logfile, DaemonEnv set and token (when not empty) in DaemonTokenEnv. It
// waits until the server writes its pid file (it listens) and returns its
// pid and address. A server already running is an error; a stale pid file
// is removed.
func Start(ctx context.Context, pidfile, logfile string, args []string, token string) (pid int, addr string, err error) {
	st, err := Status(pidfile)
	if err != nil {
		return 0, "", err
	}
	if st.Running {
		return 0, "", fmt.Errorf("dcc-server is already running (pid %d, %s)", st.Pid, st.Addr)
	}
	if st.Stale {
		_ = os.Remove(pidfile)
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, "", fmt.Errorf("find this program: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(logfile), 0o700); err != nil {
		return 0, "", fmt.Errorf("open log file: %w", err)
	}
	logf, err := os.OpenFile(logfile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, "", fmt.Errorf("open log file: %w", err)
	}
	defer logf.Close()
	logStart, _ := logf.Seek(0, 2)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), DaemonEnv+"=1")
	if token != "" {
		cmd.Env = append(cmd.Env, DaemonTokenEnv+"="+token)
	}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, "", fmt.Errorf("start dcc-server in the background: %w", err)
	}
	pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if st, err := Status(pidfile); err == nil && st.Pid == pid {
			return pid, st.Addr, nil
		}
		select {
		case err := <-exited:
			return 0, "", fmt.Errorf("dcc-server exited at start (%v): %s", err, logTail(logfile, logStart))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return 0, "", fmt.Errorf("dcc-server did not listen within %s: %s", startTimeout, logTail(logfile, logStart))
		case <-tick.C:
		}
	}
}

// logTail is the last line the server logged since offset, for errors.
func logTail(logfile string, offset int64) string {
	data, err := os.ReadFile(logfile)
	if err != nil || int64(len(data)) <= offset {
		return "see " + logfile
	}
	lines := strings.Split(strings.TrimSpace(string(data[offset:])), "\n")
	return strings.TrimSpace(lines[len(lines)-1]) + " (log: " + logfile + ")"
}

// Stop sends SIGTERM to the server in the pid file and waits for it to exit
// (SIGKILL after stopTimeout), then removes the pid file. It returns the
// state found before stopping; a server not running is not an error (a
// stale pid file is removed).
func Stop(ctx context.Context, pidfile string) (DaemonState, error) {
	st, err := Status(pidfile)
	if err != nil {
		return st, err
	}
	if !st.Running {
		if st.Stale {
			_ = os.Remove(pidfile)
		}
		return st, nil
	}
	if err := syscall.Kill(st.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return st, fmt.Errorf("stop dcc-server (pid %d): %w", st.Pid, err)
	}
	if !waitExit(ctx, st.Pid, stopTimeout) {
		_ = syscall.Kill(st.Pid, syscall.SIGKILL)
		if !waitExit(ctx, st.Pid, 5*time.Second) {
			return st, fmt.Errorf("dcc-server (pid %d) did not exit", st.Pid)
		}
	}
	if now, err := Status(pidfile); err == nil && now.Pid == st.Pid {
		_ = os.Remove(pidfile)
	}
	return st, nil
}

// waitExit waits until process pid is gone, up to timeout or ctx's end.
func waitExit(ctx context.Context, pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for processAlive(pid) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(pollInterval)
	}
	return true
}

// processAlive reports whether process pid exists and is not a zombie.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill
	}
	// "pid (comm) S ...": the state follows the last ')'.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// isServerProcess reports whether pid is a live dcc-server: alive, and
// (where /proc shows it) running a program named like this one, so that a
// pid reused by another program is not taken for the server.
func isServerProcess(pid int) bool {
	if !processAlive(pid) {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return true
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	name := filepath.Base(string(argv0))
	self := "dcc-server"
	if exe, err := os.Executable(); err == nil {
		self = filepath.Base(exe)
	}
	return strings.Contains(name, "dcc-server") || name == self
}
