//go:build unix

package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandshake(t *testing.T) {
	r := serve(t, ServerOptions{}, &fakeBackend{})
	tests := []struct {
		name    string
		build   string
		wantErr error
	}{
		{"same build", helperBuild, nil},
		{"other build", "another-build", ErrVersionMismatch},
		{"no build id", "", ErrVersionMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(context.Background(), r.socket, tt.build)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, c)
				assert.Contains(t, err.Error(), strconv.Quote(helperBuild))
				return
			}
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, ServerInfo{Protocol: ProtocolVersion, BuildID: helperBuild, PID: os.Getpid()}, c.Server())
		})
	}
}

// rawConn shakes hands with h and returns the connection and the server's hello.
func rawConn(t *testing.T, socket string, h hello) (net.Conn, *message) {
	t.Helper()
	c, err := net.Dial("unix", socket)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, writeMessage(c, &message{Op: opHello, Hello: &h}))
	reply, err := readMessage(c)
	require.NoError(t, err)
	return c, reply
}

func TestServerDetectsMismatch(t *testing.T) {
	b := &fakeBackend{}
	r := serve(t, ServerOptions{}, b)
	tests := []struct {
		name  string
		hello hello
	}{
		{"other protocol", hello{Magic: helloMagic, Protocol: ProtocolVersion + 1, BuildID: helperBuild}},
		{"other build", hello{Magic: helloMagic, Protocol: ProtocolVersion, BuildID: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, reply := rawConn(t, r.socket, tt.hello)
			require.NotNil(t, reply.Hello)
			assert.Equal(t, helperBuild, reply.Hello.BuildID, "the server still says who it is")
			require.NoError(t, writeMessage(c, &message{Op: opCompile, Compile: &CompileRequest{Compiler: "gcc"}}))
			reply, err := readMessage(c)
			require.NoError(t, err)
			assert.ErrorIs(t, reply.err(), ErrVersionMismatch)
			_, err = readMessage(c)
			assert.ErrorIs(t, err, io.EOF, "the server hangs up")
		})
	}
	assert.Empty(t, b.requests, "no compile reached the backend")
}

func TestServerRejectsBadHandshake(t *testing.T) {
	r := serve(t, ServerOptions{}, &fakeBackend{})
	tests := []struct {
		name    string
		first   *message
		wantErr error
	}{
		{"not a hello", &message{Op: opStatus}, ErrProtocol},
		{"wrong magic", &message{Op: opHello, Hello: &hello{Magic: "other", Protocol: ProtocolVersion, BuildID: helperBuild}}, ErrProtocol},
		{"hello without a body", nil, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("unix", r.socket)
			require.NoError(t, err)
			defer c.Close()
			if tt.first == nil {
				_, err = c.Write([]byte{0, 0, 0, 2, byte(opHello), kindRequest})
			} else {
				err = writeMessage(c, tt.first)
			}
			require.NoError(t, err)
			reply, err := readMessage(c)
			require.NoError(t, err)
			assert.ErrorIs(t, reply.err(), tt.wantErr)
		})
	}
}

