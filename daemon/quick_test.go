//go:build unix

package daemon

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// QuickCompile answers as Dial and Compile do, and fails the same ways.
func TestQuickCompile(t *testing.T) {
	stdout := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	b := &fakeBackend{compile: func(_ context.Context, req CompileRequest) CompileResult {
		return CompileResult{Handled: true, Reason: "cache miss", Stdout: stdout, Stderr: []byte(req.Dir), ExitCode: 3}
	}}
	r := serve(t, ServerOptions{}, b)
	req := CompileRequest{Compiler: "gcc", Real: "/usr/bin/gcc", Args: []string{"-c", "a b.c", ""}, Dir: "/work/x",
		Env: []string{"PATH=/bin", "EMPTY="}}

	res, err := QuickCompile(r.socket, helperBuild, req, time.Second)
	require.NoError(t, err)
	assert.Equal(t, CompileResult{Handled: true, Reason: "cache miss", Stdout: stdout, Stderr: []byte("/work/x"), ExitCode: 3}, res)
	b.mu.Lock()
	assert.Equal(t, []CompileRequest{req}, b.requests)
	b.mu.Unlock()

	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	require.NoError(t, err)
	ln.SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	silent := filepath.Join(dir, "silent.sock")
	quiet, err := net.Listen("unix", silent) // accepts (in the backlog) and never answers
	require.NoError(t, err)
	defer quiet.Close()

	tests := []struct {
		name   string
		socket string
		build  string
		want   error
	}{
		{"another build", r.socket, "another-build", ErrVersionMismatch},
		{"no socket", filepath.Join(dir, "none.sock"), helperBuild, ErrNotRunning},
		{"stale socket", stale, helperBuild, ErrNotRunning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := QuickCompile(tc.socket, tc.build, req, time.Second)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	b.mu.Lock()
	assert.Len(t, b.requests, 1, "a mismatched client's request never reaches the backend")
	b.mu.Unlock()

	t.Run("a daemon that never answers the hello", func(t *testing.T) {
		start := time.Now()
		_, err := QuickCompile(silent, helperBuild, req, 200*time.Millisecond)
		require.Error(t, err)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	})
}

// TestClientsRejectLongSocketPath: a socket path longer than a Unix socket
// address holds is a clear error on every client path (connect itself only
// says "invalid argument"), and not "no daemon", which would start one.
func TestClientsRejectLongSocketPath(t *testing.T) {
	socket := filepath.Join(t.TempDir(), strings.Repeat("x", 120), "daemon.sock")
	calls := map[string]func() error{
		"quick": func() error {
			_, err := QuickCompile(socket, "build", CompileRequest{}, time.Second)
			return err
		},
		"dial": func() error {
			_, err := Dial(context.Background(), socket, "build")
			return err
		},
	}
	for name, call := range calls {
		err := call()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "set a shorter DCC_DIR", name)
		assert.NotErrorIs(t, err, ErrNotRunning, name)
	}
}
