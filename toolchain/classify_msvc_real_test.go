package toolchain

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoStep says how the preprocess-then-compile pair compares with the original.
type twoStep int

const (
	// sameObject: the object is byte for byte the original's.
	sameObject twoStep = iota
	// sameButTimestamp: only the COFF header's TimeDateStamp differs, as it
	// does between two runs of the original itself (no /Brepro).
	sameButTimestamp
	// objectDiffers: the object differs, which is why the row is ActionCache.
	objectDiffers
	// stdoutDiffers: the object is the same but the original's stdout is not
	// reproduced (/showIncludes), which is why the row is ActionCache.
	stdoutDiffers
)

// msvcFixture are the files every real compile starts from: no Windows SDK
// header is available, so sources include only these.
var msvcFixture = map[string]string{
	"inc/cfg.h": "#define SCALE 7\n",
	"inc/pre.h": "#define PRE 5\n",
	"ext/e.h":   "#define EXT 2\nstatic int ext_unused(int x) { return x; }\n",
	"a.c":       "#include \"inc/cfg.h\"\nint f(int x) { return x * SCALE; }\nconst char *where = __FILE__;\n",
	"src/b.c":   "int g(int x) { return x + PRE; }\n",
	"lib.c": "template <class T> struct Box { T v; };\n" +
		"int h(int x) { Box<int> b{x}; return b.v * __cplusplus / 100; }\n",
	"util.inc": "#include <e.h>\n#if FOO != 2\n#error FOO\n#endif\nint u(void) { return FOO + EXT; }\n",
	"src/m.cpp": "#include \"cfg.h\"\n#include <stdarg.h>\n" +
		"struct B { virtual ~B() {} virtual int v() const { return SCALE; } };\n" +
		"struct D : B { int v() const override { return SCALE + 1; } };\n" +
		"static int thrower(int x) { if (x < 0) throw x; return x; }\n" +
		"extern \"C\" int run(int x) { D d; B *b = &d; try { return thrower(x) * b->v(); } catch (int e) { return e; } }\n",
	"out/.keep": "",
}

