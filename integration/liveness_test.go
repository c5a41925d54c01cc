package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote"
)

// maxLost is what a dead, stalled or unreachable host may cost a job beyond
// the work itself (issue 14's goal).
const maxLost = 3 * time.Second

// slowCompilerDir makes a directory holding a "gcc" that sleeps for delay
// before each compile (a command with -c) and then runs the real gcc: put
// first in a dcc-server's PATH, it stands for a compile that takes that
// long while the server stays up.
func slowCompilerDir(tb testing.TB, delay time.Duration) string {
	tb.Helper()
	real := requireTool(tb, "gcc")
	dir := sharedTempDir(tb)
	script := fmt.Sprintf("#!/bin/sh\nfor a; do [ \"$a\" = -c ] && sleep %.3f; done\nexec %s \"$@\"\n", delay.Seconds(), real)
	require.NoError(tb, writeExecutable(filepath.Join(dir, "gcc"), script))
	return dir
}

// sharedTempDir is a temporary directory every user may read and search:
// a server started as root runs its jobs as an unprivileged user, which
// must be able to run the compiler the test puts there.
func sharedTempDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "dcc-compiler-")
	require.NoError(tb, err)
	tb.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(tb, os.Chmod(dir, 0o755))
	return dir
}

// slowHost starts a dcc-server whose gcc takes delay per compile.
func slowHost(tb testing.TB, ip string, delay time.Duration) *compileHost {
	tb.Helper()
	path := "PATH=" + slowCompilerDir(tb, delay) + ":" + os.Getenv("PATH")
	return launchHostEnv(tb, freeAddr(tb, ip), 1, testToken, path)
}

// gccKeyOf returns the key of the gcc a host serves (the first gcc-family
// toolchain it advertises).
func gccKeyOf(tb testing.TB, h *compileHost) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := protocol.Dial(ctx, h.addr, testToken, "integration@test",
		protocol.Transport{Fingerprint: h.fingerprint, Plaintext: h.fingerprint == ""})
	require.NoError(tb, err)
	defer s.Close()
	for _, tc := range s.Welcome().Toolchains {
		if tc.Family == "gcc" && tc.Driver == "gcc" {
			return tc.Key
		}
	}
	tb.Fatalf("%s serves no gcc: %+v", h.addr, s.Welcome().Toolchains)
	return ""
}

// hostPool is a client's pool of the hosts, one job at a time each, with a
// receive timeout far past the liveness window (so that only the liveness
// watch can end a job on a silent host early) and the default liveness
// timeout.
func hostPool(tb testing.TB, hosts ...*compileHost) *remote.Pool {
	tb.Helper()
	var cfg []config.Host
	for _, h := range hosts {
		cfg = append(cfg, config.Host{Connect: h.addr, Token: testToken, Jobs: 1, RecvTimeout: 40 * time.Second,
			Fingerprint: h.fingerprint, Plaintext: h.fingerprint == ""})
	}
	p := remote.NewPool(cfg, remote.Options{Client: "integration@test"})
	tb.Cleanup(func() { p.Close() })
	return p
}

// unitRequest is a small compile job for toolchain key.
func unitRequest(key, dir string) *protocol.CompileRequest {
	return &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-O2"},
		Preprocessed: []byte("int twice(int x) { return 2 * x; }\n"), SourceName: "u.c", ClientDir: dir}
}

// plainObject compiles the unit with the local gcc, as the host must.
func plainObject(tb testing.TB, dir string) []byte {
	tb.Helper()
	src := filepath.Join(dir, "u.i")
	require.NoError(tb, os.WriteFile(src, unitRequest("", dir).Preprocessed, 0o644))
	out, err := exec.Command("gcc", "-O2", "-x", "cpp-output", "-c", src, "-o", filepath.Join(dir, "u.o")).CombinedOutput()
	require.NoError(tb, err, "%s", out)
	return readFile(tb, filepath.Join(dir, "u.o"))
}

// compileResult is what one Pool.Compile returned, and when.
type compileResult struct {
	res  *protocol.CompileResult
	host string
	err  error
	at   time.Time
}

// compileAsync starts a compile on p and returns where its result arrives.
func compileAsync(p *remote.Pool, key string, req *protocol.CompileRequest) <-chan compileResult {
	ch := make(chan compileResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, host, err := p.Compile(ctx, key, req)
		ch <- compileResult{res, host, err, time.Now()}
	}()
	return ch
}

