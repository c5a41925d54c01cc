package compile

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/server"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// depsTree is a project whose headers gcc's -MMD keeps or leaves out for
// every reason it has: the C library (system directories), a header in an
// -isystem directory and one it includes from its own directory, a user
// header (in -I) read first from that system header and again from the
// source, user headers included from the source's and an -I header's own
// directories.
var depsTree = map[string]string{
	"src/main.c": "#include <stdio.h>\n#include <vendor.h>\n#include \"local.h\"\n#include <cfg.h>\n#include <api.h>\n" +
		"int main(void) {\n  printf(\"%d %d %d %s\\n\", VENDOR(1), CFG_VALUE,\n    api(2), __FILE__);\n  return LOCAL - 1;\n}\n",
	"src/local.h":           "/* local */\n#define LOCAL 1\n",
	"third/vendor.h":        "#ifndef VENDOR_H\n#define VENDOR_H\n#include \"vendor_impl.h\"\n#include <cfg.h>\n#define VENDOR(x) ((x) + VENDOR_BASE)\n#endif\n",
	"third/vendor_impl.h":   "#define VENDOR_BASE 40\n",
	"inc/cfg.h":             "#ifndef CFG_H\n#define CFG_H\n#define CFG_VALUE 7\n#endif\n",
	"inc/api.h":             "#include \"detail/api_impl.h\"\n#include <string.h>\nstatic inline int api(int v) { return API_K * v + (int)strlen(\"ab\"); }\n",
	"inc/detail/api_impl.h": "#define API_K 3\n",
	"out/.keep":             "",
	"d/.depend/.keep":       "",
}

// depsCase is one set of dependency options and the files it writes.
type depsCase struct {
	name string
	args []string // the dependency options
	// out is the -o value ("" for none: gcc names the object main.o);
	// deps is the dependency file gcc writes.
	out, deps string
	// local: the classifier runs the command unchanged.
	local bool
}

// depsCases are every combination of dependency options gcc accepts that
// dcc handles differently, each written as a build writes it.
var depsCases = []depsCase{
	{"-MD", []string{"-MD"}, "out/main.o", "out/main.d", false},
	{"-MMD", []string{"-MMD"}, "out/main.o", "out/main.d", false},
	{"-MD -MF", []string{"-MD", "-MF", "out/m.d"}, "out/main.o", "out/m.d", false},
	{"-MMD -MF", []string{"-MMD", "-MF", "out/m.d"}, "out/main.o", "out/m.d", false},
	{"-MD -MP", []string{"-MD", "-MP"}, "out/main.o", "out/main.d", false},
	{"-MMD -MP", []string{"-MMD", "-MP"}, "out/main.o", "out/main.d", false},
	{"makefile -MF -MQ -MMD -MP", []string{"-MF", "d/.depend/main.o.d", "-MQ", "main.o", "-MMD", "-MP"}, "main.o", "d/.depend/main.o.d", false},
	{"cmake -MD -MT -MF", []string{"-MD", "-MT", "out/main.o", "-MF", "out/main.o.d"}, "out/main.o", "out/main.o.d", false},
	{"-MD -MT", []string{"-MD", "-MT", "tgt"}, "out/main.o", "out/main.d", false},
	{"-MD -MQ quoted", []string{"-MD", "-MQ", "q$ t#"}, "out/main.o", "out/main.d", false},
	{"-MMD -MT -MQ -MT reordered", []string{"-MMD", "-MT", "a", "-MQ", "b", "-MT", "c", "-MP"}, "out/main.o", "out/main.d", false},
	{"-MMD long targets wrap", []string{"-MMD", "-MT", strings.Repeat("t", 50) + " x", "-MQ", strings.Repeat("q", 40)}, "out/main.o", "out/main.d", false},
	{"-MD -MMD", []string{"-MD", "-MMD"}, "out/main.o", "out/main.d", false},
	{"-MMD -MD -MF -MP glued", []string{"-MMD", "-MD", "-MFout/m.d", "-MP", "-MTglued"}, "out/main.o", "out/m.d", false},
	{"-MMD without -o", []string{"-MMD"}, "", "main.d", false},
	{"-MD -MQ ./", []string{"-MD", "-MQ", "./out/main.o"}, "out/main.o", "out/main.d", false},
	{"-Wp,-MD", []string{"-Wp,-MD,out/.main.o.d"}, "out/main.o", "out/.main.o.d", false},
	{"-Wp,-MMD", []string{"-Wp,-MMD,out/.main.o.d"}, "out/main.o", "out/.main.o.d", false},
	{"-Wp,-MMD -MP", []string{"-Wp,-MMD,out/w.d", "-MP"}, "out/main.o", "out/w.d", false},
	{"-Wp,-MD -MT", []string{"-Wp,-MD,out/w.d", "-MT", "t"}, "out/main.o", "out/w.d", false},
	{"-Wp,-MMD -MQ", []string{"-Wp,-MMD,out/w.d", "-MQ", "q q"}, "out/main.o", "out/w.d", false},
	{"-Wp,-MMD twice", []string{"-Wp,-MD,out/w.d", "-Wp,-MMD,out/w.d"}, "out/main.o", "out/w.d", false},
	// gcc and clang disagree on these: run unchanged.
	{"-Wp,-MD with -MF", []string{"-Wp,-MD,out/w.d", "-MF", "out/m.d"}, "out/main.o", "out/w.d", true},
	{"-Wp,-MD with -MF, clang's file", []string{"-Wp,-MD,out/w.d", "-MF", "out/m.d"}, "out/main.o", "out/m.d", true},
	{"-Wp,-MMD with -MD", []string{"-Wp,-MMD,out/w.d", "-MD"}, "out/main.o", "out/w.d", true},
}

