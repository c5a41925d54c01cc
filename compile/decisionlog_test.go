package compile

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote"
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
	settle(t, dir)
	ctx := context.Background()
	env := append(os.Environ(), "DCC_LOG=logs/dcc.log")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "logs"), 0o755))

	tests := []struct {
		name string
		req  daemon.CompileRequest
		want map[string]string
	}{
		{"a compile", daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: []string{"-O2", "-c", "a.c", "-o", "a.o"}},
			map[string]string{"action": "remote", "source": "a.c", "object": "a.o", "real": gcc, "dir": dir,
				"outcome": daemon.OutcomeMiss, "miss_reason": cache.MissNewSource, "compiled_on": daemon.CompiledHere}},
		{"the same compile", daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: []string{"-O2", "-c", "a.c", "-o", "a.o"}},
			map[string]string{"action": "remote", "outcome": daemon.OutcomeDirectHit, "miss_reason": "", "compiled_on": ""}},
		{"a link", daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: []string{"a.o", "-o", "prog"}},
			map[string]string{"action": "local", "outcome": daemon.OutcomeLocal, "compiled_on": ""}},
		{"an unknown compiler", daemon.CompileRequest{Compiler: "cc", Real: filepath.Join(dir, "notcc"), Dir: dir, Env: env, Args: []string{"-c", "a.c"}},
			map[string]string{"action": "local", "source": "", "outcome": daemon.OutcomeError}},
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
			assert.NotEmpty(t, line["duration_ms"], "the daemon's time")
			for k, v := range tc.want {
				assert.Equal(t, v, line[k], k)
			}
		})
	}
}

// readDecisions parses a DCC_LOG file (none yet: no lines), each field as a
// string (numbers as JSON writes them).
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
			switch v := v.(type) {
			case string:
				line[k] = v
			case float64:
				line[k] = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
		out = append(out, line)
	}
	return out
}

// ownerFarm is a runnerFarm whose one host also owns every shared-cache key.
type ownerFarm struct{ *runnerFarm }

func (ownerFarm) SharedOwner(string) string { return runnerHost }

// failingFarm is a Farm whose every compile fails with err, from host.
type failingFarm struct {
	host string
	err  error
}

func (f failingFarm) Compile(context.Context, string, *protocol.CompileRequest) (*protocol.CompileResult, string, error) {
	return nil, f.host, f.err
}
func (f failingFarm) CompileOr(context.Context, string, *protocol.CompileRequest, chan struct{}) (*protocol.CompileResult, string, bool, error) {
	return nil, f.host, false, f.err
}
func (failingFarm) CacheGet(context.Context, string, string) ([]byte, bool) { return nil, false }
func (failingFarm) CachePut(context.Context, string, string, []byte)        {}
func (failingFarm) SharedOwner(string) string                               { return "" }
func (failingFarm) OwnerTakes(string, string) bool                          { return false }

// With compile hosts, the DCC_LOG line says where a miss compiled: on the
// host, or here and why; and which host's shared cache answered a hit.
func TestDecisionLogRemote(t *testing.T) {
	gcc := gccPath(t)
	args := []string{"-O2", "-Iinc", "-MD", "-c", "src/main.c", "-o", "main.o"}
	// compileLogged compiles in dir with s and returns its DCC_LOG line.
	compileLogged := func(t *testing.T, s *Service, dir string) map[string]string {
		t.Helper()
		logPath := filepath.Join(dir, "dcc.log")
		env := append(os.Environ(), "DCC_LOG="+logPath, "DCC_PROJECT=log-test")
		s.Compile(t.Context(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: args})
		lines := readDecisions(t, logPath)
		require.NotEmpty(t, lines)
		return lines[len(lines)-1]
	}

	t.Run("compiled on the host, then a shared-cache hit", func(t *testing.T) {
		s, farm := newSourcesService(t, "all")
		line := compileLogged(t, s, sourcesTree(t))
		assert.Equal(t, daemon.OutcomeMiss, line["outcome"], "%v", line)
		assert.Equal(t, cache.MissNewSource, line["miss_reason"], "%v", line)
		assert.Equal(t, runnerHost, line["compiled_on"], "%v", line)
		assert.Empty(t, line["fallback"], "%v", line)
		require.Eventually(t, func() bool { return farm.sharedEntries() == 1 }, 10*time.Second, 10*time.Millisecond)

		other := newTestServiceWith(t, func(o *Options) {
			o.DependMode = true
			o.Remote = RemoteOptions{Farm: ownerFarm{farm}, Sources: "all", RerunErrors: true}
		})
		line = compileLogged(t, other, sourcesTree(t))
		assert.Equal(t, daemon.OutcomeSharedHit, line["outcome"], "%v", line)
		assert.Equal(t, runnerHost, line["shared_host"], "%v", line)
		assert.Empty(t, line["miss_reason"], "%v", line)
		assert.Empty(t, line["compiled_on"], "%v", line)
	})

	tests := []struct {
		name      string
		farm      Farm
		threshold int
		fallback  string
	}{
		{"the host fails", failingFarm{"10.9.9.9:9693", errors.New("connection reset")}, 0, "host 10.9.9.9:9693 failed: connection reset"},
		{"no free host", failingFarm{"", remote.ErrNoHost}, 0, "no free host"},
		{"too small to send", failingFarm{"", remote.ErrNoHost}, 1 << 30, "small: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServiceWith(t, func(o *Options) {
				o.Remote = RemoteOptions{Farm: tt.farm, Sources: "off", LocalThreshold: tt.threshold, RerunErrors: true}
			})
			line := compileLogged(t, s, sourcesTree(t))
			assert.Equal(t, daemon.OutcomeMiss, line["outcome"], "%v", line)
			assert.Equal(t, daemon.CompiledHere, line["compiled_on"], "%v", line)
			assert.Contains(t, line["fallback"], tt.fallback, "%v", line)
		})
	}
}