// waitNewCompile waits until one of hosts starts a compile beyond the
// counts in before (compiles per host, in the same order), and returns it.
func waitNewCompile(tb testing.TB, hosts []*compileHost, before []int) *compileHost {
	tb.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		for i, h := range hosts {
			if len(h.compiles(tb)) > before[i] {
				return h
			}
		}
		require.True(tb, time.Now().Before(deadline), "no compile started on any host")
	}
}

// TestLivenessDeadOrStalledHost: a job is in flight on a real dcc-server
// when the server is stopped (SIGSTOP: its kernel still acknowledges TCP,
// only the application is silent) or killed (SIGKILL). The job comes back
// compiled by the other host, or, with no other host, as an error the
// caller falls back on, and the time from the fault to that answer, less
// the work done again, is at most maxLost (default liveness timeout 2 s),
// not the 25 s of yamux's keepalive or the receive timeout.
func TestLivenessDeadOrStalledHost(t *testing.T) {
	t.Parallel()
	const delay = time.Second
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		other bool
	}{
		{"stopped, another host", syscall.SIGSTOP, true},
		{"killed, another host", syscall.SIGKILL, true},
		{"stopped, no other host", syscall.SIGSTOP, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := slowHost(t, "127.0.0.2", delay)
			hosts := []*compileHost{a}
			var b *compileHost
			if tc.other {
				b = slowHost(t, "127.0.0.3", delay)
				hosts = append(hosts, b)
			}
			key := gccKeyOf(t, a)
			dir := t.TempDir()
			want := plainObject(t, dir)
			p := hostPool(t, hosts...)

			// The work itself: one job, fault-free, on the other host (or
			// this one).
			work := time.Duration(0)
			if b != nil {
				require.Equal(t, key, gccKeyOf(t, b), "both hosts serve the same gcc")
				r := <-compileAsync(p, key, unitRequest(key, dir)) // dials both
				require.NoError(t, r.err)
				start := time.Now()
				r = <-compileAsync(p, key, unitRequest(key, dir))
				require.NoError(t, r.err)
				work = r.at.Sub(start)
			}

			before := make([]int, len(hosts))
			for i, h := range hosts {
				before[i] = len(h.compiles(t))
			}
			started := time.Now()
			ch := compileAsync(p, key, unitRequest(key, dir))
			// Equal hosts are picked at random: the fault hits the one
			// that got the job, and the other must answer.
			victim := waitNewCompile(t, hosts, before)
			rescuer := b
			if victim == b {
				rescuer = a
			}
			t.Cleanup(func() { _ = victim.cmd.Process.Signal(syscall.SIGCONT) })
			require.NoError(t, victim.cmd.Process.Signal(tc.sig))
			fault := time.Now()
			r := <-ch
			lost := r.at.Sub(fault) - work
			t.Logf("%s: answer %s after the fault (work %s, lost %s; job began %s before the fault): host %s err %v",
				tc.name, r.at.Sub(fault).Round(time.Millisecond), work.Round(time.Millisecond),
				lost.Round(time.Millisecond), fault.Sub(started).Round(time.Millisecond), r.host, r.err)
			if tc.other {
				require.NoError(t, r.err, "the job goes to the other host")
				assert.Equal(t, rescuer.addr, r.host)
				assert.Equal(t, want, r.res.Object, "the object is the local compiler's")
			} else {
				require.Error(t, r.err)
				if tc.sig == syscall.SIGSTOP {
					assert.ErrorIs(t, r.err, protocol.ErrSilent)
				}
			}
			assert.LessOrEqual(t, lost, maxLost, "a %s host costs at most %s beyond the work", tc.sig, maxLost)
		})
	}
}

// TestLivenessSlowCompileKept: a compile that takes well past the liveness
// window (three times the default 2 s) on a server that is up is never
// abandoned: the job comes back from that host with the right object.
func TestLivenessSlowCompileKept(t *testing.T) {
	t.Parallel()
	const delay = 3 * remote.DefaultLivenessTimeout
	a := slowHost(t, "127.0.0.4", delay)
	key := gccKeyOf(t, a)
	dir := t.TempDir()
	want := plainObject(t, dir)
	p := hostPool(t, a)
	start := time.Now()
	r := <-compileAsync(p, key, unitRequest(key, dir))
	took := r.at.Sub(start)
	t.Logf("slow compile: %s on %s, err %v", took.Round(time.Millisecond), r.host, r.err)
	require.NoError(t, r.err, "a slow compile is kept")
	assert.Equal(t, a.addr, r.host)
	assert.Equal(t, want, r.res.Object)
	assert.GreaterOrEqual(t, took, delay)
	assert.False(t, errors.Is(r.err, protocol.ErrSilent))
}