// TestClassifyMSVCRealCompiler checks the commands classification produces
// against clang-cl 14 standing in for cl.exe: the original command, then the
// preprocess command (stdout to PreprocessedInput) and the compile command in
// the same directory, must give the same object, at exactly the predicted path.
// Rows classified ActionCache show why: the two-step result differs.
func TestClassifyMSVCRealCompiler(t *testing.T) {
	clangCL, err := exec.LookPath("clang-cl-14")
	if err != nil {
		t.Skip("clang-cl-14 is not installed")
	}
	tests := []struct {
		compiler string // "cl.exe" or "clang-cl": a link to clang-cl-14
		args     string
		action   Action
		twoStep  twoStep
	}{
		// Default object name in the working directory.
		{"cl.exe", "/c /Brepro a.c", ActionRemote, sameObject},
		// /Fo directory form, preprocessor and code-generation options mixed.
		{"cl.exe", "/c /nologo /Brepro /O2 /MD /DNDEBUG /Iinc /FIpre.h /EHsc src/m.cpp /Foout/", ActionRemote, sameObject},
		// Dash spelling; /Fo without extension gets .obj; forced include.
		{"cl.exe", "-c -Brepro -Od -MTd -D_DEBUG -Iinc -FIpre.h src/b.c -Foobj_noext", ActionRemote, sameObject},
		// /TP makes a .c file C++; /Fo with its own extension.
		{"cl.exe", "/c /Brepro /TP /std:c++17 /GR- /Zc:__cplusplus lib.c /Fox.o", ActionRemote, sameObject},
		// /Tc with a separate file name, separate /U /D /I /external:I.
		{"cl.exe", "/c /Brepro /Tc util.inc /U FOO /D FOO=2 /I inc /external:I ext /W4 /Foout/util.obj", ActionRemote, sameObject},
		// Code generation options that also define macros.
		{"cl.exe", "/c /Brepro /arch:AVX2 /fp:fast /GS- /Gy /Gw /utf-8 /J /Zl /Iinc a.c", ActionRemote, sameObject},
		// clang's own options through clang-cl.
		{"clang-cl", "-c -Brepro -fms-compatibility-version=19.29 /clang:-ffunction-sections -Xclang -fno-pch-timestamp -Wno-unused-function -m64 a.c -o y.obj", ActionRemote, sameObject},
		// Without /Brepro the COFF header holds the time of the compile.
		{"cl.exe", "/c /O1 a.c", ActionRemote, sameButTimestamp},
		// /showIncludes: the header list goes to stdout, which only the original prints.
		{"cl.exe", "/c /Brepro /showIncludes /Iinc /EHsc src/m.cpp", ActionCache, stdoutDiffers},
		// /Z7: LF_BUILDINFO records the command line and the source path as written.
		{"clang-cl", "/c /Brepro /Z7 /DUNUSED=1 a.c", ActionCache, objectDiffers},
		// ASan metadata records the source path as written.
		{"clang-cl", "/c /Brepro -fsanitize=address a.c", ActionCache, objectDiffers},
		// LTO bitcode records the source path as its module name.
		{"clang-cl", "/c /Brepro -flto a.c", ActionCache, objectDiffers},
	}
	for _, tt := range tests {
		t.Run(tt.compiler+" "+tt.args, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeMSVCFixture(t, dir, clangCL)
			compiler := filepath.Join(dir, tt.compiler)
			a := Classify(Command{Compiler: compiler, Args: strings.Fields(tt.args), Dir: dir})
			require.Equal(t, tt.action, a.Action, a.Reason)
			object := filepath.Join(dir, a.Outputs.Object)

			before := listFiles(t, dir)
			origOut := runIn(t, dir, nil, append([]string{compiler}, a.Args...))
			created := newFiles(before, listFiles(t, dir))
			require.Equal(t, []string{a.Outputs.Object}, created, "the original created exactly the predicted object")
			want, err := os.ReadFile(object)
			require.NoError(t, err)
			require.NoError(t, os.Remove(object))

			pp := filepath.Join(dir, a.PreprocessedInput)
			require.NoError(t, os.MkdirAll(filepath.Dir(pp), 0o755))
			ppFile, err := os.Create(pp)
			require.NoError(t, err)
			runIn(t, dir, ppFile, a.PreprocessCommand)
			require.NoError(t, ppFile.Close())
			twoOut := runIn(t, dir, nil, a.CompileCommand)
			got, err := os.ReadFile(object)
			require.NoError(t, err, "the compile command wrote the predicted object")

			switch tt.twoStep {
			case sameObject:
				assert.True(t, bytes.Equal(want, got), "objects differ")
				assert.Equal(t, origOut, twoOut)
			case sameButTimestamp:
				assert.NotZero(t, coffTimestamp(t, want), "without /Brepro the header has the compile time")
				assert.True(t, bytes.Equal(withoutCOFFTimestamp(t, want), withoutCOFFTimestamp(t, got)), "objects differ beyond the timestamp")
			case objectDiffers:
				assert.False(t, bytes.Equal(want, got), "the two-step object should differ: the row would be remote")
			case stdoutDiffers:
				assert.True(t, bytes.Equal(want, got), "objects differ")
				assert.Contains(t, origOut, "Note: including file:")
				assert.NotContains(t, twoOut, "Note: including file:")
			}
		})
	}
}

// writeMSVCFixture writes the sources and the compiler links into dir.
func writeMSVCFixture(t *testing.T, dir, clangCL string) {
	t.Helper()
	for name, text := range msvcFixture {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	for _, link := range []string{"cl.exe", "clang-cl"} {
		require.NoError(t, os.Symlink(clangCL, filepath.Join(dir, link)))
	}
}

// runIn runs argv in dir, with stdout to the given file or captured, and
// returns the captured stdout. The command must succeed.
func runIn(t *testing.T, dir string, stdout *os.File, argv []string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stderr = &errOut
	if stdout != nil {
		cmd.Stdout = stdout
	} else {
		cmd.Stdout = &out
	}
	require.NoError(t, cmd.Run(), "%q: %s", argv, errOut.String())
	return out.String()
}

// listFiles returns every regular file under dir, relative to it.
func listFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files := make(map[string]bool)
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walking %s: %w", p, err)
		}
		if e.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return fmt.Errorf("relative path of %s: %w", p, err)
			}
			files[rel] = true
		}
		return nil
	})
	require.NoError(t, err)
	return files
}

// newFiles lists the files in after that are not in before, sorted.
func newFiles(before, after map[string]bool) []string {
	var added []string
	for f := range after {
		if !before[f] {
			added = append(added, f)
		}
	}
	sort.Strings(added)
	return added
}

// coffTimestamp reads the TimeDateStamp of a COFF object's file header.
func coffTimestamp(t *testing.T, obj []byte) uint32 {
	t.Helper()
	require.GreaterOrEqual(t, len(obj), 20, "not a COFF object")
	return binary.LittleEndian.Uint32(obj[4:8])
}

// withoutCOFFTimestamp returns a copy of obj with the TimeDateStamp zeroed.
func withoutCOFFTimestamp(t *testing.T, obj []byte) []byte {
	t.Helper()
	require.GreaterOrEqual(t, len(obj), 20, "not a COFF object")
	c := bytes.Clone(obj)
	copy(c[4:8], []byte{0, 0, 0, 0})
	return c
}
