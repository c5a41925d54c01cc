//go:build unix

package server

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tokens of the reload tests: the file's at start (old, kept), the one the
// reload adds (added), and the command line's (flag).
const (
	reloadOld   = "reload-old-token-0123456789"
	reloadKept  = "reload-kept-token-0123456789"
	reloadAdded = "reload-added-token-0123456789"
	reloadFlag  = "reload-flag-token-0123456789"
)

// dialToken opens a session to addr with token, or returns the error.
func dialToken(t *testing.T, addr, token string, tr protocol.Transport) (*protocol.ClientSession, error) {
	t.Helper()
	s, err := protocol.Dial(t.Context(), addr, token, "tester@test", tr)
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

// setTokens rewrites the tokens line of the config file at path.
func setTokens(t *testing.T, path string, tokens ...string) {
	t.Helper()
	setKey(t, path, "tokens", tomlStrings(tokens))
}

// setKey rewrites the line "key = ..." of the config file at path.
func setKey(t *testing.T, path, key, value string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, key+" = ") {
			lines[i], found = key+" = "+value, true
		}
	}
	require.True(t, found, "no %s line in %s", key, path)
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600))
}

// TestServerReloadTokensAndAllow: a server started from a file with
// tokens old and kept, and a command-line token, reloads the file with
// old removed and added added: added gets in, old is refused at the
// handshake, kept and the command line's still get in, and the session
// old opened before goes on. A changed jobs is reported as taking effect
// at restart; a file that does not parse is one error line and changes
// nothing; a new allow list refuses loopback before the handshake.
func TestServerReloadTokensAndAllow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.conf")
	ts := startServer(t, func(c *Config) {
		c.File = path
		t.Setenv("DCC_DIR", filepath.Dir(c.Workdir)) // the defaults the file leaves out
		c.Tokens = []string{reloadOld, reloadKept}
		require.NoError(t, os.WriteFile(path, []byte(c.fileText()), 0o600))
		require.NoError(t, c.Apply(Overrides{Token: reloadFlag}))
	}, nil)
	load := func() (*Config, error) { return ReloadConfig(path, Overrides{Token: reloadFlag}) }
	reload := func() []string {
		cfg, err := load()
		require.NoError(t, err)
		changed, err := ts.srv.Reload(cfg)
		require.NoError(t, err)
		return changed
	}
	tr := ts.transport()
	before, err := dialToken(t, ts.addr, reloadOld, tr)
	require.NoError(t, err)
	assert.Empty(t, reload(), "the same file: nothing to restart for")

	setTokens(t, path, reloadKept, reloadAdded)
	assert.Empty(t, reload(), "tokens change live")
	for _, tok := range []string{reloadAdded, reloadKept, reloadFlag} {
		_, err := dialToken(t, ts.addr, tok, tr)
		assert.NoError(t, err, "token %s after the reload", tok)
	}
	_, err = dialToken(t, ts.addr, reloadOld, tr)
	assert.ErrorIs(t, err, protocol.ErrAuth, "the removed token is refused")
	_, err = call(t, before, &protocol.Status{}, protocol.MsgStatusResult)
	assert.NoError(t, err, "a session opened before the reload goes on")

	// Through the signal path, as dcc-server runs it: jobs changed, then a
	// file that does not parse.
	hup := make(chan os.Signal, 1)
	go ts.srv.ReloadOnSignal(t.Context(), hup, load)
	setKey(t, path, "jobs", "7")
	hup <- syscall.SIGHUP
	assert.Eventually(t, func() bool { return strings.Contains(ts.logText(), `msg="jobs changed: takes effect at restart"`) },
		5*time.Second, 10*time.Millisecond)
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append([]byte("tokens = [\"half\n"), good...), 0o600))
	hup <- syscall.SIGHUP
	assert.Eventually(t, func() bool { return strings.Contains(ts.logText(), "level=ERROR msg=\"reload failed") },
		5*time.Second, 10*time.Millisecond)
	_, err = dialToken(t, ts.addr, reloadAdded, tr)
	assert.NoError(t, err, "the running configuration is kept")
	_, err = dialToken(t, ts.addr, reloadOld, tr)
	assert.ErrorIs(t, err, protocol.ErrAuth)

	require.NoError(t, os.WriteFile(path, good, 0o600))
	setKey(t, path, "allow", `["10.0.0.0/8"]`)
	assert.Equal(t, []string{"jobs"}, reload())
	_, err = dialToken(t, ts.addr, reloadAdded, tr)
	require.Error(t, err)
	assert.NotErrorIs(t, err, protocol.ErrAuth, "refused before the handshake")
	assert.Eventually(t, func() bool { return strings.Contains(ts.logText(), "address not in allow") }, 5*time.Second, 10*time.Millisecond)

	log := ts.logText()
	assert.Equal(t, 1, strings.Count(log, "level=ERROR"), "one error line: %s", log)
	for _, tok := range []string{reloadOld, reloadKept, reloadAdded, reloadFlag} {
		assert.NotContains(t, log, tok, "a token reached the log")
	}
}

