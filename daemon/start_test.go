//go:build unix

package daemon

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stopAndCheck stops the daemon on socket by request and checks that process
// pid is gone and the socket with it.
func stopAndCheck(t *testing.T, socket string, pid int) {
	t.Helper()
	got, err := StopDaemon(context.Background(), socket, helperBuild)
	require.NoError(t, err)
	assert.Equal(t, pid, got)
	waitGone(t, pid)
	assertCleanedUp(t, socket)
}

func TestEnsureStartsOneDaemonGoroutines(t *testing.T) {
	dir := shortDir(t)
	socket, starts := filepath.Join(dir, "d.sock"), filepath.Join(dir, "starts")
	killOnCleanup(t, socket)
	opts := helperEnsureOptions(socket, helperBuild, starts)
	const n = 16
	pids := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := Ensure(context.Background(), opts)
			if !assert.NoError(t, err) {
				return
			}
			defer c.Close()
			st, err := c.Status(context.Background())
			assert.NoError(t, err)
			pids[i] = st.PID
		})
	}
	wg.Wait()
	started := readPIDs(t, starts)
	require.Len(t, started, 1, "exactly one daemon was started")
	for i, pid := range pids {
		assert.Equal(t, started[0], pid, "caller %d", i)
	}
	assert.NotEqual(t, os.Getpid(), started[0])
	stopAndCheck(t, socket, started[0])
}

func TestEnsureStartsOneDaemonProcesses(t *testing.T) {
	dir := shortDir(t)
	socket, starts := filepath.Join(dir, "d.sock"), filepath.Join(dir, "starts")
	killOnCleanup(t, socket)
	exe, err := os.Executable()
	require.NoError(t, err)
	const n = 16
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range n {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=ensure", socketEnv+"="+socket, buildEnv+"="+helperBuild, startsEnv+"="+starts)
		outs[i] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		cmds[i] = cmd
	}
	for _, cmd := range cmds { // start them as close together as possible
		require.NoError(t, cmd.Start())
	}
	for i, cmd := range cmds {
		assert.NoError(t, cmd.Wait(), "wrapper %d (pid %d): %s", i, cmd.Process.Pid, outs[i])
	}
	started := readPIDs(t, starts)
	require.Len(t, started, 1, "exactly one daemon was started")
	for i, out := range outs {
		assert.Equal(t, strconv.Itoa(started[0]), strings.TrimSpace(out.String()), "wrapper %d", i)
	}
	stopAndCheck(t, socket, started[0])
}

func TestEnsureConnectsToRunningDaemon(t *testing.T) {
	dir := shortDir(t)
	socket, starts := filepath.Join(dir, "d.sock"), filepath.Join(dir, "starts")
	r := serve(t, ServerOptions{SocketPath: socket}, &fakeBackend{})
	c, err := Ensure(context.Background(), helperEnsureOptions(r.socket, helperBuild, starts))
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, os.Getpid(), c.Server().PID)
	assert.Empty(t, readPIDs(t, starts), "nothing started")
}

func TestEnsureReplacesOtherVersion(t *testing.T) {
	dir := shortDir(t)
	socket, closed := filepath.Join(dir, "d.sock"), filepath.Join(dir, "old-closed")
	killOnCleanup(t, socket)
	old := startHelper(t, socket, "old-build", closedEnv+"="+closed)
	waitAnswer(t, socket)

	c, err := Ensure(context.Background(), helperEnsureOptions(socket, helperBuild, filepath.Join(dir, "starts")))
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, helperBuild, c.Server().BuildID)
	assert.NotEqual(t, old.Process.Pid, c.Server().PID)
	<-old.exited
	assert.FileExists(t, closed, "the old daemon closed its backend")
	stopAndCheck(t, socket, c.Server().PID)
}

func TestEnsureStartFailure(t *testing.T) {
	dir := shortDir(t)
	socket, starts := filepath.Join(dir, "d.sock"), filepath.Join(dir, "starts")
	opts := helperEnsureOptions(socket, helperBuild, starts)
	opts.Env = append(opts.Env, helperEnv+"=fail")
	opts.FailureBackoff = -1
	_, err := Ensure(context.Background(), opts)
	require.ErrorIs(t, err, ErrStartFailed)
	assert.Contains(t, err.Error(), "exit status 3")
	assert.Contains(t, err.Error(), "see "+opts.LogPath)
	log, rerr := os.ReadFile(opts.LogPath)
	require.NoError(t, rerr)
	assert.Contains(t, string(log), "failing on purpose", "the daemon's stderr goes to the log")

	bad := opts
	bad.Command = []string{filepath.Join(dir, "no-such-program")}
	_, err = Ensure(context.Background(), bad)
	require.ErrorIs(t, err, ErrStartFailed)
	assert.Contains(t, err.Error(), "no-such-program")

	bad.Command = nil
	_, err = Ensure(context.Background(), bad)
	require.ErrorIs(t, err, ErrStartFailed)
	assert.Len(t, readPIDs(t, starts), 1, "one daemon process ran")
}

