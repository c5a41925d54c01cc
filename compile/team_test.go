package compile

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/daemon"
)

// memTeam is a team cache in memory, written at once. It stands in for
// teamcache.Front here; the real storages run in the integration tests.
type memTeam struct {
	mu      sync.Mutex
	entries map[string][]byte
}

func (m *memTeam) Get(_ context.Context, key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.entries[key]
	return b, ok
}

func (m *memTeam) Put(key string, payload []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string][]byte{}
	}
	m.entries[key] = payload
}

// checkout lays out one checkout of a small project under root/name, a
// git repository (its project root) built in build/, and returns its
// directory.
func checkout(t *testing.T, root, name string, source string) string {
	t.Helper()
	dir := filepath.Join(root, name, "proj")
	writeTree(t, dir, map[string]string{
		"include/y.h": "#define Y 3\nstatic inline int twice(int v) { return 2 * v; }\n",
		"src/x.c":     source,
		".git/HEAD":   "ref: refs/heads/main\n",
	})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "build"), 0o755))
	return dir
}

// teamCompile compiles src/x.c of the checkout at dir the way CMake does
// (absolute -I and source, a dependency file) with args added, through s,
// and returns the result and the object; plain is the object plain gcc
// writes for the same command.
func teamCompile(t *testing.T, s *Service, dir string, args ...string) (res daemon.CompileResult, obj, plain []byte) {
	t.Helper()
	gcc := gccPath(t)
	build := filepath.Join(dir, "build")
	argv := append(append([]string{"-O2"}, args...), "-I"+filepath.Join(dir, "include"), "-MD", "-MT", "x.o", "-MF", "x.d",
		"-c", filepath.Join(dir, "src/x.c"), "-o", "x.o")
	cmd := exec.Command(gcc, append(argv[:len(argv)-1:len(argv)-1], "plain.o")...)
	cmd.Dir = build
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	plainDeps := readT(t, build, "x.d")
	res = s.Compile(context.Background(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: build, Env: os.Environ(), Args: argv})
	require.True(t, res.Handled, res.Reason)
	assert.Equal(t, string(plainDeps), string(readT(t, build, "x.d")), "the dependency file names this checkout")
	return res, readT(t, build, "x.o"), readT(t, build, "plain.o")
}

// Two checkouts at different places, each with its own local cache, share
// the units whose objects are the same, and only those.
func TestTeamCacheAcrossCheckouts(t *testing.T) {
	const unit = "#include \"y.h\"\nint g(int v) { return twice(v) * Y; }\n"
	cases := []struct {
		name   string
		source string
		args   []string
		shared bool
		// bobFiles are written into the second checkout only.
		bobFiles map[string]string
	}{
		{"plain unit", unit, nil, true, nil},
		{"debug information maps the checkout", unit, []string{"-g", "-ffile-prefix-map=ROOT=."}, true, nil},
		{"debug information records the directory", unit, []string{"-g"}, false, nil},
		{"__FILE__ names the source", "#include \"y.h\"\nconst char *f(void) { return __FILE__; }\n", nil, false, nil},
		{"__builtin_FILE takes the marker's name", "const char *f(void) { return __builtin_FILE(); }\n", nil, false, nil},
		{"a warning names the source", "#include \"y.h\"\nint g(int v) { int unused; return v; }\n", []string{"-Wunused-variable"}, false, nil},
		{"sizeof(__FILE__) counts the path", "unsigned long n = sizeof(__FILE__);\n", nil, false, nil},
		{"a header differs", unit, nil, false, map[string]string{"include/y.h": "#define Y 4\nstatic inline int twice(int v) { return 2 * v; }\n"}},
		{"a header shadows the one read", unit, nil, false, map[string]string{"src/y.h": "#define Y 5\nstatic inline int twice(int v) { return 3 * v; }\n"}},
		// gcc names the header "/.../src/../include/y.h": the first
		// checkout's, on this machine, must not stand for the second's.
		{"a header named through .. differs", "#include \"../include/y.h\"\nint g(int v) { return twice(v) * Y; }\n", nil, false,
			map[string]string{"include/y.h": "#define Y 4\nstatic inline int twice(int v) { return 2 * v; }\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			a, b := checkout(t, root, "alice", tc.source), checkout(t, root, "bob/work", tc.source)
			writeTree(t, b, tc.bobFiles)
			settle(t, root)
			team := &memTeam{}
			withTeam := func(o *Options) { o.Team = team }
			args := func(dir string) []string {
				out := make([]string, len(tc.args))
				for i, arg := range tc.args {
					out[i] = strings.ReplaceAll(arg, "ROOT", dir)
				}
				return out
			}

			res, obj, plain := teamCompile(t, newTestServiceWith(t, withTeam), a, args(a)...)
			assert.Equal(t, "cache miss", res.Reason)
			assert.Equal(t, plain, obj)
			require.NotEmpty(t, team.entries, "the miss was written to the team cache")

			res, obj, plain = teamCompile(t, newTestServiceWith(t, withTeam), b, args(b)...)
			assert.Equal(t, plain, obj, "the object is the one gcc writes here")
			if tc.shared {
				assert.Equal(t, "remote storage hit (direct)", res.Reason, "served without preprocessing")
			} else {
				assert.Equal(t, "cache miss", res.Reason, "an object that records its place is not served elsewhere")
			}

			// A third client at the first place is served whatever the unit.
			res, obj, plain = teamCompile(t, newTestServiceWith(t, withTeam), a, args(a)...)
			assert.True(t, strings.HasPrefix(res.Reason, "remote storage hit"), res.Reason)
			assert.Equal(t, plain, obj)
		})
	}
}