// TestRestartKeysCoverConfig: every field of Config and SandboxConfig is
// in restartKeys, so that a field added later is either applied by a
// reload or reported as taking effect at restart under its key's name.
func TestRestartKeysCoverConfig(t *testing.T) {
	for _, typ := range []struct {
		prefix string
		t      reflect.Type
	}{{"", reflect.TypeFor[Config]()}, {"Sandbox.", reflect.TypeFor[SandboxConfig]()}} {
		for i := 0; i < typ.t.NumField(); i++ {
			name := typ.prefix + typ.t.Field(i).Name
			if name == "Sandbox" {
				continue
			}
			key, ok := restartKeys[name]
			if assert.True(t, ok, "Config field %s is not in restartKeys", name) && key != "" {
				assert.Contains(t, configKeys, key, "%s: %q is not a key of the file", name, key)
			}
		}
	}
	a, b := DefaultConfig("/a"), DefaultConfig("/a")
	b.Sandbox.Memory, b.Listen, b.Tokens = 1, "127.0.0.1:1", []string{"x"}
	assert.Equal(t, []string{"job_memory", "listen"}, restartChanges(a, b))
}

// TestDaemonReload: the built dcc-server started with --start and a
// --token; its file's tokens changed, dcc-server --reload makes it take
// the new one and refuse the removed one, the --token one still in. A
// file that does not parse: --reload says so and sends nothing; SIGHUP
// sent anyway is one error line in the log, and the server goes on with
// what it had.
func TestDaemonReload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildServer(t)
	dir := t.TempDir()
	code, out := daemonCmd(t, bin, dir, "--reload")
	assert.Equal(t, ExitNotRunning, code, out)
	assert.Contains(t, out, "dcc-server is not running")
	tr := cliTransport(t, out) // the first run made the config and key

	code, out = daemonCmd(t, bin, dir, "--start", "--listen", loopbackHost(t)+":0", "--token", reloadFlag, "-v")
	require.Equal(t, 0, code, out)
	pid, addr := started(t, out)
	path := filepath.Join(dir, ConfigFileName)
	cfg, _, err := LoadConfig(path, dir)
	require.NoError(t, err)
	first := cfg.Tokens[0]
	_, err = dialToken(t, addr, first, tr)
	require.NoError(t, err)

	setTokens(t, path, reloadAdded)
	code, out = daemonCmd(t, bin, dir, "--reload")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "dcc-server (pid "+strconv.Itoa(pid)+") reloads "+path)
	require.Eventually(t, func() bool {
		_, err := dialToken(t, addr, reloadAdded, tr)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the added token gets in")
	_, err = dialToken(t, addr, first, tr)
	assert.ErrorIs(t, err, protocol.ErrAuth, "the removed token is refused")
	_, err = dialToken(t, addr, reloadFlag, tr)
	assert.NoError(t, err, "--token stays accepted")

	require.NoError(t, os.WriteFile(path, []byte("tokens = 3\n"), 0o600))
	code, out = daemonCmd(t, bin, dir, "--reload")
	assert.Equal(t, ExitError, code, out)
	assert.Contains(t, out, path+":1: tokens: wrong type")
	require.NoError(t, syscall.Kill(pid, syscall.SIGHUP))
	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(cfg.Logfile)
		return strings.Contains(string(data), "level=ERROR msg=\"reload failed")
	}, 10*time.Second, 20*time.Millisecond)
	assert.True(t, processAlive(pid), "SIGHUP does not stop it")
	_, err = dialToken(t, addr, reloadAdded, tr)
	assert.NoError(t, err, "the running configuration is kept")
	_, err = dialToken(t, addr, first, tr)
	assert.ErrorIs(t, err, protocol.ErrAuth)

	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	assert.Eventually(t, func() bool { return !processAlive(pid) }, 30*time.Second, 20*time.Millisecond)
	logData, err := os.ReadFile(cfg.Logfile)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(logData), "level=ERROR"), "%s", logData)
	for _, tok := range []string{first, reloadAdded, reloadFlag} {
		assert.NotContains(t, string(logData), tok)
	}
}

// TestHostKeyGroupReadableWhenRootOwns: the packaged key is
// root:dcc-server-conf 0640, read by the service through its group; a key
// others may read, or one its group may read that root does not own, is
// refused.
func TestHostKeyGroupReadableWhenRootOwns(t *testing.T) {
	path := filepath.Join(t.TempDir(), TLSFileName)
	_, err := LoadHostKey(path, "h")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(path, 0o640))
	_, err = LoadHostKey(path, "h")
	if os.Geteuid() != 0 {
		require.ErrorContains(t, err, "others may read it", "a key of this user's that its group may read")
		t.Skip("the rest chowns the key to root")
	}
	require.NoError(t, err, "root's key, group-readable")
	for _, mode := range []os.FileMode{0o660, 0o644, 0o604} {
		require.NoError(t, os.Chmod(path, mode))
		_, err = LoadHostKey(path, "h")
		require.ErrorContains(t, err, "others may read it", "mode %#o", mode)
	}
	require.NoError(t, os.Chmod(path, 0o640))
	require.NoError(t, os.Chown(path, 65534, 0))
	_, err = LoadHostKey(path, "h")
	require.ErrorContains(t, err, "others may read it", "not root's, group-readable")
}
