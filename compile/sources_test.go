package compile

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/server"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIncludeArgs(t *testing.T) {
	tests := []struct {
		args []string
		want []string
		ok   bool
	}{
		{nil, nil, true},
		{[]string{"-I", "inc", "-Iinc2", "-DX=1", "-D", "Y", "-UZ", "-isystem", "/opt/i", "-iquote", "q"},
			[]string{"-Iinc", "-Iinc2", "-DX=1", "-DY", "-UZ", "-isystem/opt/i", "-iquoteq"}, true},
		{[]string{"-include", "x.h"}, nil, false},
		{[]string{"-imacros", "x.h"}, nil, false},
		{[]string{"-idirafter", "d"}, nil, false},
		{[]string{"-nostdinc"}, nil, false},
		{[]string{"-I-"}, nil, false},
		{[]string{"-I=/usr/include"}, nil, false},
		{[]string{"-isystem", "$SYSROOT/usr/include"}, nil, false},
		{[]string{"-D", "X=-I-"}, []string{"-DX=-I-"}, true},
		{[]string{"-I"}, nil, false},
		{[]string{"--sysroot=/x"}, nil, false},
	}
	for _, tt := range tests {
		got, ok := includeArgs(tt.args)
		assert.Equal(t, tt.ok, ok, "%q", tt.args)
		if tt.ok {
			assert.Equal(t, tt.want, got, "%q", tt.args)
		}
	}
}

// runnerFarm is a Farm whose one host is a real dcc-server runner in this
// process.
type runnerFarm struct {
	r      *server.Runner
	mu     sync.Mutex
	reqs   []*protocol.CompileRequest
	shared map[string][]byte // project "/" key -> entry
}

const runnerHost = "127.0.0.2:9693"

func (f *runnerFarm) Compile(ctx context.Context, _ string, req *protocol.CompileRequest) (*protocol.CompileResult, string, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	j, err := f.r.Prepare(req)
	if err != nil {
		return nil, runnerHost, err
	}
	res, err := f.r.Run(ctx, j)
	return res, runnerHost, err
}
func (f *runnerFarm) CompileOr(ctx context.Context, key string, req *protocol.CompileRequest, _ chan struct{}) (*protocol.CompileResult, string, bool, error) {
	res, host, err := f.Compile(ctx, key, req)
	return res, host, false, err
}
func (f *runnerFarm) CacheGet(_ context.Context, project, key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.shared[project+"/"+key]
	return e, ok
}
func (f *runnerFarm) CachePut(_ context.Context, project, key string, entry []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shared == nil {
		f.shared = map[string][]byte{}
	}
	f.shared[project+"/"+key] = entry
}
func (f *runnerFarm) SharedOwner(string) string      { return "" }
func (f *runnerFarm) OwnerTakes(string, string) bool { return false }

// sharedEntries counts the shared cache's entries.
func (f *runnerFarm) sharedEntries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.shared)
}

// requests returns the requests the farm received.
func (f *runnerFarm) requests() []*protocol.CompileRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// newSourcesService opens a service whose farm is a real runner, sending
// units with their sources as mode says.
func newSourcesService(t testing.TB, mode string) (*Service, *runnerFarm) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	tcs, err := server.DiscoverToolchains(t.Context(), &toolchain.Prober{}, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	r, err := server.NewRunner(server.RunnerOptions{Workdir: t.TempDir(), TreeDir: t.TempDir(), Jobs: 2, Toolchains: tcs})
	require.NoError(t, err)
	farm := &runnerFarm{r: r}
	store, err := badgerstore.Open(t.TempDir(), badgerstore.DefaultOptions())
	require.NoError(t, err)
	s := New(Options{
		Store: store, Stats: cache.NewStats(), Memo: filehash.NewMemo(1000), Prober: &toolchain.Prober{},
		DirectMode: true, DependMode: true, TempDir: t.TempDir(),
		Remote: RemoteOptions{Farm: farm, Sources: mode, RerunErrors: true},
	})
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, farm
}

