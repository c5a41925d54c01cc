package compile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dcc-build/dcc/daemon"
	"github.com/stretchr/testify/require"
)

// reqIn is a request to compile in dir.
func reqIn(dir string) daemon.CompileRequest { return daemon.CompileRequest{Dir: dir} }

// writeTree writes name->content files under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// readT reads a file under dir.
func readT(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return b
}
