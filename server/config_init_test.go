package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInitConfigWritesOnceWithKeyBeside runs dcc-server --init-config as a
// package's postinst does: the file and its key are written once, the token
// is not printed, a second run (an upgrade) changes nothing, and a copy of
// the two in another directory (systemd's credentials) names the copy's key.
func TestInitConfigWritesOnceWithKeyBeside(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "state")
	file := filepath.Join(root, "etc", "dcc", ConfigFileName)
	code, stdout, stderr := runMain(t, state, "--init-config", file)
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, stdout, "wrote "+file+" with a new token")
	assert.Contains(t, stdout, "clients pin its fingerprint sha256:")
	assert.NoDirExists(t, state, "only the file and its key are written")

	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Contains(t, string(data), `tls_file = "server-tls.pem"`)
	cfg, err := ParseConfig(file, state, data)
	require.NoError(t, err)
	require.Len(t, cfg.Tokens, 1)
	assert.NotContains(t, stdout, cfg.Tokens[0], "the token is never printed")
	assert.Equal(t, filepath.Join(state, "server-work"), cfg.Workdir, "defaults from DCC_DIR")
	assert.Equal(t, filepath.Join(state, "server-cache"), cfg.CacheDir)
	keyPath := filepath.Join(root, "etc", "dcc", TLSFileName)
	assert.Equal(t, keyPath, cfg.TLSFile)
	for _, p := range []string{file, keyPath} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), p)
	}
	key, err := LoadHostKey(keyPath, "")
	require.NoError(t, err)
	assert.Contains(t, stdout, key.Fingerprint)

	// Again (an upgrade): nothing changes.
	code, stdout, stderr = runMain(t, state, "--init-config", file)
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, stdout, file+" exists: kept as it is")
	assert.Contains(t, stdout, "has the fingerprint "+key.Fingerprint)
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, data, again)

	// The two copied elsewhere, as systemd's LoadCredential= does.
	creds := filepath.Join(root, "creds")
	require.NoError(t, os.MkdirAll(creds, 0o700))
	keyData, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(creds, ConfigFileName), data, 0o400))
	require.NoError(t, os.WriteFile(filepath.Join(creds, TLSFileName), keyData, 0o400))
	copied, err := ParseConfig(filepath.Join(creds, ConfigFileName), state, data)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(creds, TLSFileName), copied.TLSFile)
	copiedKey, err := LoadHostKey(copied.TLSFile, "")
	require.NoError(t, err)
	assert.False(t, copiedKey.Created)
	assert.Equal(t, key.Fingerprint, copiedKey.Fingerprint)

	// A key removed (to change it) is made again; the file is kept.
	require.NoError(t, os.Remove(keyPath))
	code, stdout, stderr = runMain(t, state, "--init-config", file)
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, stdout, "kept as it is")
	assert.Contains(t, stdout, "made a TLS key in "+keyPath)
	again, err = os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, data, again)
}

func TestInitConfigCommandLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.conf")
	for _, args := range [][]string{
		{"--init-config", file, "--listen", "127.0.0.1:1"},
		{"--init-config", file, "--status"},
		{"--init-config", ""},
	} {
		code, _, stderr := runMain(t, dir, args...)
		assert.Equal(t, ExitUsage, code, "%q", args)
		assert.Contains(t, stderr, "--init-config", "%q", args)
	}
	assert.NoFileExists(t, file)
	assert.NoFileExists(t, filepath.Join(dir, ConfigFileName), "no first run either")

	// A file there that is not a config is reported, not replaced.
	require.NoError(t, os.WriteFile(file, []byte("jobs = 1\n"), 0o600))
	code, _, stderr := runMain(t, dir, "--init-config", file)
	assert.Equal(t, ExitError, code)
	assert.Contains(t, stderr, file+": tokens: no token")
}
