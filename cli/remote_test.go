//go:build unix

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/remote"
	"github.com/dcc-build/dcc/remote/remotetest"
)

// remoteEnv are the environment variables of remote compiling.
var remoteEnv = []string{"DCC_HOSTS", "DCC_TOKEN", "DCC_REMOTE", "DCC_CONNECT_TIMEOUT", "DCC_SEND_TIMEOUT",
	"DCC_RECV_TIMEOUT", "DCC_LOCAL_THRESHOLD", "DCC_RERUN_REMOTE_ERRORS"}

// remoteSetup isolates the configuration, fixes the CPU count at 2 (so the
// local part of dcc jobs is 3) and writes file as the config file when set.
func remoteSetup(t *testing.T, file string) string {
	t.Helper()
	dir := shortDCCDir(t)
	for _, v := range append(remoteEnv, "DCC_MAX_SIZE", "DCC_DIRECT_MODE", "DCC_DEPEND_MODE") {
		t.Setenv(v, "")
	}
	saved := numCPU
	numCPU = func() int { return 2 }
	t.Cleanup(func() { numCPU = saved })
	if file != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(file), 0o644))
	}
	return dir
}

// hostsFile is a config file listing hosts (addr, token, njob), each with
// the test servers' fingerprint pinned.
func hostsFile(remoteOn bool, hosts ...[3]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "remote = %t\nconnect_timeout = \"300ms\"\n", remoteOn)
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n[[hosts]]\nconnect = %q\ntoken = %q\nnjob = %s\nfingerprint = %q\n", h[0], h[1], h[2], remotetest.Fingerprint())
	}
	return b.String()
}