func TestCompileRoundTrip(t *testing.T) {
	stdout := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	b := &fakeBackend{compile: func(_ context.Context, req CompileRequest) CompileResult {
		return CompileResult{Handled: true, Reason: "cache miss", Stdout: stdout, Stderr: []byte(req.Dir), ExitCode: 3}
	}}
	r := serve(t, ServerOptions{}, b)
	c := dial(t, r.socket)
	req := CompileRequest{Compiler: "gcc", Real: "/usr/bin/gcc", Args: []string{"-c", "a b.c", ""}, Dir: "/work/x",
		Env: []string{"PATH=/bin", "EMPTY="}}
	for i := range 3 { // one connection, several requests
		res, err := c.Compile(context.Background(), req)
		require.NoError(t, err, "request %d", i)
		assert.Equal(t, CompileResult{Handled: true, Reason: "cache miss", Stdout: stdout, Stderr: []byte("/work/x"), ExitCode: 3}, res)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Len(t, b.requests, 3)
	assert.Equal(t, req, b.requests[0])
}

func TestControlRequests(t *testing.T) {
	b := &fakeBackend{}
	r := serve(t, ServerOptions{IdleTimeout: time.Hour}, b)
	c := dial(t, r.socket)
	ctx := context.Background()

	stats, err := c.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, StatsReport{Counters: map[string]int64{"hits": 3, "misses": 4}, CacheSize: 10, MaxSize: 20, Entries: 2, StatsSince: "2026-01-01T00:00:00Z"}, stats)
	require.NoError(t, c.ZeroStats(ctx))
	require.NoError(t, c.Clear(ctx))
	assert.EqualValues(t, 1, b.zeroes.Load())
	assert.EqualValues(t, 1, b.clears.Load())

	st, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), st.PID)
	assert.Equal(t, helperBuild, st.BuildID)
	assert.Equal(t, ProtocolVersion, st.Protocol)
	assert.Equal(t, r.socket, st.Socket)
	assert.Equal(t, time.Hour, st.IdleTimeout)
	assert.EqualValues(t, 4, st.Requests)
	assert.Equal(t, 1, st.InFlight, "the status request itself")
	assert.GreaterOrEqual(t, st.Connections, 1, "this one, and perhaps serve's probe, not yet reaped")
}

func TestBackendErrorKeepsConnection(t *testing.T) {
	b := &fakeBackend{statsErr: errors.New("disk on fire")}
	r := serve(t, ServerOptions{}, b)
	c := dial(t, r.socket)
	_, err := c.Stats(context.Background())
	require.ErrorIs(t, err, ErrDaemon)
	assert.Contains(t, err.Error(), "disk on fire")
	_, err = c.Compile(context.Background(), CompileRequest{Args: []string{"x"}})
	assert.NoError(t, err, "the connection still works")
}

func TestBackendPanicIsNotHandled(t *testing.T) {
	b := &fakeBackend{compile: func(_ context.Context, req CompileRequest) CompileResult {
		if req.Args[0] == "boom" {
			panic("boom")
		}
		return CompileResult{Handled: true}
	}}
	r := serve(t, ServerOptions{}, b)
	c := dial(t, r.socket)
	res, err := c.Compile(context.Background(), CompileRequest{Args: []string{"boom"}})
	require.NoError(t, err)
	assert.False(t, res.Handled)
	assert.Contains(t, res.Reason, "internal error")
	res, err = c.Compile(context.Background(), CompileRequest{Args: []string{"fine"}})
	require.NoError(t, err)
	assert.True(t, res.Handled, "the daemon survived")
}

func TestClientGoneCancelsCompile(t *testing.T) {
	tests := []struct {
		name    string
		hangUp  func(cancel context.CancelFunc, c *Client)
		wantErr error
	}{
		{"context cancelled", func(cancel context.CancelFunc, _ *Client) { cancel() }, context.Canceled},
		{"connection closed", func(_ context.CancelFunc, c *Client) { c.Close() }, net.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started, cancelled := make(chan struct{}), make(chan error, 1)
			b := &fakeBackend{compile: func(ctx context.Context, _ CompileRequest) CompileResult {
				close(started)
				select {
				case <-ctx.Done():
					cancelled <- ctx.Err()
				case <-time.After(30 * time.Second):
					cancelled <- errors.New("not cancelled")
				}
				return CompileResult{Handled: true}
			}}
			r := serve(t, ServerOptions{}, b)
			c := dial(t, r.socket)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, err := c.Compile(ctx, CompileRequest{})
				errc <- err
			}()
			<-started
			tt.hangUp(cancel, c)
			assert.ErrorIs(t, <-errc, tt.wantErr)
			assert.ErrorIs(t, <-cancelled, context.Canceled, "the backend's context was cancelled")
			_, err := c.Status(context.Background())
			assert.ErrorIs(t, err, ErrClosed)
		})
	}
}

