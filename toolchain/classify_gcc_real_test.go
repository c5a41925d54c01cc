package toolchain

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// gccRealFixture is the source tree every real-compiler case starts from. The
// C file has comments and macro expansions in the middle of lines, so that
// anything recording source columns differs between a compile of the source
// and a compile of its preprocessed text.
var gccRealFixture = map[string]string{
	"dir/x.h": "#define FACTOR 3\nint api(int n);\n",
	"dir/a.c": `#include <stddef.h>
#include "x.h"
#define SCALE(v) ((v) * FACTOR)

static int /* keep */ table[4] = {1, 2, 3, 4};

static int /* helper */ helper(int x) { return SCALE(x) + table[x & 3]; }

int api(int n) {
	int sum = 0; /* loop */ for (int i = 0; i < n; i++) { sum += helper(i); }
	return sum + (int)sizeof(size_t);
}
`,
	"dir/b.cpp": `#include <string>
#include <vector>
#include "x.h"
namespace { std::vector<std::string> names = {"a", "b"}; }
template <typename T> T twice(T v) { return v + v; }
int count() { return static_cast<int>(names.size()) + twice(FACTOR); }
struct S { virtual ~S() {} virtual int f() { return 1; } };
int use(S *s) { try { return s->f(); } catch (...) { return 0; } }
`,
	"dir/s.S": `#define VALUE 42
	.text
	.globl asmfn
	.type asmfn, @function
asmfn:
	movl $VALUE, %eax
	ret
	.section .note.GNU-stack,"",@progbits
`,
	"dir/p.i":   "# 1 \"p.c\"\nint pre(int x) { return x * 2; }\n",
	"dir/m.m":   "int objc_plain(int x) { return x - 1; }\n",
	"inc/pre.h": "#define PRE_INCLUDED 1\n",
	"inc/m.h":   "#define FROM_IMACROS 2\n",
	"out/.keep": "",
}

// gccTwoStep says what the real test expects of the two-step compile.
type gccTwoStep int

const (
	// gccSame: the two-step compile writes the same bytes (required for remote).
	gccSame gccTwoStep = iota
	// gccDiffers: the two-step compile writes different bytes, which is why
	// the command is cache-only.
	gccDiffers
	// gccElsewhereDiffers: the two-step compile writes the same bytes here,
	// but not in another directory, which is why the command is cache-only.
	gccElsewhereDiffers
)

// gccRealCase is one command line run by the real compiler.
type gccRealCase struct {
	line    string
	action  Action
	twoStep gccTwoStep
}