// loadFile loads the configuration of dir with no environment overrides.
func loadFile(t *testing.T, dir string) *config.Config {
	t.Helper()
	c, err := config.LoadFrom(dir, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return c
}

func TestConnect(t *testing.T) {
	good := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	other := remotetest.Start(t, "127.0.0.3", remotetest.Options{Tokens: []string{"not-yours"}})
	down := remotetest.FreeAddr(t, "127.0.0.4")
	tok := remotetest.Token
	tests := []struct {
		name       string
		file       string
		env        map[string]string
		args       []string
		wantCode   int
		wantOut    []string
		wantErr    string
		wantRemote bool
	}{
		{name: "no hosts", file: "", wantCode: 1, wantErr: "no hosts configured: add [[hosts]] tables"},
		{name: "one usable of three",
			file: hostsFile(false, [3]string{good.Addr, tok, "4"}, [3]string{other.Addr, tok, "8"}, [3]string{down, tok, "2"}),
			wantOut: []string{
				"HOST", "REACHABLE", "AUTH", "TOOLCHAINS", "NJOB",
				good.Addr + "  yes", "gcc 12.2.0 (x86_64-linux-gnu)",
				other.Addr, "no: token refused",
				down, "no: connection refused",
				"remote compiling on: 1 of 3 hosts usable; build with make -j7",
			},
			wantRemote: true},
		{name: "none usable", file: hostsFile(false, [3]string{other.Addr, tok, "8"}, [3]string{down, tok, "2"}),
			wantCode: 1, wantOut: []string{"token refused", "connection refused"},
			wantErr: "no usable host among 2: remote compiling not turned on"},
		{name: "hosts from the environment", env: map[string]string{"DCC_HOSTS": good.Addr + "/6,fingerprint=" + remotetest.Fingerprint(), "DCC_TOKEN": tok},
			wantOut: []string{"remote compiling on: 1 of 1 hosts usable; build with make -j9"}, wantRemote: true},
		{name: "environment overrides", file: hostsFile(false, [3]string{good.Addr, tok, "4"}), env: map[string]string{"DCC_REMOTE": "0"},
			wantOut: []string{"remote compiling on"}, wantErr: "note: remote is false from env DCC_REMOTE, which overrides the file", wantRemote: true},
		{name: "arguments", args: []string{"now"}, wantCode: 2, wantErr: `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := remoteSetup(t, tt.file)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errOut := execute(append([]string{"connect"}, tt.args...)...)
			assert.Equal(t, tt.wantCode, code, errOut)
			for _, w := range tt.wantOut {
				assert.Contains(t, out, w)
			}
			assert.Contains(t, errOut, tt.wantErr)
			assert.NotContains(t, out+errOut, tok, "the token is never shown")
			assert.Equal(t, tt.wantRemote, loadFile(t, dir).Remote)
		})
	}
}

func TestDisconnect(t *testing.T) {
	good := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	dir := remoteSetup(t, hostsFile(false, [3]string{good.Addr, remotetest.Token, "4"}))
	code, _, errOut := execute("connect")
	require.Equal(t, 0, code, errOut)
	require.True(t, loadFile(t, dir).Remote)

	code, out, errOut := execute("disconnect")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "remote compiling off; 1 hosts stay configured (dcc connect turns it back on)\n", out)
	c := loadFile(t, dir)
	assert.False(t, c.Remote)
	require.Len(t, c.Hosts, 1, "the hosts stay")

	t.Setenv("DCC_HOSTS", good.Addr)
	code, _, errOut = execute("disconnect")
	require.Equal(t, 0, code)
	assert.Contains(t, errOut, "note: remote is true from env DCC_HOSTS, which overrides the file")

	code, _, errOut = execute("disconnect", "-x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "usage: dcc disconnect")
}

func TestJobs(t *testing.T) {
	good := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	good2 := remotetest.Start(t, "127.0.0.3", remotetest.Options{})
	down := remotetest.FreeAddr(t, "127.0.0.4")
	tok := remotetest.Token
	tests := []struct {
		name     string
		file     string
		wantOut  string
		wantCode int
		wantErr  string
	}{
		{"no hosts", "", "3\n", 0, ""},
		{"remote off", hostsFile(false, [3]string{good.Addr, tok, "4"}), "3\n", 0, ""},
		{"usable hosts only", hostsFile(true, [3]string{good.Addr, tok, "4"}, [3]string{good2.Addr, "wrong", "8"},
			[3]string{down, tok, "16"}), "7\n", 0, ""},
		{"two usable", hostsFile(true, [3]string{good.Addr, tok, "4"}, [3]string{good2.Addr, tok, "8"}), "15\n", 0, ""},
		{"broken config", "remote = maybe\n", "3\n", 1, "config.toml:1: not valid TOML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remoteSetup(t, tt.file)
			code, out, errOut := execute("jobs")
			assert.Equal(t, tt.wantCode, code, errOut)
			assert.Equal(t, tt.wantOut, out)
			assert.Contains(t, errOut, tt.wantErr)
		})
	}
}

func TestHosts(t *testing.T) {
	good := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	other := remotetest.Start(t, "127.0.0.3", remotetest.Options{Tokens: []string{"not-yours"}})
	open := remotetest.Start(t, "127.0.0.4", remotetest.Options{NoSandbox: true})
	tok := remotetest.Token
	remoteSetup(t, hostsFile(true, [3]string{good.Addr, tok, "4"}, [3]string{other.Addr, tok, "8"}, [3]string{open.Addr, tok, "2"}))

	code, out, errOut := execute("hosts")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "remote compiling on; hosts checked from here")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5)
	assert.Regexp(t, `^HOST +REACHABLE +AUTH +NJOB +SLOTS +RUNNING +QUEUED +IN FLIGHT +BACKOFF +JOBS SENT/OK/FAILED +TOOLCHAINS +WIRE$`, lines[1])
	assert.Regexp(t, `^`+good.Addr+` +yes +yes +4 +8 +0 +0 +0 +- +0/0/0 +gcc 12.2.0 \(x86_64-linux-gnu\) +TLS, pinned$`, lines[2])
	assert.Regexp(t, `^`+other.Addr+` +yes +no: token refused +8 +- +- +- +0 +(1s|[0-9]+ms) +0/0/0 +- +TLS, pinned$`, lines[3])
	// A host that runs jobs without a sandbox says so on its line.
	assert.Regexp(t, `^`+open.Addr+` +yes +yes +2 +8 +0 +0 +0 +- +0/0/0 +gcc 12.2.0 \(x86_64-linux-gnu\) +TLS, pinned +no sandbox$`, lines[4])

	code, out, errOut = execute("hosts", "--json")
	require.Equal(t, 0, code, errOut)
	var got hostsJSON
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.True(t, got.Remote)
	assert.Zero(t, got.DaemonPID)
	assert.Equal(t, 3+4+2, got.Jobs)
	require.Len(t, got.Hosts, 3)
	assert.False(t, got.Hosts[2].Sandboxed)
	assert.Equal(t, hostJSON{Host: good.Addr, Njob: 4, Contacted: true, Reachable: true, Authenticated: true, Sandboxed: true,
		Server: good.Name(), Toolchains: []toolchainJSON{{Key: remotetest.GCCKey, Family: "gcc", Driver: "gcc", Version: "12.2.0", Target: "x86_64-linux-gnu"}},
		Slots: 8, Wire: "TLS, pinned"}, got.Hosts[0])
	assert.Equal(t, "token refused", got.Hosts[1].Error)
	assert.False(t, got.Hosts[1].Authenticated)
	assert.InDelta(t, 1.0, got.Hosts[1].BackoffSeconds, 0.5)
	assert.NotContains(t, out, tok)
}

func TestHostsUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{[]string{"hosts"}, 1, "", "no hosts configured"},
		{[]string{"hosts", "--json"}, 0, `"hosts": []`, ""},
		{[]string{"hosts", "--frob"}, 2, "", "flag provided but not defined: -frob"},
		{[]string{"hosts", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"hosts", "--help"}, 0, "usage: dcc hosts [--json] [--check]", ""},
		{[]string{"jobs", "4"}, 2, "", "usage: dcc jobs"},
		{[]string{"clean"}, 2, "", "clean needs --remote (dcc clear empties the local cache)"},
		{[]string{"clean", "--remote"}, 1, "", "no hosts configured"},
		{[]string{"help", "connect"}, 0, "sets remote = true in the config file", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			remoteSetup(t, "")
			code, out, errOut := execute(tt.args...)
			assert.Equal(t, tt.wantCode, code, errOut)
			assert.Contains(t, out, tt.wantOut)
			assert.Contains(t, errOut, tt.wantErr)
		})
	}
}

func TestCleanRemote(t *testing.T) {
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{})
	down := remotetest.FreeAddr(t, "127.0.0.4")
	tok := remotetest.Token

	project := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(project, ".git"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(project, "src", "lib"), 0o755))
	t.Chdir(filepath.Join(project, "src", "lib"))
	name := remote.ProjectOf(project)
	a.Put(name, "k1", []byte("e"))
	a.Put(name, "k2", []byte("e"))
	a.Put("someone-else", "k1", []byte("e"))
	b.Put(name, "k3", []byte("e"))

	remoteSetup(t, hostsFile(false, [3]string{a.Addr, tok, "4"}, [3]string{b.Addr, tok, "4"}))
	code, out, errOut := execute("clean", "--remote")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "project "+name+"\n"+a.Addr+"  removed 2 entries\n"+b.Addr+"  removed 1 entries\n", out)
	assert.Equal(t, 1, a.Entries(), "other projects stay")
	assert.Zero(t, b.Entries())

	remoteSetup(t, hostsFile(false, [3]string{a.Addr, tok, "4"}, [3]string{down, tok, "4"}))
	code, out, errOut = execute("clean", "--remote")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, down+"  failed: connection refused")
	assert.Contains(t, errOut, "1 of 2 hosts could not be cleaned")
}

// A host reached in plain TCP works when both sides say so, and dcc hosts
// says it is not encrypted; the same host with TLS expected is refused with
// a one-line reason.
func TestHostsPlainTCP(t *testing.T) {
	plain := remotetest.Start(t, "127.0.0.2", remotetest.Options{Plaintext: true})
	remoteSetup(t, fmt.Sprintf("remote = true\n[[hosts]]\nconnect = %q\ntoken = %q\nplaintext = true\n", plain.Addr, remotetest.Token))
	code, out, errOut := execute("hosts")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(plain.Addr)+` +yes +yes .* plain TCP \(not encrypted\)$`, out)

	remoteSetup(t, hostsFile(true, [3]string{plain.Addr, remotetest.Token, "4"}))
	code, out, errOut = execute("hosts")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "host answered in plain TCP, not TLS")

	remoteSetup(t, fmt.Sprintf("remote = true\n[[hosts]]\nconnect = %q\ntoken = %q\n", plain.Addr, remotetest.Token))
	code, out, errOut = execute("hosts")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "no fingerprint pinned for this host: run dcc-server --fingerprint on the host")
	assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(plain.Addr)+` .* TLS, no fingerprint pinned$`, out)

	tlsHost := remotetest.Start(t, "127.0.0.3", remotetest.Options{})
	remoteSetup(t, fmt.Sprintf("remote = true\n[[hosts]]\nconnect = %q\ntoken = %q\nplaintext = true\n", tlsHost.Addr, remotetest.Token))
	code, out, errOut = execute("hosts")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "refused (transport): this host requires TLS: remove plaintext for it and pin its fingerprint")
}

func TestConfigShowsHosts(t *testing.T) {
	remoteSetup(t, hostsFile(false, [3]string{"127.0.0.2:9693", "s3cret", "4"}, [3]string{"127.0.0.3", "", "8"}))
	t.Setenv("DCC_TOKEN", "")
	code, out, errOut := execute("config")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^host +127\.0\.0\.2:9693 njob=4 token=set connect_timeout=300ms send_timeout=10s recv_timeout=5m0s fingerprint=sha256:[0-9a-f]{64} +file .*config\.toml:4$`, out)
	assert.Regexp(t, `(?m)^host +127\.0\.0\.3:9693 njob=8 token=not set .* +file .*config\.toml:10$`, out)
	assert.Regexp(t, `(?m)^token +not set +default$`, out)
	assert.NotContains(t, out, "s3cret")

	remoteSetup(t, "token = \"g\"\n")
	code, out, _ = execute("config")
	require.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^hosts +none +default$`, out)
	assert.Regexp(t, `(?m)^token +set +file `, out)
}

// remoteFake is a daemon backend that compiles remotely, with canned reports.
type remoteFake struct {
	fakeBackend
	mu       sync.Mutex
	reports  []daemon.HostReport
	checks   []bool
	projects []string
}

func (b *remoteFake) Hosts(_ context.Context, check bool) ([]daemon.HostReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checks = append(b.checks, check)
	out := append([]daemon.HostReport(nil), b.reports...)
	if check {
		for i := range out {
			out[i].Contacted = true
		}
	}
	return out, nil
}

func (b *remoteFake) CleanRemote(_ context.Context, project string) ([]daemon.CleanReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.projects = append(b.projects, project)
	return []daemon.CleanReport{{Host: "127.0.0.9:9693", Removed: 5}}, nil
}

// serveDaemon runs a daemon in this process with backend, answering as this
// build's daemon; the test's cleanup stops it.
func serveDaemon(t *testing.T, dir string, backend daemon.Backend) int {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	saved := daemonRunCommand
	daemonRunCommand = func() ([]string, error) { return []string{exe}, nil }
	t.Cleanup(func() { daemonRunCommand = saved })
	build, err := daemon.BuildIDOf(exe)
	require.NoError(t, err)
	socket := (&config.Config{Dir: dir}).SocketPath()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- daemon.Serve(ctx, daemon.ServerOptions{SocketPath: socket, BuildID: build}, backend) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("daemon did not stop")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := daemon.Dial(context.Background(), socket, build)
		if err == nil {
			pid := c.Server().PID
			c.Close()
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no daemon: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRemoteThroughDaemon(t *testing.T) {
	tok := remotetest.Token
	reports := []daemon.HostReport{
		{Host: "127.0.0.9:9693", Jobs: 6, Contacted: true, Reachable: true, Authenticated: true, Sandboxed: true, Slots: 4, Running: 2, InFlight: 2,
			Sent: 10, OK: 9, Failed: 1, Toolchains: []daemon.HostToolchain{{Key: "k", Driver: "clang", Version: "14.0.6", Target: "x86_64-pc-linux-gnu"}}},
		{Host: "127.0.0.10:9693", Jobs: 8, Contacted: true, Error: "connection refused", Backoff: 4 * time.Second},
	}
	file := hostsFile(true, [3]string{"127.0.0.9:9693", tok, "6"}, [3]string{"127.0.0.10:9693", tok, "8"})

	t.Run("hosts and jobs", func(t *testing.T) {
		dir := remoteSetup(t, file)
		b := &remoteFake{reports: reports}
		pid := serveDaemon(t, dir, b)
		code, out, errOut := execute("hosts")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, fmt.Sprintf("remote compiling on; hosts as the daemon (pid %d) sees them", pid))
		assert.Regexp(t, `(?m)^127\.0\.0\.9:9693 +yes +yes +6 +4 +2 +0 +2 +- +10/9/1 +clang 14\.0\.6 \(x86_64-pc-linux-gnu\) +TLS, pinned$`, out)
		assert.Regexp(t, `(?m)^127\.0\.0\.10:9693 +no: connection refused +- +8 +- +- +- +0 +4s +0/0/0 +- +TLS, pinned$`, out)
		code, out, _ = execute("jobs")
		require.Equal(t, 0, code)
		assert.Equal(t, "9\n", out)
		code, _, _ = execute("hosts", "--check")
		require.Equal(t, 0, code)
		assert.Equal(t, []bool{false, false, true}, b.checks, "the daemon is asked to check only with --check")
	})

	t.Run("hosts the daemon has not tried are checked", func(t *testing.T) {
		dir := remoteSetup(t, file)
		fresh := append([]daemon.HostReport(nil), reports...)
		fresh[1] = daemon.HostReport{Host: "127.0.0.10:9693", Jobs: 8}
		b := &remoteFake{reports: fresh}
		serveDaemon(t, dir, b)
		code, out, _ := execute("jobs")
		require.Equal(t, 0, code)
		assert.Equal(t, "9\n", out)
		assert.Equal(t, []bool{false, true}, b.checks)
	})

	t.Run("clean", func(t *testing.T) {
		dir := remoteSetup(t, file)
		b := &remoteFake{}
		serveDaemon(t, dir, b)
		code, out, errOut := execute("clean", "--remote")
		require.Equal(t, 0, code, errOut)
		wd, err := os.Getwd()
		require.NoError(t, err)
		assert.Equal(t, []string{remote.ProjectOf(wd)}, b.projects)
		assert.Contains(t, out, "127.0.0.9:9693  removed 5 entries")
	})

	t.Run("a daemon without remote support", func(t *testing.T) {
		good := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
		dir := remoteSetup(t, hostsFile(true, [3]string{good.Addr, tok, "4"}))
		serveDaemon(t, dir, fakeBackend{})
		code, out, errOut := execute("hosts")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "hosts checked from here")
		code, out, _ = execute("jobs")
		require.Equal(t, 0, code)
		assert.Equal(t, "7\n", out)
	})

	t.Run("config set stops the running daemon", func(t *testing.T) {
		dir := remoteSetup(t, "")
		pid := serveDaemon(t, dir, fakeBackend{})
		code, _, errOut := execute("-M", "2G")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, errOut, fmt.Sprintf("stopped the daemon (pid %d); the next compile starts one with this setting", pid))
		code, out, _ := execute("config", "get", "max_size")
		require.Equal(t, 0, code)
		assert.Equal(t, "2G\n", out)
	})

	t.Run("connect stops the running daemon", func(t *testing.T) {
		good := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
		dir := remoteSetup(t, hostsFile(false, [3]string{good.Addr, tok, "4"}))
		pid := serveDaemon(t, dir, fakeBackend{})
		code, _, errOut := execute("connect")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, errOut, fmt.Sprintf("stopped the daemon (pid %d)", pid))
	})
}