// TestSourcesDependencyFiles: for every dependency option combination, a
// unit compiled on a host (gcc: with its sources; clang: as preprocessed
// text) writes the dependency file and object the local compiler writes, byte
// for byte, with and without debug information. With gcc and -MMD, the
// headers gcc takes for system headers are left out as gcc leaves them
// out: those of the system and -isystem directories, and a user header
// read first from one of them.
func TestSourcesDependencyFiles(t *testing.T) {
	compilers := []string{gccPath(t)}
	if clang, err := exec.LookPath("clang"); err == nil {
		compilers = append(compilers, clang)
	} else if on, _ := strconv.ParseBool(os.Getenv("DCC_REQUIRE_REAL")); on {
		t.Fatal("clang is required (DCC_REQUIRE_REAL is set)")
	}
	farm := newRunnerFarm(t)
	s := newFarmService(t, farm, "all")
	n := 0
	for _, cc := range compilers {
		isGCC := filepath.Base(cc) == "gcc"
		for _, codegen := range [][]string{{"-O2"}, {"-g", "-O2"}} {
			for _, tc := range depsCases {
				if isGCC == strings.HasSuffix(tc.name, "clang's file") || !isGCC && tc.name == "-Wp,-MD with -MF" {
					continue // gcc and clang write different files
				}
				name := filepath.Base(cc) + " " + strings.Join(codegen, " ") + " " + tc.name
				n++
				// One service for every case; a macro of its own makes each
				// case's unit a unit of its own.
				unit := fmt.Sprintf("-DDCC_CASE=%d", n)
				t.Run(name, func(t *testing.T) {
					before, sent := s.opts.Stats.Snapshot(), len(farm.requests())
					dir := filepath.Join(t.TempDir(), "proj")
					writeTree(t, dir, depsTree)
					settle(t, dir)
					args := slices.Concat(codegen, []string{unit, "-Iinc", "-isystem", "third", "-c", "src/main.c"}, tc.args)
					if tc.out != "" {
						args = append(args, "-o", tc.out)
					}
					object := tc.out
					if object == "" {
						object = "main.o"
					}
					wantObj, wantDeps, said := plainOutputs(t, cc, dir, args, object, tc.deps)
					// A namespace of its own: no shared-cache hit from another case.
					env := append(os.Environ(), "DCC_PROJECT="+t.Name())
					res := s.Compile(t.Context(), daemon.CompileRequest{Compiler: filepath.Base(cc), Real: cc, Dir: dir, Env: env, Args: args})
					if tc.local {
						assert.False(t, res.Handled, "run unchanged: %s", res.Reason)
						return
					}
					require.True(t, res.Handled, res.Reason)
					assert.Equal(t, string(wantDeps), string(readT(t, dir, tc.deps)), "dependency file (%s)", res.Reason)
					assert.True(t, bytes.Equal(wantObj, readT(t, dir, object)), "object differs from the local compile's (%s)", res.Reason)
					st := s.opts.Stats.Snapshot()
					for k := range st {
						st[k] -= before[k]
					}
					switch {
					case said:
						// clang warns of an unused -MD: the command runs here,
						// for its own diagnostics.
					case isGCC:
						assert.Equal(t, int64(1), st[cache.StatRemoteSources], "compiled on the host from its sources: %s", res.Reason)
						assert.Len(t, farm.requests(), sent+1)
					case codegen[0] == "-g":
						assert.Zero(t, st[cache.StatRemote], "clang's -g units compile here: %s", res.Reason)
					default:
						assert.Equal(t, int64(1), st[cache.StatRemote], "compiled on the host as preprocessed text: %s", res.Reason)
					}
					assert.Zero(t, st[cache.StatFallbacks])
				})
			}
		}
	}
}

