package server

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runMain runs Main in this process with DCC_DIR set to dir.
func runMain(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("DCC_DIR", dir)
	var out, errOut bytes.Buffer
	code = Main(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMainCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	require.NoError(t, os.WriteFile(bad, []byte("tokens = [\"0123456789abcdef0123\"]\njobs = \"many\"\n"), 0o600))
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--config", bad, "--status"}, ExitError, "dcc-server: " + bad + ":2: jobs: wrong type"},
		{[]string{"extra"}, ExitUsage, `unexpected argument "extra"`},
		{[]string{"--start", "--stop"}, ExitUsage, "use one of --start, --stop, --restart, --status"},
		{[]string{"--listen", "nowhere", "--status"}, ExitUsage, "--listen nowhere: want HOST:PORT"},
		{[]string{"--jobs", "0"}, ExitUsage, "--jobs 0: want a number of jobs from 1 to 4096"},
		{[]string{"--jobs", "100000", "--status"}, ExitUsage, "--jobs 100000"},
		{[]string{"--token", "short", "--status"}, ExitUsage, "--token: a token must be at least 16 characters"},
		{[]string{"--no-such-flag"}, ExitUsage, "flag provided but not defined: -no-such-flag"},
	}
	for _, tt := range tests {
		code, _, stderr := runMain(t, dir, tt.args...)
		assert.Equal(t, tt.code, code, "%q: %s", tt.args, stderr)
		assert.Contains(t, stderr, tt.want, "%q", tt.args)
		if tt.code == ExitError {
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		}
	}
}

func TestMainFirstRunAndStatus(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runMain(t, dir, "--status")
	assert.Equal(t, ExitNotRunning, code, stderr)
	assert.Contains(t, stdout, "first run: wrote "+filepath.Join(dir, ConfigFileName))
	assert.Regexp(t, `DCC_TOKEN=[0-9a-f]{64} DCC_HOSTS="`, stdout)
	assert.Contains(t, stdout, "dcc-server is not running")
	// The token is printed once.
	code, stdout, _ = runMain(t, dir, "--status")
	assert.Equal(t, ExitNotRunning, code)
	assert.NotContains(t, stdout, "DCC_TOKEN")
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
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

func TestMainForeground(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DCC_DIR", dir)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"--listen", loopbackHost(t) + ":0", "--jobs", "1", "--token", "foreground-token-0123456789", "-v"}, &stdout, &stderr)
	}()
	re := regexp.MustCompile(`dcc-server listening on (\S+) \(1 jobs`)
	var addr string
	require.Eventually(t, func() bool {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
			return true
		}
		return false
	}, time.Minute, 10*time.Millisecond, "stdout: %s\nstderr: %s", &stdout, &stderr)
	s, err := protocol.Dial(t.Context(), addr, "foreground-token-0123456789", "tester@test", cliTransport(t, stdout.String()))
	require.NoError(t, err)
	assert.Equal(t, 1, s.Welcome().Load.Slots)
	require.NoError(t, s.Close())
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, ExitOK, code, "%s", &stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}
	assert.Contains(t, stderr.String(), "level=INFO msg=listening")
	assert.NotContains(t, stderr.String(), "foreground-token")
}

// buildServer builds the dcc-server binary into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dcc-server")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/dcc-build/dcc/cmd/dcc-server")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// daemonCmd runs the built binary with DCC_DIR set to dir.
func daemonCmd(t *testing.T, bin, dir string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "DCC_DIR="+dir)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, string(out)
}

var fingerprintRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// cliTransport pins the first fingerprint dcc-server printed in out.
func cliTransport(t *testing.T, out string) protocol.Transport {
	t.Helper()
	fp := fingerprintRE.FindString(out)
	require.NotEmpty(t, fp, "no fingerprint printed: %s", out)
	return protocol.Transport{Fingerprint: fp}
}

var startedRE = regexp.MustCompile(`dcc-server started: pid (\d+), listening on (\S+) `)