func TestIdleExit(t *testing.T) {
	b := &fakeBackend{}
	idle := 500 * time.Millisecond
	r := serve(t, ServerOptions{IdleTimeout: idle}, b)
	c := dial(t, r.socket)
	_, err := c.Compile(context.Background(), CompileRequest{})
	require.NoError(t, err)
	require.NoError(t, r.wait(t))
	assert.EqualValues(t, 1, b.closes.Load())
	assertCleanedUp(t, r.socket)
	_, err = c.Status(context.Background())
	assert.Error(t, err, "the idle connection was closed")
}

func TestNoIdleExitWhileBusy(t *testing.T) {
	idle := 500 * time.Millisecond
	release := make(chan struct{})
	b := &fakeBackend{compile: func(context.Context, CompileRequest) CompileResult {
		<-release
		return CompileResult{Handled: true, Reason: "slow"}
	}}
	r := serve(t, ServerOptions{IdleTimeout: idle}, b)
	c := dial(t, r.socket)
	resc := make(chan CompileResult, 1)
	go func() {
		res, err := c.Compile(context.Background(), CompileRequest{})
		assert.NoError(t, err)
		resc <- res
	}()
	select {
	case err := <-r.done:
		t.Fatalf("daemon exited during a compile: %v", err)
	case <-time.After(4 * idle):
	}
	close(release)
	assert.Equal(t, "slow", (<-resc).Reason)
	require.NoError(t, r.wait(t), "then it idles out")
	assert.EqualValues(t, 1, b.closes.Load())
}

func TestStop(t *testing.T) {
	tests := []struct {
		name string
		stop func(t *testing.T, socket string)
	}{
		{"client stop", func(t *testing.T, socket string) {
			require.NoError(t, dial(t, socket).Stop(context.Background()))
		}},
		{"StopDaemon", func(t *testing.T, socket string) {
			pid, err := StopDaemon(context.Background(), socket, helperBuild)
			require.NoError(t, err)
			assert.Equal(t, os.Getpid(), pid)
		}},
		{"StopDaemon of another build", func(t *testing.T, socket string) {
			pid, err := StopDaemon(context.Background(), socket, "another-build")
			require.NoError(t, err)
			assert.Equal(t, os.Getpid(), pid)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &fakeBackend{}
			r := serve(t, ServerOptions{}, b)
			other := dial(t, r.socket)
			tt.stop(t, r.socket)
			require.NoError(t, r.wait(t))
			assert.EqualValues(t, 1, b.closes.Load())
			assertCleanedUp(t, r.socket)
			_, err := other.Status(context.Background())
			assert.Error(t, err, "other connections are closed")
			_, err = StopDaemon(context.Background(), r.socket, helperBuild)
			assert.ErrorIs(t, err, ErrNotRunning)
		})
	}
}

func TestStopWaitsForRequestsInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	b := &fakeBackend{compile: func(ctx context.Context, _ CompileRequest) CompileResult {
		close(started)
		<-release
		return CompileResult{Handled: true, Reason: ctxState(ctx)}
	}}
	r := serve(t, ServerOptions{}, b)
	c := dial(t, r.socket)
	resc := make(chan CompileResult, 1)
	go func() {
		res, err := c.Compile(context.Background(), CompileRequest{})
		assert.NoError(t, err)
		resc <- res
	}()
	<-started
	require.NoError(t, dial(t, r.socket).Stop(context.Background()))
	_, err := Dial(context.Background(), r.socket, helperBuild)
	assert.ErrorIs(t, err, ErrNotRunning, "no new connections once stopping")
	close(release)
	assert.Equal(t, "live", (<-resc).Reason, "the compile in flight finished")
	require.NoError(t, r.wait(t))
	assert.EqualValues(t, 1, b.closes.Load())
}