// TestClassifyGCCRealCompilers runs each cacheable command line with the real
// compiler, checks that the predicted outputs are exactly the files it wrote,
// then runs PreprocessCommand and CompileCommand in the same directory and
// compares every output byte for byte. Remote commands must also compile to
// the same bytes in another directory that holds nothing but the preprocessed
// text, as a compile host would.
func TestClassifyGCCRealCompilers(t *testing.T) {
	cases := []gccRealCase{
		// gcc: ordinary compiles, every object and dependency-file naming rule.
		{"gcc -c dir/a.c", ActionRemote, gccSame},
		{"gcc -O2 -Wall -Wextra -fPIC -DNDEBUG -Idir -std=gnu11 -c dir/a.c -o out/a.o", ActionRemote, gccSame},
		{"gcc -O2 -MD -MP -c dir/a.c -o out/a.o", ActionRemote, gccSame},
		{"gcc -MMD -MF out/a.dep -MT mytarget -c dir/a.c -o out/a.o", ActionRemote, gccSame},
		{"gcc -MD -c dir/a.c -o out/a", ActionRemote, gccSame},
		{"gcc -Wp,-MD,out/.a.o.d -O2 -c dir/a.c -o out/a.o", ActionRemote, gccSame},
		{"gcc -include inc/pre.h -imacros inc/m.h -isystem inc -iquote dir -c dir/a.c -ofoo.o", ActionRemote, gccSame},
		{"gcc -g -gno-column-info -O2 -c dir/a.c -o out/a.o", ActionCache, gccSame},
		{"gcc -g -gno-column-info -gsplit-dwarf -c dir/a.c -o out/a.o", ActionCache, gccSame},
		{"gcc -gsplit-dwarf -O1 -c dir/a.c", ActionRemote, gccSame},
		{"gcc -x c++ -O2 -c dir/a.c", ActionRemote, gccSame},
		{"gcc -O2 -frecord-gcc-switches -DX=1 -c dir/a.c", ActionRemote, gccSame},
		{"gcc -O2 -fopenmp -fstack-protector-strong -D_FORTIFY_SOURCE=2 -c dir/a.c", ActionRemote, gccSame},
		{"gcc -DVALUE=7 -c dir/s.S -o out/s.o", ActionRemote, gccSame},
		{"gcc -Wa,--noexecstack -c dir/s.S", ActionRemote, gccSame},
		{"gcc -O2 -c dir/p.i", ActionRemote, gccSame},
		{"gcc -pipe -Wl,--as-needed -lm -c dir/a.c", ActionRemote, gccSame},
		{"g++ -c dir/a.c", ActionRemote, gccSame},
		{"g++ -O2 -std=c++17 -MD -c dir/b.cpp -o out/b.o", ActionRemote, gccSame},
		{"g++ -g -gno-column-info -fvisibility=hidden -c dir/b.cpp", ActionCache, gccSame},
		// gcc: cache-only because the two-step compile differs.
		{"gcc -g -O2 -c dir/a.c -o out/a.o", ActionCache, gccDiffers},
		{"gcc -frecord-gcc-switches -finput-charset=UTF-8 -c dir/a.c", ActionCache, gccDiffers},
		{"gcc -O2 -flto -frandom-seed=1 -c dir/a.c -o out/a.o", ActionCache, gccDiffers},
		{"gcc -fsanitize=address -c dir/a.c", ActionCache, gccDiffers},
		{"gcc -fstack-usage -c dir/a.c -o out/a.o", ActionCache, gccDiffers},
		{"gcc -g -gno-column-info -finput-charset=UTF-8 -c dir/a.c", ActionCache, gccDiffers},
		// gcc: cache-only because of this machine.
		{"gcc -O2 -march=native -c dir/a.c -o out/a.o", ActionCache, gccSame},
		{"gcc -g -gno-column-info -c dir/s.S", ActionCache, gccElsewhereDiffers},
		{"gcc --coverage -frandom-seed=1 -c dir/a.c -o out/a.o", ActionCache, gccDiffers},
		// clang: the same rules, clang's names.
		{"clang -c dir/a.c", ActionRemote, gccSame},
		{"clang -O2 -MD -c dir/a.c -o out/a.o", ActionRemote, gccSame},
		{"clang -Wp,-MD,out/a.d -c dir/a.c -o out/a.o", ActionRemote, gccSame},
		{"clang -MMD -MQ out/a$.o -c dir/a.c -o out/a$.o", ActionRemote, gccSame},
		{"clang -gdwarf-4 -gno-column-info -O2 -c dir/a.c -o out/a.o", ActionCache, gccSame},
		{"clang -gdwarf-4 -gno-column-info -gsplit-dwarf -c dir/a.c -o out/a.o", ActionCache, gccSame},
		{"clang -target x86_64-linux-gnu -O2 -flto=thin -c dir/a.c", ActionRemote, gccSame},
		{"clang -c dir/s.S", ActionRemote, gccSame},
		{"clang -gdwarf-4 -gno-column-info -c dir/s.S -o out/s.o", ActionCache, gccSame},
		{"clang -c dir/m.m", ActionRemote, gccSame},
		{"clang++ -c dir/a.c", ActionRemote, gccSame},
		{"clang -fstack-usage -c dir/a.c", ActionRemote, gccSame},
		{"clang++ -O2 -std=c++17 -MMD -c dir/b.cpp -o out/b.o", ActionRemote, gccSame},
		{"clang++ -gdwarf-4 -gno-column-info -c dir/b.cpp", ActionCache, gccSame},
		{"clang -gdwarf-4 -gno-column-info -fdebug-compilation-dir=. -c dir/a.c", ActionCache, gccSame},
		{"clang -Xclang -include -Xclang inc/pre.h -Xclang -fno-pch-timestamp -c dir/a.c", ActionRemote, gccSame},
		// clang: cache-only.
		{"clang -g -gno-column-info -c dir/a.c", ActionCache, gccDiffers},
		{"clang -gdwarf-4 -c dir/a.c", ActionCache, gccDiffers},
		{"clang -fsanitize=undefined -c dir/a.c", ActionCache, gccDiffers},
		{"clang -frecord-gcc-switches -c dir/a.c", ActionCache, gccDiffers},
		{"clang -mtune=native -c dir/a.c", ActionCache, gccSame},
		{"clang --coverage -c dir/a.c -o out/a.o", ActionCache, gccElsewhereDiffers},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.line, func(t *testing.T) {
			t.Parallel()
			argv := strings.Fields(tc.line)
			if _, err := exec.LookPath(argv[0]); err != nil {
				t.Skipf("%s is not installed", argv[0])
			}
			dir := gccTestFixture(t)
			a := Classify(Command{Compiler: argv[0], Args: argv[1:], Dir: dir})
			require.Equal(t, tc.action, a.Action, a.Reason)

			gccTestRun(t, dir, argv, "")
			original := gccTestSnapshot(t, dir)
			require.ElementsMatch(t, gccTestPredicted(a.Outputs), gccTestKeys(original),
				"the predicted outputs must be exactly the files the compiler wrote")
			for name := range original {
				require.NoError(t, os.Remove(filepath.Join(dir, name)))
			}

			if a.PreprocessCommand != nil {
				gccTestRun(t, dir, a.PreprocessCommand, filepath.Join(dir, a.PreprocessedInput))
			}
			gccTestRun(t, dir, a.CompileCommand, "")
			twoStep := gccTestSnapshot(t, dir)
			if a.PreprocessCommand != nil {
				delete(twoStep, a.PreprocessedInput)
			}
			require.ElementsMatch(t, gccTestKeys(original), gccTestKeys(twoStep))
			switch tc.twoStep {
			case gccSame, gccElsewhereDiffers:
				require.Empty(t, gccTestDiffer(original, twoStep), "the two-step compile must write the same bytes")
			case gccDiffers:
				require.NotEmpty(t, gccTestDiffer(original, twoStep), "the reason for cache-only is that the two-step compile differs")
			}
			if a.Action == ActionRemote {
				require.Empty(t, gccTestElsewhere(t, dir, a, original), "a compile host must write the same bytes")
			}
			if tc.twoStep == gccElsewhereDiffers {
				require.NotEmpty(t, gccTestElsewhere(t, dir, a, original), "the reason for cache-only is that a compile elsewhere differs")
			}
		})
	}
}

