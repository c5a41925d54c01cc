package compile

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dcc-build/dcc/daemon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every compile the daemon is asked about leaves one DCC_LOG line when the
// compile's environment names a log (relative to its directory): the
// classification, or "local" with the reason when it never got that far.
func TestDecisionLog(t *testing.T) {
	gcc := gccPath(t)
	s := newTestService(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.c": "int a;\n", "notcc": "#!/bin/sh\necho not a compiler\n"})
	require.NoError(t, os.Chmod(filepath.Join(dir, "notcc"), 0o755))
	ctx := context.Background()
	env := append(os.Environ(), "DCC_LOG=logs/dcc.log")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "logs"), 0o755))

	tests := []struct {
		name string
		req  daemon.CompileRequest
		want map[string]string
	}{
		{"a compile", daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: []string{"-O2", "-c", "a.c", "-o", "a.o"}},
			map[string]string{"action": "remote", "source": "a.c", "object": "a.o", "real": gcc, "dir": dir}},
		{"a link", daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: []string{"a.o", "-o", "prog"}},
			map[string]string{"action": "local"}},
		{"an unknown compiler", daemon.CompileRequest{Compiler: "cc", Real: filepath.Join(dir, "notcc"), Dir: dir, Env: env, Args: []string{"-c", "a.c"}},
			map[string]string{"action": "local", "source": ""}},
		{"no log named", daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(), Args: []string{"-c", "a.c", "-o", "b.o"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := readDecisions(t, filepath.Join(dir, "logs/dcc.log"))
			s.Compile(ctx, tc.req)
			after := readDecisions(t, filepath.Join(dir, "logs/dcc.log"))
			if tc.want == nil {
				assert.Len(t, after, len(before))
				return
			}
			require.Len(t, after, len(before)+1)
			line := after[len(after)-1]
			assert.Equal(t, tc.req.Compiler, line["compiler"])
			assert.NotEmpty(t, line["reason"])
			for k, v := range tc.want {
				assert.Equal(t, v, line[k], k)
			}
		})
	}
}

// readDecisions parses a DCC_LOG file (none yet: no lines).
func readDecisions(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		line := map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				line[k] = s
			}
		}
		out = append(out, line)
	}
	return out
}