func TestShutdownGraceCancels(t *testing.T) {
	started := make(chan struct{})
	b := &fakeBackend{compile: func(ctx context.Context, _ CompileRequest) CompileResult {
		close(started)
		<-ctx.Done()
		return CompileResult{}
	}}
	r := serve(t, ServerOptions{ShutdownGrace: 50 * time.Millisecond}, b)
	c := dial(t, r.socket)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Compile(context.Background(), CompileRequest{})
		errc <- err
	}()
	<-started
	r.cancel()
	require.NoError(t, r.wait(t))
	assert.ErrorIs(t, <-errc, ErrNotRunning, "the wrapper sees the daemon go away and compiles itself")
	assert.EqualValues(t, 1, b.closes.Load())
}

func ctxState(ctx context.Context) string {
	if ctx.Err() != nil {
		return "cancelled"
	}
	return "live"
}

// assertCleanedUp checks that a stopped daemon left no socket and a free,
// empty pid file.
func assertCleanedUp(t *testing.T, socket string) {
	t.Helper()
	_, err := os.Lstat(socket)
	assert.ErrorIs(t, err, fs.ErrNotExist, "socket removed")
	pid, err := ReadPID(socket)
	assert.NoError(t, err)
	assert.Zero(t, pid, "pid file released")
}

func TestFilesAndModes(t *testing.T) {
	dir := filepath.Join(shortDir(t), "d")
	require.NoError(t, os.Mkdir(dir, 0o755))
	socket := filepath.Join(dir, "daemon.sock")
	serve(t, ServerOptions{SocketPath: socket}, &fakeBackend{})
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), "directory made private")
	fi, err = os.Lstat(socket)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSocket, fi.Mode().Type())
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, filepath.Join(dir, "daemon.pid"), PIDPath(socket))
	b, err := os.ReadFile(PIDPath(socket))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(b))
	pid, err := ReadPID(socket)
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), pid)
}

func TestSocketPathChecks(t *testing.T) {
	dir := shortDir(t)
	tests := []struct {
		name    string
		setup   func(t *testing.T, socket string)
		socket  string
		wantErr string
	}{
		{"stale socket is replaced", func(t *testing.T, socket string) {
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
			require.NoError(t, err)
			ln.SetUnlinkOnClose(false)
			require.NoError(t, ln.Close())
			require.NoError(t, os.WriteFile(PIDPath(socket), []byte("999999\n"), 0o600))
		}, "stale.sock", ""},
		{"regular file is kept", func(t *testing.T, socket string) {
			require.NoError(t, os.WriteFile(socket, []byte("data"), 0o600))
		}, "file.sock", "exists and is not a socket"},
		{"path too long", nil, strings.Repeat("x", 110) + ".sock", "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			socket := filepath.Join(dir, tt.socket)
			if tt.setup != nil {
				tt.setup(t, socket)
			}
			b := &fakeBackend{}
			if tt.wantErr == "" {
				serve(t, ServerOptions{SocketPath: socket}, b)
				res, err := dial(t, socket).Compile(context.Background(), CompileRequest{})
				require.NoError(t, err)
				assert.True(t, res.Handled)
				return
			}
			err := Serve(context.Background(), ServerOptions{SocketPath: socket}, b)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.EqualValues(t, 1, b.closes.Load(), "Serve closes the backend even when it cannot start")
			if data, rerr := os.ReadFile(socket); rerr == nil {
				assert.Equal(t, "data", string(data))
			}
		})
	}
}

func TestSecondDaemonRefused(t *testing.T) {
	r := serve(t, ServerOptions{}, &fakeBackend{})
	b2 := &fakeBackend{}
	err := Serve(context.Background(), ServerOptions{SocketPath: r.socket, BuildID: "another-build"}, b2)
	require.ErrorIs(t, err, ErrAlreadyRunning)
	assert.EqualValues(t, 1, b2.closes.Load())
	_, err = dial(t, r.socket).Status(context.Background())
	assert.NoError(t, err, "the first daemon still serves")
}