func TestEnsureBacksOffAfterFailure(t *testing.T) {
	dir := shortDir(t)
	socket, starts := filepath.Join(dir, "d.sock"), filepath.Join(dir, "starts")
	opts := helperEnsureOptions(socket, helperBuild, starts)
	failing := opts
	failing.Env = append(failing.Env, helperEnv+"=fail")
	failing.FailureBackoff = time.Hour
	_, err := Ensure(context.Background(), failing)
	require.ErrorIs(t, err, ErrStartFailed)
	require.Len(t, readPIDs(t, starts), 1)

	for range 3 {
		_, err = Ensure(context.Background(), failing)
		require.ErrorIs(t, err, ErrStartFailed)
		assert.Contains(t, err.Error(), "a start failed")
		assert.Contains(t, err.Error(), "exit status 3", "with the reason")
	}
	assert.Len(t, readPIDs(t, starts), 1, "no new attempt during the back-off")

	killOnCleanup(t, socket)
	opts.FailureBackoff = -1 // "dcc daemon start" tries regardless
	c, err := Ensure(context.Background(), opts)
	require.NoError(t, err)
	defer c.Close()
	assert.NoFileExists(t, failurePath(opts), "a success clears the record")
	stopAndCheck(t, socket, c.Server().PID)
}

func TestEnsureTimeout(t *testing.T) {
	dir := shortDir(t)
	socket := filepath.Join(dir, "d.sock")
	opts := helperEnsureOptions(socket, helperBuild, "")
	opts.Command = []string{"sleep", "30"} // never answers
	opts.StartTimeout = 300 * time.Millisecond
	_, err := Ensure(context.Background(), opts)
	require.ErrorIs(t, err, ErrStartFailed)
	assert.Contains(t, err.Error(), "did not answer")
	pid := pidInError(t, err.Error())
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	waitGone(t, pid)
}

// pidInError finds "(pid N)" in an error message.
func pidInError(t *testing.T, msg string) int {
	t.Helper()
	_, rest, ok := strings.Cut(msg, "(pid ")
	require.True(t, ok, msg)
	n, _, _ := strings.Cut(rest, ")")
	pid, err := strconv.Atoi(n)
	require.NoError(t, err)
	return pid
}

func TestDaemonGetsNoInheritedDescriptors(t *testing.T) {
	dir := shortDir(t)
	socket := filepath.Join(dir, "d.sock")
	killOnCleanup(t, socket)
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	defer rd.Close()
	// Like make's jobserver pipe: a descriptor inherited without close-on-exec.
	_, _, errno := syscall.Syscall(syscall.SYS_FCNTL, wr.Fd(), syscall.F_SETFD, 0)
	require.Zero(t, errno)

	c, err := Ensure(context.Background(), helperEnsureOptions(socket, helperBuild, ""))
	require.NoError(t, err)
	defer c.Close()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, wr.Fd(), syscall.F_GETFD, 0)
	require.Zero(t, errno)
	assert.Zero(t, flags&syscall.FD_CLOEXEC, "our own descriptor's flags are restored")

	require.NoError(t, wr.Close())
	require.NoError(t, rd.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := rd.Read(make([]byte, 1))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, io.EOF, "the daemon does not hold the pipe open")
	stopAndCheck(t, socket, c.Server().PID)
}

func TestSIGTERM(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := shortDir(t)
			socket, closed := filepath.Join(dir, "d.sock"), filepath.Join(dir, "closed")
			cmd := startHelper(t, socket, helperBuild, closedEnv+"="+closed)
			waitAnswer(t, socket)
			require.NoError(t, cmd.Process.Signal(sig))
			select {
			case <-cmd.exited:
				assert.NoError(t, cmd.err, "a clean exit")
			case <-time.After(30 * time.Second):
				t.Fatal("the daemon did not exit")
			}
			assert.FileExists(t, closed, "the backend was closed")
			assertCleanedUp(t, socket)
		})
	}
}
