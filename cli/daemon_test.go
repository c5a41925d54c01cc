//go:build unix

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
)

// daemonHelperEnv makes the test binary run as "dcc" with a fake backend:
// that is how "dcc daemon start" here starts a daemon.
const daemonHelperEnv = "DCC_CLI_TEST_DAEMON"

func TestMain(m *testing.M) {
	if os.Getenv(daemonHelperEnv) == "1" {
		NewBackend = func(context.Context, *config.Config, *slog.Logger) (daemon.Backend, error) {
			return fakeBackend{}, nil
		}
		os.Exit(Execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// fakeBackend answers every compile with "not handled".
type fakeBackend struct{}

func (fakeBackend) Compile(context.Context, daemon.CompileRequest) daemon.CompileResult {
	return daemon.CompileResult{Reason: "fake"}
}
func (fakeBackend) Stats(context.Context) (daemon.StatsReport, error) {
	return daemon.StatsReport{}, nil
}
func (fakeBackend) ZeroStats(context.Context) error { return nil }
func (fakeBackend) Clear(context.Context) error     { return nil }
func (fakeBackend) Close() error                    { return nil }

// execute runs dcc with args and returns its exit code and output.
func execute(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDaemonUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{[]string{"daemon"}, 2, "", "daemon needs start, stop, status or run"},
		{[]string{"daemon", "frob"}, 2, "", `unknown daemon command "frob"`},
		{[]string{"daemon", "stop", "now"}, 2, "", "daemon stop takes no arguments"},
		{[]string{"daemon", "status", "-x"}, 2, "", "flag provided but not defined: -x"},
		{[]string{"daemon", "--help"}, 0, "usage: dcc daemon start | stop | status [-json] | run", ""},
		{[]string{"help", "daemon"}, 0, "exits after idle_timeout", ""},
	}
	for _, tt := range tests {
		t.Run(tt.args[len(tt.args)-1], func(t *testing.T) {
			code, out, errOut := execute(tt.args...)
			assert.Equal(t, tt.wantCode, code, errOut)
			assert.Contains(t, out, tt.wantOut)
			assert.Contains(t, errOut, tt.wantErr)
		})
	}
}

func TestDaemonRunWithoutBackend(t *testing.T) {
	dir := shortDCCDir(t)
	saved := NewBackend
	NewBackend = nil
	defer func() { NewBackend = saved }()
	code, _, errOut := execute("daemon", "run")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "dccd", "dcc runs the daemon executable, which is not there")
	assert.NoFileExists(t, filepath.Join(dir, "daemon.sock"))
}

func TestDaemonLifecycle(t *testing.T) {
	dir := shortDCCDir(t)
	socket := (&config.Config{Dir: dir}).SocketPath()
	exe, err := os.Executable()
	require.NoError(t, err)
	saved := daemonRunCommand
	daemonRunCommand = func() ([]string, error) { return []string{exe, "daemon", "run"}, nil }
	t.Cleanup(func() { daemonRunCommand = saved })
	t.Setenv(daemonHelperEnv, "1") // for the daemon that start spawns
	t.Cleanup(func() {             // whatever happens, no daemon outlives the test
		if pid, err := daemon.ReadPID(socket); err == nil && pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	code, _, errOut := execute("daemon", "status")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no daemon running")
	code, out, _ := execute("daemon", "stop")
	assert.Equal(t, 0, code)
	assert.Equal(t, "no daemon running\n", out)

	code, out, errOut = execute("daemon", "start")
	require.Equal(t, 0, code, errOut)
	pid, err := daemon.ReadPID(socket)
	require.NoError(t, err)
	require.NotZero(t, pid)
	assert.Equal(t, "daemon running (pid "+strconv.Itoa(pid)+", socket "+socket+")\n", out)
	assert.FileExists(t, filepath.Join(dir, "daemon.log"))

	code, out, _ = execute("daemon", "start")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "(pid "+strconv.Itoa(pid)+",", "the running daemon is kept")

	code, out, _ = execute("daemon", "status")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^pid +`+strconv.Itoa(pid)+`$`, out)
	assert.Regexp(t, `(?m)^socket +`+socket+`$`, out)

	code, out, _ = execute("daemon", "status", "-json")
	require.Equal(t, 0, code)
	var st statusJSON
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, pid, st.PID)
	assert.Equal(t, socket, st.Socket)
	assert.Equal(t, 600.0, st.IdleTimeoutSeconds, "the default idle_timeout")

	savedBackend := NewBackend
	NewBackend = func(context.Context, *config.Config, *slog.Logger) (daemon.Backend, error) { return fakeBackend{}, nil }
	code, _, errOut = execute("daemon", "run")
	NewBackend = savedBackend
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "another daemon is running")

	code, out, _ = execute("daemon", "stop")
	assert.Equal(t, 0, code)
	assert.Equal(t, "daemon stopped (pid "+strconv.Itoa(pid)+")\n", out)
	waitProcessGone(t, pid)
	code, _, _ = execute("daemon", "status")
	assert.Equal(t, 1, code)
}

// shortDCCDir makes a DCC_DIR short enough for a Unix socket path.
func shortDCCDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dccc")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("DCC_DIR", dir)
	for _, k := range []string{"DCC_IDLE_TIMEOUT", "DCC_LOG_LEVEL", "DCC_DISABLE"} {
		t.Setenv(k, "")
	}
	return dir
}

// waitProcessGone waits until pid has exited (or is a zombie nobody reaped).
func waitProcessGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && bytes.Contains(b, []byte(") Z ")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
