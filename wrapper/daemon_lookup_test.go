package wrapper

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDaemonCommandFindsPackagedLayout: dccd is looked for next to dcc,
// then in ../lib/dcc (the Debian package's /usr/bin/dcc and
// /usr/lib/dcc/dccd), then in PATH.
func TestDaemonCommandFindsPackagedLayout(t *testing.T) {
	saved := executable
	t.Cleanup(func() { executable = saved })
	root := t.TempDir()
	bin, lib := filepath.Join(root, "usr", "bin"), filepath.Join(root, "usr", "lib", "dcc")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	require.NoError(t, os.MkdirAll(lib, 0o755))
	for _, p := range []string{filepath.Join(bin, "dcc"), filepath.Join(lib, DaemonName)} {
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755))
	}
	SetExecutable(filepath.Join(bin, "dcc"))
	t.Setenv("PATH", t.TempDir())

	cmd, err := DaemonCommand()
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(lib, DaemonName)}, cmd)

	// One next to dcc comes first (make build's bin/dcc and bin/dccd).
	require.NoError(t, os.WriteFile(filepath.Join(bin, DaemonName), []byte("#!/bin/sh\n"), 0o755))
	cmd, err = DaemonCommand()
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(bin, DaemonName)}, cmd)

	// Neither: the error names where it looked.
	require.NoError(t, os.Remove(filepath.Join(bin, DaemonName)))
	require.NoError(t, os.Remove(filepath.Join(lib, DaemonName)))
	_, err = DaemonCommand()
	require.Error(t, err)
	assert.Contains(t, err.Error(), lib)
}