// sourcesTree writes a small project: a source in src/, headers in inc/
// (one with a macro call over two lines, one reached by #include_next).
func sourcesTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	writeTree(t, dir, map[string]string{
		"inc/point.h":  "#ifndef POINT_H\n#define POINT_H\n#include <limits.h>\nstruct point { int x, y; };\n#define SQUARE(v) \\\n  ((v) * (v))\n#endif\n",
		"inc/stdlib.h": "#include_next <stdlib.h>\n#define LOCAL_STDLIB 1\n",
		"src/main.c": "#include <stdio.h>\n#include <stdlib.h>\n#include \"point.h\"\n" +
			"int norm2(struct point p) { return SQUARE(p.x) +\n  SQUARE(p.y); }\n" +
			"int main(void) { struct point p = {3, LOCAL_STDLIB}; printf(\"%d %s\\n\", norm2(p), __FILE__); return 0; }\n",
	})
	settle(t, dir)
	return dir
}

// plainCompile runs gcc itself and returns the object and the dependency
// file it writes.
func plainCompile(t *testing.T, dir string, args ...string) ([]byte, []byte) {
	t.Helper()
	cmd := exec.Command(gccPath(t), append(args, "-o", "plain.o", "-MD", "-MF", "plain.d")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PWD="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	obj, deps := readT(t, dir, "plain.o"), readT(t, dir, "plain.d")
	require.NoError(t, os.Remove(filepath.Join(dir, "plain.o")))
	require.NoError(t, os.Remove(filepath.Join(dir, "plain.d")))
	return obj, deps
}

// TestServiceCompilesFromSources: a -g unit and a plain one go to the host
// with their sources; the objects and dependency files are the plain
// compile's, byte for byte; the host was sent every file the compiler
// read; the next compile is a direct hit.
func TestServiceCompilesFromSources(t *testing.T) {
	for _, args := range [][]string{{"-g", "-O2"}, {"-O2", "-Wall"}, {"-g", "-MP", "-MT", "$(OBJ) x y"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			s, farm := newSourcesService(t, "all")
			dir := sourcesTree(t)
			cargs := append(append([]string{}, args...), "-Iinc", "-c", "src/main.c")
			wantObj, wantDeps := plainCompile(t, dir, cargs...)
			req := daemon.CompileRequest{Compiler: "gcc", Real: gccPath(t), Dir: dir, Env: os.Environ(),
				Args: append(cargs, "-o", "main.o", "-MD", "-MF", "main.d")}
			res := s.Compile(t.Context(), req)
			require.True(t, res.Handled, res.Reason)
			assert.Contains(t, res.Reason, "from the sources")
			assert.Equal(t, wantObj, readT(t, dir, "main.o"), "object identical to a plain compile")
			assert.Equal(t, string(bytes.ReplaceAll(wantDeps, []byte("plain.o"), []byte("main.o"))), string(readT(t, dir, "main.d")))
			st := s.opts.Stats.Snapshot()
			assert.Equal(t, int64(1), st[cache.StatRemote])
			assert.Equal(t, int64(1), st[cache.StatRemoteSources])
			assert.Equal(t, int64(1), st[cache.StatHostPrefix+runnerHost])

			reqs := farm.requests()
			require.Len(t, reqs, 1)
			sent := map[string]bool{}
			for _, f := range reqs[0].Sources {
				sent[f.Path] = true
			}
			deps, ok := depfile.Parse(wantDeps)
			require.True(t, ok)
			for _, d := range deps {
				if !filepath.IsAbs(d) {
					d = filepath.Join(dir, d)
				}
				assert.True(t, sent[filepath.Clean(d)], "%s was read by the compiler but not sent", d)
			}
			assert.Empty(t, reqs[0].Preprocessed)

			require.NoError(t, os.Remove(filepath.Join(dir, "main.o")))
			res = s.Compile(t.Context(), req)
			assert.Equal(t, "direct hit", res.Reason)
			assert.Equal(t, wantObj, readT(t, dir, "main.o"))

			// A header changes: compiled again from the sources.
			writeTree(t, dir, map[string]string{"inc/point.h": "#ifndef POINT_H\n#define POINT_H\n#include <limits.h>\nstruct point { long x, y; };\n#define SQUARE(v) ((v) * (v))\n#endif\n"})
			settle(t, dir)
			wantObj, _ = plainCompile(t, dir, cargs...)
			res = s.Compile(t.Context(), req)
			assert.Contains(t, res.Reason, "from the sources")
			assert.Equal(t, wantObj, readT(t, dir, "main.o"))
			assert.Len(t, farm.requests(), 2)
		})
	}
}

