package server

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"
)

// clangCC1Dirs returns the include directories clang's driver gives cc1 for
// language lang (extra: more driver options), spelled as given, and the
// -internal-externc-isystem ones among them.
func clangCC1Dirs(t *testing.T, clang, lang string, extra ...string) (dirs, externC []string) {
	t.Helper()
	args := append([]string{"-x", lang, "-c", "/dev/null", "-o", "/dev/null", "-###"}, extra...)
	out, err := exec.Command(clang, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, `"-cc1"`) {
			continue
		}
		words := strings.Fields(line)
		for i := 0; i+1 < len(words); i++ {
			kind := strings.Trim(words[i], `"`)
			if kind == "-internal-isystem" || kind == "-internal-externc-isystem" {
				d := strings.Trim(words[i+1], `"`)
				dirs = append(dirs, d)
				if kind == "-internal-externc-isystem" {
					externC = append(externC, d)
				}
			}
		}
	}
	require.NotEmpty(t, dirs, "%s", out)
	return dirs, externC
}

// TestJobFromSourcesClang: a clang++ job compiled from its sources writes
// the object a local compile writes, DWARF 5 with its MD5 sums included,
// with clang's own directories spelled as its driver spells them (the C++
// library under /usr/bin/../lib/gcc/...), each with its kind: a directory
// the client's clang searches as an extern "C" one (clang 14 marks its
// headers so, which decides nothing in the object on Linux) is one on the
// host too.
func TestJobFromSourcesClang(t *testing.T) {
	comp := realCompiler(t, "clang++")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	dir := filepath.Join(t.TempDir(), "client", "proj")
	sys := filepath.Join(filepath.Dir(dir), "sys")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.MkdirAll(sys, 0o755))
	files := map[string]string{
		filepath.Join(sys, "plain.h"): "int plain_c(int);\n",
		filepath.Join(dir, "u.cc"): "#include <vector>\n#include <string>\n#include <plain.h>\n" +
			"int total(const std::vector<std::string> &v) {\n  int n = 0;\n  for (const auto &s : v)\n" +
			"    n += plain_c(int(s.size()));\n  return n + __LINE__;\n}\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(name, []byte(text), 0o644))
	}
	// The client's clang searches sys as its own extern "C" directory,
	// after the others.
	externCSys := []string{"-Xclang", "-internal-externc-isystem", "-Xclang", sys}
	dirs, _ := clangCC1Dirs(t, comp.Path, "c++", externCSys...)
	require.Equal(t, sys, dirs[len(dirs)-1])
	for _, args := range [][]string{{"-g", "-O1"}, {"-g", "-ffile-prefix-map=/usr=/U", "-fdebug-prefix-map=/=/R"},
		{"-g", "-fmacro-prefix-map=src=S", "-ffile-prefix-map=/tmp=."}, {"-g", "-fdebug-prefix-map=" + dir + "=/proj", "-fdebug-prefix-map=" + filepath.Dir(dir) + "=/up"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) { clangJob(t, r, comp, dir, args, externCSys, work) })
	}
}

// clangJob compiles u.cc in dir with clang++ and args (and externCSys)
// locally and on the runner, and compares.
func clangJob(t *testing.T, r *Runner, comp Compiler, dir string, args, externCSys []string, work string) {
	dirs, externC := clangCC1Dirs(t, comp.Path, "c++", externCSys...)
	local := append(append(append([]string{}, args...), externCSys...), "-MD", "-MF", "local.d", "-c", "u.cc")
	want := localCompile(t, dir, comp.Path, local...)
	data, err := os.ReadFile(filepath.Join(dir, "local.d"))
	require.NoError(t, err)
	deps, ok := depfile.Parse(data)
	require.True(t, ok)
	require.True(t, anyHasPrefix(deps, "/usr/bin/../lib/gcc/"), "clang spells its C++ headers through /usr/bin/..: %v", deps)

	req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c++", Args: args, SourceName: "u.cc",
		ClientDir: dir, SystemDirs: dirs, ExternCDirs: externC}
	for _, d := range deps {
		p := d
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		req.Sources = append(req.Sources, protocol.SourceFile{Path: filepath.Clean(p), Digest: blake3.Sum256(data), Data: data})
	}
	res, err := runJob(t.Context(), r, req)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
	assert.True(t, bytes.Equal(want, res.Object), "object differs from the local compile (%d vs %d bytes)", len(res.Object), len(want))
	assert.Equal(t, deps, res.Deps, "the files read, spelled as clang spells them here")
	assert.False(t, bytes.Contains(res.Object, []byte(r.treeDir)), "the object records the server's directory")
	assertEmptyDir(t, work)
}

// anyHasPrefix reports whether a string of list starts with prefix.
func anyHasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestJobFromSourcesClangRefusals: clang's spelled directories may not
// climb out of the tree, its extern "C" ones must be among them, and gcc
// has none.
func TestJobFromSourcesClangRefusals(t *testing.T) {
	gcc, clang := realCompiler(t, "gcc"), realCompiler(t, "clang")
	r, _ := newTestRunner(t, RunnerOptions{}, gcc, clang)
	base := func(c Compiler) *protocol.CompileRequest {
		return &protocol.CompileRequest{Toolchain: c.Info.Key, Language: "c", SourceName: "a.c", ClientDir: "/home/u/p",
			Sources: []protocol.SourceFile{sourceFile("/home/u/p/a.c", "int x;\n")}, SystemDirs: []string{"/usr/bin/../include"}}
	}
	tests := []struct {
		name   string
		c      Compiler
		change func(*protocol.CompileRequest)
		code   string
		want   string
	}{
		{"climbing system dir", clang, func(r *protocol.CompileRequest) { r.SystemDirs = []string{"/usr/../../etc"} }, protocol.CodeMalformed, "system directory"},
		{"relative system dir", clang, func(r *protocol.CompileRequest) { r.SystemDirs = []string{"usr/include"} }, protocol.CodeMalformed, "system directory"},
		{"extern-C dir not a system dir", clang, func(r *protocol.CompileRequest) { r.ExternCDirs = []string{"/etc"} }, protocol.CodeMalformed, "extern-C directory"},
		{"extern-C dir for gcc", gcc, func(r *protocol.CompileRequest) {
			r.SystemDirs, r.ExternCDirs = []string{"/usr/include"}, []string{"/usr/include"}
		}, protocol.CodeMalformed, "extern-C directory"},
		{"unclean gcc system dir", gcc, func(*protocol.CompileRequest) {}, protocol.CodeMalformed, "system directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base(tt.c)
			tt.change(req)
			_, err := r.Prepare(req)
			var ref *Refusal
			require.True(t, errors.As(err, &ref), "want a refusal, got %v", err)
			assert.Equal(t, tt.code, ref.Code)
			assert.Contains(t, ref.Message, tt.want)
		})
	}
	// The spelled directory of a clang job is accepted as it is.
	_, err := r.Prepare(base(clang))
	require.NoError(t, err)
}
