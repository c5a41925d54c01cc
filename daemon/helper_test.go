//go:build unix

package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The test binary doubles as the daemon and as a wrapper process: with
// helperEnv set, TestMain runs that role instead of the tests.
const (
	helperEnv   = "DCC_DAEMON_TEST_HELPER" // serve, ensure or fail
	socketEnv   = "DCC_DAEMON_TEST_SOCKET"
	buildEnv    = "DCC_DAEMON_TEST_BUILD"
	startsEnv   = "DCC_DAEMON_TEST_STARTS" // serve appends its pid here
	closedEnv   = "DCC_DAEMON_TEST_CLOSED" // serve writes here when its backend closes
	idleEnv     = "DCC_DAEMON_TEST_IDLE"
	logEnv      = "DCC_DAEMON_TEST_LOG"
	helperBuild = "test-build"
)

func TestMain(m *testing.M) {
	mode := os.Getenv(helperEnv)
	if mode != "" {
		appendPID(os.Getenv(startsEnv))
	}
	switch mode {
	case "":
		os.Exit(m.Run())
	case "serve":
		os.Exit(helperServe())
	case "ensure":
		os.Exit(helperEnsure())
	case "fail":
		fmt.Fprintln(os.Stderr, "helper: failing on purpose")
		os.Exit(3)
	}
	fmt.Fprintf(os.Stderr, "unknown %s=%s\n", helperEnv, os.Getenv(helperEnv))
	os.Exit(2)
}

// appendPID records a helper daemon's start in path, if set.
func appendPID(path string) {
	if path == "" || os.Getenv(helperEnv) == "ensure" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		panic(err)
	}
	fmt.Fprintf(f, "%d\n", os.Getpid())
	f.Close()
}

// helperServe is a daemon with a fake backend.
func helperServe() int {
	idle, _ := time.ParseDuration(os.Getenv(idleEnv))
	b := &fakeBackend{closedFile: os.Getenv(closedEnv)}
	err := Serve(context.Background(), ServerOptions{
		SocketPath: os.Getenv(socketEnv), BuildID: os.Getenv(buildEnv), IdleTimeout: idle,
	}, b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper serve:", err)
		return 1
	}
	return 0
}

// helperEnsure is a wrapper: it makes sure a daemon runs and prints its pid.
func helperEnsure() int {
	c, err := Ensure(context.Background(), helperEnsureOptions(os.Getenv(socketEnv), os.Getenv(buildEnv), os.Getenv(startsEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper ensure:", err)
		return 1
	}
	defer c.Close()
	st, err := c.Status(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper status:", err)
		return 1
	}
	fmt.Println(st.PID)
	return 0
}

// helperEnsureOptions starts this test binary as a daemon on socket.
func helperEnsureOptions(socket, build, starts string) EnsureOptions {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	dir := filepath.Dir(socket)
	return EnsureOptions{
		SocketPath: socket, LockPath: filepath.Join(dir, "daemon.lock"), BuildID: build,
		Command: []string{exe, "-test.run=^$"},
		Env: append(os.Environ(), helperEnv+"=serve", socketEnv+"="+socket, buildEnv+"="+build,
			startsEnv+"="+starts, idleEnv+"=1m"),
		LogPath:      filepath.Join(dir, "daemon.log"),
		StartTimeout: 20 * time.Second,
	}
}

// fakeBackend records what the daemon asks of it.
type fakeBackend struct {
	compile    func(ctx context.Context, req CompileRequest) CompileResult
	statsErr   error
	closedFile string

	mu       sync.Mutex
	requests []CompileRequest
	closes   atomic.Int32
	zeroes   atomic.Int32
	clears   atomic.Int32
}

func (b *fakeBackend) Compile(ctx context.Context, req CompileRequest) CompileResult {
	b.mu.Lock()
	b.requests = append(b.requests, req)
	b.mu.Unlock()
	if b.compile != nil {
		return b.compile(ctx, req)
	}
	return CompileResult{Handled: true, Reason: "fake", Stdout: []byte("out:" + strings.Join(req.Args, " ")), ExitCode: 0}
}

func (b *fakeBackend) Stats(context.Context) (StatsReport, error) {
	if b.statsErr != nil {
		return StatsReport{}, b.statsErr
	}
	return StatsReport{Counters: map[string]int64{"hits": 3, "misses": 4}, CacheSize: 10, MaxSize: 20, Entries: 2, StatsSince: "2026-01-01T00:00:00Z"}, nil
}

func (b *fakeBackend) ZeroStats(context.Context) error { b.zeroes.Add(1); return nil }
func (b *fakeBackend) Clear(context.Context) error     { b.clears.Add(1); return nil }

func (b *fakeBackend) Close() error {
	b.closes.Add(1)
	if b.closedFile != "" {
		return os.WriteFile(b.closedFile, []byte("closed\n"), 0o600)
	}
	return nil
}

// shortDir returns a new private directory with a short path (Unix socket
// paths must stay under 108 bytes; t.TempDir() can be longer).
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dccd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// running is a daemon served in this process.
type running struct {
	socket string
	cancel context.CancelFunc
	done   chan error
}

// serve runs Serve in a goroutine; the test's cleanup stops it.
func serve(t testing.TB, opts ServerOptions, b Backend) *running {
	t.Helper()
	if opts.SocketPath == "" {
		opts.SocketPath = filepath.Join(shortDir(t), "d.sock")
	}
	if opts.BuildID == "" {
		opts.BuildID = helperBuild
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{socket: opts.SocketPath, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Serve(ctx, opts, b) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("daemon did not stop")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := Dial(context.Background(), opts.SocketPath, opts.BuildID)
		if err == nil {
			c.Close()
			return r
		}
		select {
		case serr := <-r.done:
			r.done <- serr
			t.Fatalf("daemon exited before answering: %v (dial: %v)", serr, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no daemon on %s: %v", opts.SocketPath, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// wait returns Serve's result, failing the test if it takes over 30 s.
func (r *running) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop")
		return nil
	}
}

// waitAnswer waits until a daemon answers on socket.
func waitAnswer(t testing.TB, socket string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := Dial(context.Background(), socket, helperBuild)
		if err == nil || errors.Is(err, ErrVersionMismatch) {
			if c != nil {
				c.Close()
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no daemon on %s: %v", socket, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dial connects with the helper build id.
func dial(t testing.TB, socket string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), socket, helperBuild)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// helperProc is a daemon process the test started itself.
type helperProc struct {
	*exec.Cmd
	exited chan struct{} // closed once it has exited; err says how
	err    error
}

// startHelper starts this test binary as a daemon, killed by the test's
// cleanup, by its pid, if still running.
func startHelper(t *testing.T, socket, build string, extraEnv ...string) *helperProc {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=serve", socketEnv+"="+socket, buildEnv+"="+build, idleEnv+"=1m")
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	p := &helperProc{Cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	})
	return p
}

// killOnCleanup makes sure the daemon on socket (started by Ensure, so not a
// child the test holds) is gone when the test ends: SIGKILL by its pid.
func killOnCleanup(t *testing.T, socket string) {
	t.Cleanup(func() {
		pid, err := ReadPID(socket)
		if err == nil && pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
			waitGone(t, pid)
		}
	})
}

// gone reports whether process pid has exited (a zombie counts as gone).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// waitGone waits until process pid has exited.
func waitGone(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readPIDs reads the pids the helper daemons appended to path.
func readPIDs(t testing.TB, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	return pids
}