func TestOversizedMessage(t *testing.T) {
	b := &fakeBackend{}
	r := serve(t, ServerOptions{}, b)
	before := dial(t, r.socket)

	t.Run("announced by a peer", func(t *testing.T) {
		c, _ := rawConn(t, r.socket, hello{Magic: helloMagic, Protocol: ProtocolVersion, BuildID: helperBuild})
		_, err := c.Write(binary.BigEndian.AppendUint32(nil, MaxMessageSize+1))
		require.NoError(t, err)
		reply, err := readMessage(c)
		require.NoError(t, err)
		require.ErrorIs(t, reply.err(), ErrMessageTooLarge)
		assert.Contains(t, reply.Error, "exceeds the limit of 67108864 bytes")
		_, err = readMessage(c)
		assert.ErrorIs(t, err, io.EOF, "that connection is closed")
	})
	t.Run("refused by the client before sending", func(t *testing.T) {
		c := dial(t, r.socket)
		_, err := c.Compile(context.Background(), CompileRequest{Args: []string{strings.Repeat("x", MaxMessageSize)}})
		require.ErrorIs(t, err, ErrMessageTooLarge)
		_, err = c.Compile(context.Background(), CompileRequest{Args: []string{"small"}})
		assert.NoError(t, err, "the client's connection is still usable")
	})
	t.Run("result too large", func(t *testing.T) {
		big := &fakeBackend{compile: func(context.Context, CompileRequest) CompileResult {
			return CompileResult{Handled: true, Stdout: make([]byte, MaxMessageSize)}
		}}
		r2 := serve(t, ServerOptions{}, big)
		res, err := dial(t, r2.socket).Compile(context.Background(), CompileRequest{})
		require.NoError(t, err)
		assert.False(t, res.Handled, "the wrapper compiles itself")
		assert.Contains(t, res.Reason, "too large")
	})
	res, err := before.Compile(context.Background(), CompileRequest{Args: []string{"a"}})
	require.NoError(t, err, "other connections are served throughout")
	assert.Equal(t, "out:a", string(res.Stdout))
	_, err = dial(t, r.socket).Status(context.Background())
	assert.NoError(t, err, "and new ones")
}

func TestConcurrentClients(t *testing.T) {
	r := serve(t, ServerOptions{}, &fakeBackend{})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			c, err := Dial(context.Background(), r.socket, helperBuild)
			if !assert.NoError(t, err) {
				return
			}
			defer c.Close()
			arg := strconv.Itoa(i)
			res, err := c.Compile(context.Background(), CompileRequest{Args: []string{arg}})
			assert.NoError(t, err)
			assert.Equal(t, "out:"+arg, string(res.Stdout))
		})
	}
	wg.Wait()
}

func TestDialNotRunning(t *testing.T) {
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	require.NoError(t, err)
	ln.SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	for name, socket := range map[string]string{"no socket": filepath.Join(dir, "none.sock"), "stale socket": stale} {
		t.Run(name, func(t *testing.T) {
			_, err := Dial(context.Background(), socket, helperBuild)
			assert.ErrorIs(t, err, ErrNotRunning)
		})
	}
}

func TestDaemonLogs(t *testing.T) {
	var buf syncBuffer
	r := serve(t, ServerOptions{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}, &fakeBackend{})
	_, err := dial(t, r.socket).Compile(context.Background(), CompileRequest{})
	require.NoError(t, err)
	r.cancel()
	require.NoError(t, r.wait(t))
	out := buf.String()
	for _, want := range []string{"daemon listening", "op=compile", "daemon stopping", "daemon stopped"} {
		assert.Contains(t, out, want)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