// gccTestElsewhere runs CompileCommand in a fresh directory that holds only
// the preprocessed text, and returns the object and auxiliary files whose
// bytes differ from the original compile's.
func gccTestElsewhere(t *testing.T, dir string, a Analysis, original map[string][]byte) []string {
	t.Helper()
	other := filepath.Join(t.TempDir(), "elsewhere", "deeper")
	text, err := os.ReadFile(filepath.Join(dir, a.PreprocessedInput))
	require.NoError(t, err)
	gccTestWrite(t, other, a.PreprocessedInput, string(text))
	for _, out := range gccTestPredicted(a.Outputs) {
		require.NoError(t, os.MkdirAll(filepath.Join(other, filepath.Dir(out)), 0o755))
	}
	gccTestRun(t, other, a.CompileCommand, "")
	var differ []string
	for _, out := range []string{a.Outputs.Object, a.Outputs.SplitDwarf, a.Outputs.StackUsage, a.Outputs.Coverage} {
		if out == "" {
			continue
		}
		got, err := os.ReadFile(filepath.Join(other, out))
		require.NoError(t, err)
		if !bytes.Equal(original[filepath.Clean(out)], got) {
			differ = append(differ, out)
		}
	}
	return differ
}

// gccTestFixture writes gccRealFixture into a new directory.
func gccTestFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range gccRealFixture {
		gccTestWrite(t, dir, name, text)
	}
	return dir
}