// TestServiceSourcesModes: "debug" sends only -g units with their sources,
// "off" none; a unit the scan cannot follow goes the usual way.
func TestServiceSourcesModes(t *testing.T) {
	tests := []struct {
		name, mode string
		args       []string
		source     string
		sources    bool
	}{
		{"debug mode, -g", "debug", []string{"-g"}, "", true},
		{"debug mode, no -g", "debug", []string{"-O2"}, "", false},
		{"off", "off", []string{"-g"}, "", false},
		{"macro include", "all", []string{"-O2"}, "#define H <stdio.h>\n#include H\nint x;\n", true},
		{"macro include from -D", "all", []string{"-O2", "-DH=<stdio.h>"}, "#include H\nint x;\n", true},
		{"macro include undefined, skipped", "all", []string{"-O2"}, "#ifdef H\n#include H\n#endif\nint x;\n", true},
		{"computed include", "all", []string{"-O2"}, "#define S(x) #x\n#define H S(stdio.h)\n#include H\nint x;\n", false},
		{"macro include of a builtin", "all", []string{"-O2"}, "#ifdef X\n#include __FILE__\n#endif\nint x;\n", false},
		{"time macro", "all", []string{"-O2"}, "const char *t = __TIME__;\n", false},
		{"absolute include", "all", []string{"-O2"}, "#include \"/usr/include/stdio.h\"\nint x;\n", false},
		{"include option", "all", []string{"-O2", "-include", "stdio.h"}, "int x;\n", false},
		{"raw string in strict C", "all", []string{"-O2", "-std=c11"}, "const char *s = R\"(x)\";\nint x;\n", false},
		{"raw string in GNU C", "all", []string{"-O2", "-std=gnu11"}, "const char *s = R\"(x)\";\nint x;\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, farm := newSourcesService(t, tt.mode)
			dir := sourcesTree(t)
			if tt.source != "" {
				writeTree(t, dir, map[string]string{"src/main.c": tt.source})
				settle(t, dir)
			}
			req := daemon.CompileRequest{Compiler: "gcc", Real: gccPath(t), Dir: dir, Env: os.Environ(),
				Args: append(append([]string{}, tt.args...), "-Iinc", "-c", "src/main.c", "-o", "main.o")}
			res := s.Compile(t.Context(), req)
			require.True(t, res.Handled, res.Reason)
			withSources := 0
			for _, r := range farm.requests() {
				if len(r.Sources) > 0 {
					withSources++
				}
			}
			if tt.sources {
				assert.Equal(t, 1, withSources, res.Reason)
			} else {
				assert.Zero(t, withSources, res.Reason)
			}
		})
	}
}

// TestGatherSourcesSymlinkDotDot: a name that climbs out of a directory
// reached through a symbolic link names another file than the same path
// without the link: such a unit is not sent with its sources.
func TestGatherSourcesSymlinkDotDot(t *testing.T) {
	s, farm := newSourcesService(t, "all")
	dir := sourcesTree(t)
	writeTree(t, dir, map[string]string{
		"elsewhere/deep/h.h":  "#include \"../up.h\"\n",
		"elsewhere/up.h":      "#define UP 1\n",
		"inc/up.h":            "#define UP 2\n",
		"src/main.c":          "#include \"link/h.h\"\nint x = UP;\n",
		"src/link/.placehold": "",
	})
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "src/link")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "elsewhere/deep"), filepath.Join(dir, "src/link")))
	settle(t, dir)
	req := daemon.CompileRequest{Compiler: "gcc", Real: gccPath(t), Dir: dir, Env: os.Environ(),
		Args: []string{"-O2", "-c", "src/main.c", "-o", "main.o"}}
	res := s.Compile(t.Context(), req)
	require.True(t, res.Handled, res.Reason)
	for _, r := range farm.requests() {
		assert.Empty(t, r.Sources, "sent with its sources despite the link")
	}
}