// TestSourcesUserDepsUnsure: where gcc's -MMD choice cannot be told for
// sure (#pragma GCC system_header in a user header, a line marker, a
// _Pragma), the unit is not written from the host's list: it compiles
// here, and the files are still gcc's own.
func TestSourcesUserDepsUnsure(t *testing.T) {
	gcc := gccPath(t)
	tests := []struct {
		name  string
		api   string
		local bool // told before the unit is sent
	}{
		{"pragma system_header in a user header", "#include <string.h>\n#pragma GCC system_header\n#include \"detail/api_impl.h\"\n" +
			"static inline int api(int v) { return API_K * v; }\n", false},
		{"line marker", "# 1 \"inc/api.h\" 3\n#include \"detail/api_impl.h\"\nstatic inline int api(int v) { return API_K * v; }\n", false},
		{"_Pragma", "#define SYS _Pragma(\"GCC system_header\")\nSYS\n#include \"detail/api_impl.h\"\nstatic inline int api(int v) { return API_K * v; }\n", false},
	}
	farm := newRunnerFarm(t)
	for _, tt := range tests {
		for _, mmd := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: " -MMD", false: " -MD"}[mmd], func(t *testing.T) {
				s := newFarmService(t, farm, "all")
				dir := filepath.Join(t.TempDir(), "proj")
				writeTree(t, dir, depsTree)
				writeTree(t, dir, map[string]string{"inc/api.h": tt.api})
				settle(t, dir)
				dep := "-MD"
				if mmd {
					dep = "-MMD"
				}
				args := []string{"-g", "-O2", "-Iinc", "-isystem", "third", "-c", "src/main.c", dep, "-MP", "-o", "out/main.o"}
				wantObj, wantDeps, _ := plainOutputs(t, gcc, dir, args, "out/main.o", "out/main.d")
				env := append(os.Environ(), "DCC_PROJECT="+t.Name())
				res := s.Compile(t.Context(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: args})
				require.True(t, res.Handled, res.Reason)
				assert.Equal(t, string(wantDeps), string(readT(t, dir, "out/main.d")))
				assert.True(t, bytes.Equal(wantObj, readT(t, dir, "out/main.o")), "object differs from the local compile's")
				st := s.opts.Stats.Snapshot()
				if mmd {
					assert.Zero(t, st[cache.StatRemoteSources], "not compiled from the host's list: %s", res.Reason)
				} else {
					assert.Equal(t, int64(1), st[cache.StatRemoteSources], "-MD needs no choice: %s", res.Reason)
				}
			})
		}
	}
}

// plainOutputs compiles args with cc itself in dir and returns the object
// and the dependency file, which it then removes, and whether the compiler
// printed anything.
func plainOutputs(t *testing.T, cc, dir string, args []string, object, deps string) ([]byte, []byte, bool) {
	t.Helper()
	cmd := exec.Command(cc, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PWD="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	obj, d := readT(t, dir, object), readT(t, dir, deps)
	require.NoError(t, os.Remove(filepath.Join(dir, object)))
	require.NoError(t, os.Remove(filepath.Join(dir, deps)))
	return obj, d, len(out) > 0
}

// newRunnerFarm is a farm whose host is a real runner, for the services of
// one test.
func newRunnerFarm(t *testing.T) *runnerFarm {
	t.Helper()
	tcs, err := server.DiscoverToolchains(t.Context(), &toolchain.Prober{}, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	r, err := server.NewRunner(server.RunnerOptions{Workdir: t.TempDir(), TreeDir: t.TempDir(), Jobs: 2, Toolchains: tcs})
	require.NoError(t, err)
	return &runnerFarm{r: r}
}

// newFarmService opens a service with an empty cache of its own in front of
// farm, sending units with their sources as mode says.
func newFarmService(t *testing.T, farm *runnerFarm, mode string) *Service {
	t.Helper()
	store, err := badgerstore.Open(t.TempDir(), badgerstore.DefaultOptions())
	require.NoError(t, err)
	s := New(Options{
		Store: store, Stats: cache.NewStats(), Memo: filehash.NewMemo(1000), Prober: &toolchain.Prober{},
		DirectMode: true, DependMode: true, TempDir: t.TempDir(),
		Remote: RemoteOptions{Farm: farm, Sources: mode, RerunErrors: true},
	})
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}
