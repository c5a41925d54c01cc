package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cSources is a small C project: a source in a subdirectory including a local header.
var cSources = map[string]string{
	"src/util.h": "#define SCALE 3\nstatic inline int scale(int x) { return x * SCALE; }\n",
	"src/a.c": `#include <stdio.h>
#include "util.h"
int counter;
int compute(int n) { int s = 0; for (int i = 0; i < n; i++) s += scale(i); return s; }
void report(void) { printf("%d %s\n", compute(counter), __FILE__); }
`,
}

// cxxSources is a small C++ project.
var cxxSources = map[string]string{
	"src/util.h": "#define SCALE 3\n",
	"src/b.cpp": `#include <string>
#include <vector>
#include "util.h"
std::string join(const std::vector<std::string>& v) { std::string r; for (auto& s : v) r += s; return r; }
int scaled(int x) { return x * SCALE; }
`,
}

// compileCase is one command line compiled directly and through dcc.
type compileCase struct {
	name    string
	args    []string
	outputs []string // files the compile writes, compared byte for byte
}

// compileCases returns command lines for source src (in src/), covering outputs
// in the working directory, -o, -g, and dependency files.
func compileCases(src, stem string) []compileCase {
	return []compileCase{
		{"c-in-cwd", []string{"-c", "src/" + src}, []string{stem + ".o"}},
		{"o-O2", []string{"-O2", "-Wall", "-c", "src/" + src, "-o", "out/x.o"}, []string{"out/x.o"}},
		{"g-debug", []string{"-g", "-O1", "-DNAME=1", "-Isrc", "-c", "src/" + src, "-o", "out/g.o"}, []string{"out/g.o"}},
		{"deps", []string{"-MD", "-MP", "-c", "src/" + src, "-o", "out/d.o"}, []string{"out/d.o", "out/d.d"}},
		{"deps-MF-MT", []string{"-MMD", "-MF", "out/custom.dep", "-MT", "target", "-c", "src/" + src, "-o", "out/e.o"}, []string{"out/e.o", "out/custom.dep"}},
		{"split-dwarf", []string{"-g", "-gsplit-dwarf", "-c", "src/" + src, "-o", "out/s.o"}, []string{"out/s.o", "out/s.dwo"}},
	}
}

// compareCompile runs argv directly and through dcc (masquerade and prefix) in
// the same directory and requires identical outputs, stdout, stderr and exit code.
func compareCompile(t *testing.T, compiler string, files map[string]string, tc compileCase) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "out"), 0o755))
	masq := masqueradeDir(t, compiler)

	direct := runIn(t, dir, "", nil, nil, append([]string{compiler}, tc.args...)...)
	require.Equal(t, 0, direct.exit, "direct compile failed: %s", direct.stderr)
	want := map[string][]byte{}
	for _, o := range tc.outputs {
		want[o] = readFile(t, filepath.Join(dir, o))
		require.NoError(t, os.Remove(filepath.Join(dir, o)))
	}
	modes := map[string][]string{
		"masquerade": append([]string{compiler}, tc.args...),
		"prefix":     append([]string{dccBin, compiler}, tc.args...),
	}
	for mode, argv := range modes {
		got := runIn(t, dir, withPath(masq), nil, nil, argv...)
		assert.Equal(t, direct.exit, got.exit, mode)
		assert.Equal(t, string(direct.stdout), string(got.stdout), mode)
		assert.Equal(t, string(direct.stderr), string(got.stderr), mode)
		for _, o := range tc.outputs {
			assert.Equal(t, want[o], readFile(t, filepath.Join(dir, o)), "%s: %s differs", mode, o)
			require.NoError(t, os.Remove(filepath.Join(dir, o)))
		}
	}
}

func TestCompilesMatchRealCompiler(t *testing.T) {
	for _, compiler := range []string{"gcc", "g++", "clang", "clang++"} {
		requireTool(t, compiler)
		files, src, stem := cSources, "a.c", "a"
		if strings.HasSuffix(compiler, "++") {
			files, src, stem = cxxSources, "b.cpp", "b"
		}
		for _, tc := range compileCases(src, stem) {
			t.Run(compiler+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				compareCompile(t, compiler, files, tc)
			})
		}
	}
}

func TestFailingCompileKeepsDiagnosticsAndExitCode(t *testing.T) {
	for _, compiler := range []string{"gcc", "clang++"} {
		requireTool(t, compiler)
		t.Run(compiler, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"bad.c": "int f(void) { return undeclared + 1; }\n#warning careful\n"})
			masq := masqueradeDir(t, compiler)
			for _, args := range [][]string{
				{"-c", "bad.c"},
				{"-c", "missing.c"},
				{"--no-such-option", "-c", "bad.c"},
			} {
				direct := runIn(t, dir, "", nil, nil, append([]string{compiler}, args...)...)
				viaMasq := runIn(t, dir, withPath(masq), nil, nil, append([]string{compiler}, args...)...)
				viaPrefix := runIn(t, dir, "", nil, nil, append([]string{dccBin, compiler}, args...)...)
				require.NotEqual(t, 0, direct.exit)
				for name, got := range map[string]result{"masquerade": viaMasq, "prefix": viaPrefix} {
					assert.Equal(t, direct.exit, got.exit, "%s %v", name, args)
					assert.Equal(t, string(direct.stderr), string(got.stderr), "%s %v", name, args)
				}
			}
		})
	}
}