// gccTestWrite writes one file under dir, creating its directory.
func gccTestWrite(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
}

// gccTestRun runs argv in dir and fails the test with the compiler's output
// when it fails. When stdout is set, standard output goes to that file.
func gccTestRun(t *testing.T, dir string, argv []string, stdout string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	var errs bytes.Buffer
	cmd.Stderr = &errs
	if stdout != "" {
		f, err := os.Create(stdout)
		require.NoError(t, err)
		defer f.Close()
		cmd.Stdout = f
	}
	require.NoError(t, cmd.Run(), "%q: %s", argv, errs.String())
}

// gccTestSnapshot reads every file under dir that is not part of the fixture.
func gccTestSnapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if _, fixture := gccRealFixture[rel]; fixture {
			return nil
		}
		data, err := os.ReadFile(p)
		files[rel] = data
		return err
	})
	require.NoError(t, err)
	return files
}

// gccTestPredicted lists the output files an analysis names.
func gccTestPredicted(o Outputs) []string {
	var names []string
	for _, n := range []string{o.Object, o.Deps, o.SplitDwarf, o.Coverage, o.StackUsage} {
		if n != "" {
			names = append(names, filepath.Clean(n))
		}
	}
	return names
}

// gccTestDiffer lists the files whose bytes differ between two snapshots.
func gccTestDiffer(a, b map[string][]byte) []string {
	var names []string
	for n, data := range a {
		if other, ok := b[n]; !ok || !bytes.Equal(data, other) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// gccTestKeys lists a snapshot's file names, sorted.
func gccTestKeys(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestGCCOptionTableKnownToCompilers asks the real gcc and clang about every
// -f and -g switch without an argument that the option table lets a command
// keep (rows that make a command local are left out: it runs unchanged
// anyway). Each must be an option that family's driver knows, so that the
// table's family restrictions match the compilers: a command with an option
// its driver rejects must run unchanged, with the driver's own error.
func TestGCCOptionTableKnownToCompilers(t *testing.T) {
	for _, fam := range []Family{FamilyGCC, FamilyClang} {
		compiler := string(fam)
		t.Run(compiler, func(t *testing.T) {
			if _, err := exec.LookPath(compiler); err != nil {
				t.Skipf("%s is not installed", compiler)
			}
			var names []string
			for _, r := range gccMainRows() {
				plain := r.flags&(optSeparateArg|optConcatArg|optLocal) == 0
				known := strings.HasPrefix(r.name, "-f") || strings.HasPrefix(r.name, "-g")
				if plain && known && (r.only == FamilyUnknown || r.only == fam) {
					names = append(names, r.name)
				}
			}
			require.NotEmpty(t, names)
			var rejected []string
			for len(names) > 0 {
				n := min(len(names), 16)
				rejected = append(rejected, gccTestRejected(t, compiler, names[:n])...)
				names = names[n:]
			}
			require.Empty(t, rejected, "%s rejects options the table accepts for it", compiler)
		})
	}
}

// gccTestCanary is an option no compiler knows: seeing it rejected proves the
// driver checked every option of the run.
const gccTestCanary = "-fdcc-canary-option"

// gccTestRejected runs the compiler on an empty file with the given options
// and returns the ones it rejects as unknown.
func gccTestRejected(t *testing.T, compiler string, opts []string) []string {
	t.Helper()
	args := []string{"-fsyntax-only", gccTestCanary}
	if compiler == "clang" {
		args = append(args, "-ferror-limit=0")
	}
	args = append(append(args, opts...), "-x", "c", os.DevNull)
	out, _ := exec.Command(compiler, args...).CombinedOutput()
	text := string(out)
	require.Contains(t, text, gccTestCanary, "%s did not check every option: %s", compiler, text)
	var rejected []string
	for _, o := range opts {
		for _, form := range []string{"option ‘" + o + "’", "argument: '" + o + "'", "option '" + o + "'", "level ‘" + strings.TrimPrefix(o, "-g") + "’"} {
			if strings.Contains(text, form) {
				rejected = append(rejected, o)
				break
			}
		}
	}
	return rejected
}