// TestServiceSourcesSharedCache: a unit compiled from its sources goes to
// the team's shared cache with the files it read; another client with the
// same project checked out elsewhere gets it from there, object and
// dependency file as its own compile would write them.
func TestServiceSourcesSharedCache(t *testing.T) {
	s1, farm := newSourcesService(t, "all")
	store2, err := badgerstore.Open(t.TempDir(), badgerstore.DefaultOptions())
	require.NoError(t, err)
	s2 := New(Options{Store: store2, Stats: cache.NewStats(), Memo: filehash.NewMemo(100), Prober: &toolchain.Prober{},
		DirectMode: true, DependMode: true, TempDir: t.TempDir(),
		Remote: RemoteOptions{Farm: farm, Sources: "all", RerunErrors: true}})
	t.Cleanup(func() { require.NoError(t, s2.Close()) })
	dir1 := sourcesTree(t)
	dir2 := filepath.Join(t.TempDir(), "elsewhere", "proj")
	require.NoError(t, os.MkdirAll(filepath.Dir(dir2), 0o755))
	require.NoError(t, exec.Command("cp", "-a", dir1, dir2).Run())
	settle(t, dir2)
	args := []string{"-O2", "-Iinc", "-MD", "-c", "src/main.c", "-o", "main.o"}
	env := append(os.Environ(), "DCC_PROJECT=shared-test")
	res := s1.Compile(t.Context(), daemon.CompileRequest{Compiler: "gcc", Real: gccPath(t), Dir: dir1, Env: env, Args: args})
	require.Contains(t, res.Reason, "from the sources")
	require.Eventually(t, func() bool { return farm.sharedEntries() == 1 }, 10*time.Second, 10*time.Millisecond)

	wantObj, wantDeps := plainCompile(t, dir2, "-O2", "-Iinc", "-c", "src/main.c")
	res = s2.Compile(t.Context(), daemon.CompileRequest{Compiler: "gcc", Real: gccPath(t), Dir: dir2, Env: env, Args: args})
	require.True(t, res.Handled, res.Reason)
	assert.Equal(t, "shared cache hit", res.Reason)
	assert.Equal(t, wantObj, readT(t, dir2, "main.o"))
	assert.Equal(t, string(bytes.ReplaceAll(wantDeps, []byte("plain.o"), []byte("main.o"))), string(readT(t, dir2, "main.d")))
	st := s2.opts.Stats.Snapshot()
	assert.Equal(t, int64(1), st[cache.StatRemoteCacheHits])
	assert.Zero(t, st[cache.StatRemote])
	assert.Len(t, farm.requests(), 1, "one compile on the host")

	// Direct hit next time, from the local cache the hit filled.
	require.NoError(t, os.Remove(filepath.Join(dir2, "main.o")))
	res = s2.Compile(t.Context(), daemon.CompileRequest{Compiler: "gcc", Real: gccPath(t), Dir: dir2, Env: env, Args: args})
	assert.Equal(t, "direct hit", res.Reason)
}

var _ Farm = (*runnerFarm)(nil)

// TestServiceCompilesCXXFromSources: a C++ unit using the standard library
// (libstdc++'s #include_next, __has_include and many headers) goes to the
// host with its sources and comes back identical to a plain g++ compile,
// debug information included.
func TestServiceCompilesCXXFromSources(t *testing.T) {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("g++ not installed")
	}
	s, farm := newSourcesService(t, "all")
	dir := filepath.Join(t.TempDir(), "cxx")
	writeTree(t, dir, map[string]string{"main.cpp": `#include <iostream>
#include <map>
#include <string>
#include <vector>
#include <cmath>
int main() {
  std::map<std::string, std::vector<double>> m{{"a", {1, 2}}, {"b", {std::sqrt(2.0)}}};
  for (auto &[k, v] : m) std::cout << k << " " << v.size() << "\n";
}
`})
	settle(t, dir)
	args := []string{"-g", "-O2", "-std=c++17", "-c", "main.cpp"}
	cmd := exec.Command(gxx, append(args, "-o", "plain.o")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PWD="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	want := readT(t, dir, "plain.o")
	res := s.Compile(t.Context(), daemon.CompileRequest{Compiler: "g++", Real: gxx, Dir: dir, Env: os.Environ(),
		Args: append(args, "-o", "main.o")})
	require.True(t, res.Handled, res.Reason)
	assert.Contains(t, res.Reason, "from the sources")
	assert.Equal(t, want, readT(t, dir, "main.o"), "object identical to a plain g++ compile")
	reqs := farm.requests()
	require.Len(t, reqs, 1)
	t.Logf("%d files sent", len(reqs[0].Sources))
}