// started reads the pid and address --start printed, and makes sure the
// process is stopped at the test's end whatever happens.
func started(t *testing.T, out string) (int, string) {
	t.Helper()
	m := startedRE.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	pid, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	t.Cleanup(func() {
		if processAlive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return pid, m[2]
}

func TestDaemonStartStatusRestartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildServer(t)
	dir := t.TempDir()
	listen := loopbackHost(t) + ":0"

	code, out := daemonCmd(t, bin, dir, "--start", "--listen", listen, "--token", "daemon-token-0123456789", "-v")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "first run: wrote")
	pid, addr := started(t, out)
	assert.True(t, processAlive(pid))
	cfg, _, err := LoadConfig(filepath.Join(dir, ConfigFileName), dir)
	require.NoError(t, err)
	// The first run printed the fingerprint clients pin; --fingerprint
	// prints it again, alone.
	tr := cliTransport(t, out)
	assert.Contains(t, out, `fingerprint = "`+tr.Fingerprint+`"`)
	code, fp := daemonCmd(t, bin, dir, "--fingerprint")
	require.Equal(t, 0, code, fp)
	assert.Equal(t, tr.Fingerprint+"\n", fp)
	fi, err := os.Stat(filepath.Join(dir, TLSFileName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the key is the owner's alone")

	// It serves, with the file's token and the --token one (passed to it
	// in its environment, not on its command line).
	for _, tok := range []string{cfg.Tokens[0], "daemon-token-0123456789"} {
		s, err := protocol.Dial(t.Context(), addr, tok, "tester@test", tr)
		require.NoError(t, err)
		_, err = s.Call(t.Context(), &protocol.Status{}, protocol.MsgStatusResult)
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err == nil {
		assert.NotContains(t, string(cmdline), "daemon-token")
	}

	code, out = daemonCmd(t, bin, dir, "--status")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "dcc-server is running: pid "+strconv.Itoa(pid)+", listening on "+addr)

	code, out = daemonCmd(t, bin, dir, "--start", "--listen", listen)
	assert.Equal(t, ExitError, code)
	assert.Contains(t, out, "already running (pid "+strconv.Itoa(pid))

	code, out = daemonCmd(t, bin, dir, "--restart", "--listen", listen)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "dcc-server stopped (pid "+strconv.Itoa(pid)+")")
	pid2, addr2 := started(t, out)
	assert.NotEqual(t, pid, pid2)
	assert.False(t, processAlive(pid), "the old server is gone")
	s, err := protocol.Dial(t.Context(), addr2, cfg.Tokens[0], "tester@test", tr)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	code, out = daemonCmd(t, bin, dir, "--stop")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "dcc-server stopped (pid "+strconv.Itoa(pid2)+")")
	assert.False(t, processAlive(pid2))
	assert.NoFileExists(t, cfg.Pidfile)

	code, out = daemonCmd(t, bin, dir, "--status")
	assert.Equal(t, ExitNotRunning, code, out)
	assert.Contains(t, out, "dcc-server is not running")
	code, out = daemonCmd(t, bin, dir, "--stop")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "not running")

	// A stale pid file: its process is gone.
	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	require.NoError(t, os.WriteFile(cfg.Pidfile, []byte(strconv.Itoa(gone.Process.Pid)+"\n127.0.0.2:1\n"), 0o600))
	code, out = daemonCmd(t, bin, dir, "--status")
	assert.Equal(t, ExitNotRunning, code, out)
	assert.Contains(t, out, "stale pid file")
	code, out = daemonCmd(t, bin, dir, "--stop")
	assert.Equal(t, 0, code, out)
	assert.NoFileExists(t, cfg.Pidfile)

	// --start over a stale pid file.
	require.NoError(t, os.WriteFile(cfg.Pidfile, []byte(strconv.Itoa(gone.Process.Pid)+"\n"), 0o600))
	code, out = daemonCmd(t, bin, dir, "--start", "--listen", listen)
	require.Equal(t, 0, code, out)
	pid3, _ := started(t, out)
	code, out = daemonCmd(t, bin, dir, "--stop")
	assert.Equal(t, 0, code, out)
	assert.False(t, processAlive(pid3))

	// A server that cannot start says why.
	code, out = daemonCmd(t, bin, dir, "--start", "--listen", "192.0.2.1:1")
	assert.Equal(t, ExitError, code, out)
	assert.Contains(t, out, "exited at start")
	assert.Contains(t, out, "listen")

	logData, err := os.ReadFile(cfg.Logfile)
	require.NoError(t, err)
	assert.Contains(t, string(logData), "msg=listening")
	for _, tok := range append(cfg.Tokens, "daemon-token-0123456789") {
		assert.NotContains(t, string(logData), tok)
	}
}