func TestStdinAndStdoutPassThrough(t *testing.T) {
	requireTool(t, "gcc")
	dir := t.TempDir()
	masq := masqueradeDir(t, "gcc")
	src := []byte("#define TWICE(x) ((x) * 2)\nint f(int a) { return TWICE(a); }\n")
	for _, args := range [][]string{
		{"-E", "-x", "c", "-"},                   // preprocess stdin to stdout
		{"-dM", "-E", "-x", "c", "-"},            // macro dump of stdin
		{"-O2", "-S", "-x", "c", "-", "-o", "-"}, // assembly to stdout
	} {
		direct := runIn(t, dir, "", nil, src, append([]string{"gcc"}, args...)...)
		got := runIn(t, dir, withPath(masq), nil, src, append([]string{"gcc"}, args...)...)
		require.Equal(t, 0, direct.exit, "%v: %s", args, direct.stderr)
		assert.Equal(t, direct.exit, got.exit, "%v", args)
		assert.NotEmpty(t, got.stdout, "%v", args)
		assert.Equal(t, direct.stdout, got.stdout, "%v", args)
	}
}

func TestExitCodesAndSignalsPassThrough(t *testing.T) {
	real := t.TempDir()
	writeFiles(t, real, map[string]string{
		"gcc":   "#!/bin/sh\necho \"args:$*\"; echo err >&2; exit 3\n",
		"clang": "#!/bin/sh\nkill -TERM $$\nsleep 5\n",
		"cc":    "#!/bin/sh\ncat\n",
	})
	for _, n := range []string{"gcc", "clang", "cc"} {
		require.NoError(t, os.Chmod(filepath.Join(real, n), 0o755))
	}
	masq := masqueradeDir(t, "gcc", "clang", "cc")
	path := withPath(masq, real)

	code := runIn(t, t.TempDir(), path, nil, nil, "gcc", "-c", "a b.c", "")
	assert.Equal(t, 3, code.exit)
	assert.Equal(t, "args:-c a b.c \n", string(code.stdout))
	assert.Equal(t, "err\n", string(code.stderr))

	sig := runIn(t, t.TempDir(), path, nil, nil, "clang", "-c", "a.c")
	assert.Equal(t, "terminated", sig.signal)

	echo := runIn(t, t.TempDir(), path, nil, []byte("through stdin\n"), dccBin, "cc")
	assert.Equal(t, "through stdin\n", string(echo.stdout))
}

func TestClangCLAsCLExe(t *testing.T) {
	clangCL := requireTool(t, "clang-cl-14")
	real := t.TempDir()
	require.NoError(t, os.Symlink(clangCL, filepath.Join(real, "cl.exe")))
	masq := masqueradeDir(t, "cl.exe")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"inc/defs.h": "#define LIMIT 10\n",
		"src/m.c":    "#include \"defs.h\"\nint sum(void) { int s = 0; for (int i = 0; i < LIMIT; i++) s += i; return s; }\n",
		"src/bad.c":  "int f(void) { return nope; }\n",
	})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "out"), 0o755))
	path := withPath(masq, real)
	for _, tc := range []compileCase{
		{"obj-in-cwd", []string{"/nologo", "/c", "/Brepro", "/Iinc", "src/m.c"}, []string{"m.obj"}},
		{"Fo", []string{"/nologo", "/c", "/Brepro", "/O2", "/Iinc", "-DX=1", "src/m.c", "/Foout/m2.obj"}, []string{"out/m2.obj"}},
		{"Fo-dir-Z7", []string{"/nologo", "-c", "/Brepro", "/Z7", "/Iinc", "src/m.c", "/Foout/"}, []string{"out/m.obj"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			direct := runIn(t, dir, withPath(real), nil, nil, append([]string{"cl.exe"}, tc.args...)...)
			require.Equal(t, 0, direct.exit, "%s", direct.stderr)
			want := readFile(t, filepath.Join(dir, tc.outputs[0]))
			require.NoError(t, os.Remove(filepath.Join(dir, tc.outputs[0])))
			for mode, argv := range map[string][]string{
				"masquerade": append([]string{"cl.exe"}, tc.args...),
				"prefix":     append([]string{dccBin, "cl.exe"}, tc.args...),
			} {
				got := runIn(t, dir, path, nil, nil, argv...)
				require.Equal(t, 0, got.exit, "%s: %s", mode, got.stderr)
				assert.Equal(t, want, readFile(t, filepath.Join(dir, tc.outputs[0])), mode)
				require.NoError(t, os.Remove(filepath.Join(dir, tc.outputs[0])))
			}
		})
	}
	direct := runIn(t, dir, withPath(real), nil, nil, "cl.exe", "/nologo", "/c", "src/bad.c")
	got := runIn(t, dir, path, nil, nil, "cl.exe", "/nologo", "/c", "src/bad.c")
	require.NotEqual(t, 0, direct.exit)
	assert.Equal(t, direct.exit, got.exit)
	assert.Equal(t, string(direct.stderr), string(got.stderr))
}
