package integration

// Items 47-53 of ../shared/cache-behaviours.md: files a compile reads or
// looks for that no preprocessor reports (options naming profile data and
// lists, the assembler's .incbin and .include, __has_include), options
// that only look alike, diagnostics, and sources written just before their
// compile (configure tests). Each case changes what the compiler reads and
// requires the next compile through dcc to be plain gcc's or clang's.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readFileCase is a compile whose result depends on a file it reads that
// no preprocessor reports: prepare makes that file's first version, change
// its second, and the compile through dcc must follow it.
type readFileCase struct {
	name, only string
	files      map[string]string
	args       []string
	prepare    func(t *testing.T, e *behaviourEnv, c behaviourCompiler)
	change     func(t *testing.T, e *behaviourEnv, c behaviourCompiler)
	// uncacheable: the compile is never served from the cache (every
	// compile counts as uncacheable), rather than keyed on the file.
	uncacheable bool
}

// profSource runs hot() one way or the other depending on its argument,
// so that two training runs give two different profiles.
const profSource = `#include <stdlib.h>
int work(int n, int mode) {
  int s = 0;
  for (int i = 0; i < n; i++) {
    if (mode ? (i % 7 == 0) : (i % 7 != 0)) s += i * 3; else s ^= i;
  }
  return s;
}
int main(int argc, char **argv) { return work(200000, argc > 1 ? atoi(argv[1]) : 0) & 1; }
`

// train builds p.c instrumented with genArgs, runs it with mode, and leaves
// its profile where the instrumentation writes it.
func train(t *testing.T, e *behaviourEnv, cc string, genArgs []string, mode string) {
	t.Helper()
	r := e.run(e.work, nil, append(append([]string{cc, "-O2"}, genArgs...), "-c", "p.c", "-o", "p.o")...)
	require.Equal(t, 0, r.exit, "instrumented compile: %s", r.stderr)
	r = e.run(e.work, nil, append(append([]string{cc}, genArgs...), "p.o", "-o", "prog")...)
	require.Equal(t, 0, r.exit, "instrumented link: %s", r.stderr)
	r = e.run(e.work, nil, filepath.Join(e.work, "prog"), mode)
	require.NotEqual(t, -1, r.exit)
	require.NoError(t, os.Remove(filepath.Join(e.work, "p.o")))
}

// gccTrain returns a step that makes p.gcda (or the files under dir) anew
// from a run in mode.
func gccTrain(mode string, genArgs ...string) func(*testing.T, *behaviourEnv, behaviourCompiler) {
	return func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		os.Remove(filepath.Join(e.work, "p.gcda"))
		os.RemoveAll(filepath.Join(e.work, "prof"))
		train(t, e, c.cc, append([]string{"-fprofile-generate"}, genArgs...), mode)
	}
}

// clangTrain returns a step that makes x.profdata anew from a run in mode.
func clangTrain(mode string) func(*testing.T, *behaviourEnv, behaviourCompiler) {
	return func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		profdata := requireTool(t, "llvm-profdata-14")
		os.Remove(filepath.Join(e.work, "default.profraw"))
		train(t, e, c.cc, []string{"-fprofile-instr-generate"}, mode)
		r := e.run(e.work, nil, profdata, "merge", "-o", "x.profdata", "default.profraw")
		require.Equal(t, 0, r.exit, "llvm-profdata: %s", r.stderr)
	}
}

// writeStep returns a step that writes files into the work directory.
func writeStep(files map[string]string) func(*testing.T, *behaviourEnv, behaviourCompiler) {
	return func(t *testing.T, e *behaviourEnv, _ behaviourCompiler) { writeFiles(t, e.work, files) }
}

// TestFilesReadThroughOptions covers item 47 (and the .incbin and
// __has_include cases of the same kind): changing a file that an option,
// the assembler or a __has_include makes the compiler read or look for
// gives a miss (or is never cached) and the compiler's new object.
func TestFilesReadThroughOptions(t *testing.T) {
	t.Parallel()
	asmSource := "__asm__(\".section .rodata\\n.globl blob\\nblob: .incbin \\\"data.bin\\\"\\n.previous\");\nint f(void) { return 1; }\n"
	cases := []readFileCase{
		{name: "gcc-fprofile-use-gcda-named-after-object", only: "gcc", files: map[string]string{"p.c": profSource},
			args:    []string{"-O2", "-fprofile-use", "-Wno-missing-profile", "-c", "p.c", "-o", "p.o"},
			prepare: gccTrain("0"), change: gccTrain("1")},
		{name: "gcc-fprofile-use-directory", only: "gcc", files: map[string]string{"p.c": profSource},
			args:    []string{"-O2", "-fprofile-use=prof", "-Wno-missing-profile", "-c", "p.c", "-o", "p.o"},
			prepare: gccTrain("0", "-fprofile-dir=prof"), change: gccTrain("1", "-fprofile-dir=prof")},
		{name: "gcc-fprofile-use-appears", only: "gcc", files: map[string]string{"p.c": profSource},
			args:    []string{"-O2", "-fprofile-use", "-Wno-missing-profile", "-c", "p.c", "-o", "p.o"},
			prepare: func(*testing.T, *behaviourEnv, behaviourCompiler) {}, change: gccTrain("1")},
		{name: "clang-fprofile-use-file", only: "clang", files: map[string]string{"p.c": profSource},
			args:    []string{"-O2", "-fprofile-use=x.profdata", "-c", "p.c", "-o", "p.o"},
			prepare: clangTrain("0"), change: clangTrain("1")},
		{name: "clang-fprofile-sample-use", only: "clang", files: map[string]string{"p.c": profSource},
			args:    []string{"-O2", "-fprofile-sample-use=s.prof", "-c", "p.c", "-o", "p.o"},
			prepare: writeStep(map[string]string{"s.prof": "work:1000:1\n 2: 10\n 3: 1000\n"}),
			change:  writeStep(map[string]string{"s.prof": "work:1000:1\n 2: 1000\n 3: 10\n"})},
		{name: "clang-fsanitize-ignorelist", only: "clang", files: map[string]string{"p.c": profSource},
			args:    []string{"-O1", "-fsanitize=address", "-fsanitize-ignorelist=ign.txt", "-c", "p.c", "-o", "p.o"},
			prepare: writeStep(map[string]string{"ign.txt": "fun:nothing\n"}),
			change:  writeStep(map[string]string{"ign.txt": "fun:work\n"})},
		{name: "incbin-in-c-source", files: map[string]string{"x.c": asmSource}, args: []string{"-O2", "-c", "x.c", "-o", "x.o"},
			prepare: writeStep(map[string]string{"data.bin": "first"}), change: writeStep(map[string]string{"data.bin": "second"}),
			uncacheable: true},
		{name: "incbin-in-header", files: map[string]string{"x.c": "#include \"blob.h\"\n", "blob.h": asmSource},
			args:    []string{"-O2", "-c", "x.c", "-o", "x.o"},
			prepare: writeStep(map[string]string{"data.bin": "first"}), change: writeStep(map[string]string{"data.bin": "second"}),
			uncacheable: true},
		{name: "incbin-in-S-source", files: map[string]string{"x.S": "#define NAME blob\n.section .rodata\n.globl NAME\nNAME: .incbin \"data.bin\"\n"},
			args:    []string{"-c", "x.S", "-o", "x.o"},
			prepare: writeStep(map[string]string{"data.bin": "first"}), change: writeStep(map[string]string{"data.bin": "second"}),
			uncacheable: true},
		{name: "include-in-S-source", files: map[string]string{"x.S": ".include \"part.s\"\n"},
			args:    []string{"-c", "x.S", "-o", "x.o"},
			prepare: writeStep(map[string]string{"part.s": ".globl a\na: .long 1\n"}), change: writeStep(map[string]string{"part.s": ".globl a\na: .long 2\n"}),
			uncacheable: true},
		{name: "has-include-appears-in-I-dir",
			files:   map[string]string{"x.c": "#if __has_include(\"opt.h\")\nint f(void) { return 1; }\n#else\nint f(void) { return 2; }\n#endif\n", "inc/other.h": ""},
			args:    []string{"-Iinc", "-c", "x.c", "-o", "x.o"},
			prepare: func(*testing.T, *behaviourEnv, behaviourCompiler) {}, change: writeStep(map[string]string{"inc/opt.h": "\n"})},
		{name: "has-include-appears-in-new-dir",
			files:   map[string]string{"x.c": "#if __has_include(<sub/opt.h>)\nint f(void) { return 1; }\n#else\nint f(void) { return 2; }\n#endif\n"},
			args:    []string{"-Iinc", "-c", "x.c", "-o", "x.o"},
			prepare: func(*testing.T, *behaviourEnv, behaviourCompiler) {}, change: writeStep(map[string]string{"inc/sub/opt.h": "\n"})},
		{name: "has-include-in-header-appears",
			files: map[string]string{"x.c": "#include \"a.h\"\nint f(void) { return V; }\n",
				"a.h": "#if __has_include(\"opt.h\")\n#define V 1\n#else\n#define V 2\n#endif\n"},
			args:    []string{"-Iinc", "-c", "x.c", "-o", "x.o"},
			prepare: func(*testing.T, *behaviourEnv, behaviourCompiler) {}, change: writeStep(map[string]string{"inc/opt.h": "\n"})},
		{name: "has-include-found-then-removed",
			files:   map[string]string{"x.c": "#if __has_include(\"opt.h\")\nint f(void) { return 1; }\n#else\nint f(void) { return 2; }\n#endif\n"},
			args:    []string{"-Iinc", "-c", "x.c", "-o", "x.o"},
			prepare: writeStep(map[string]string{"inc/opt.h": "\n"}),
			change: func(t *testing.T, e *behaviourEnv, _ behaviourCompiler) {
				require.NoError(t, os.Remove(filepath.Join(e.work, "inc/opt.h")))
			}},
	}
	for _, mode := range []struct{ name, env string }{{"depend", "DCC_DEPEND_MODE=true"}, {"preprocessor", "DCC_DEPEND_MODE=false"}} {
		t.Run(mode.name, func(t *testing.T) {
			var groups []subtest
			for _, tc := range cases {
				groups = append(groups, subtest{tc.name, func(t *testing.T) {
					var tests []subtest
					for _, c := range behaviourCompilers {
						if tc.only != "" && tc.only != c.name {
							continue
						}
						tests = append(tests, subtest{c.name, func(t *testing.T) {
							requireTool(t, c.cc)
							runReadFileCase(t, newBehaviourEnv(t, mode.env), c, tc)
						}})
					}
					leaves(t, tests)
				}})
			}
			group(t, groups)
		})
	}
}

// runReadFileCase compiles tc twice (a miss, then a hit unless the case is
// uncacheable), changes the file read, and compiles again: the object must
// be the compiler's new one, which must differ from the old.
func runReadFileCase(t *testing.T, e *behaviourEnv, c behaviourCompiler, tc readFileCase) {
	writeFiles(t, e.work, tc.files)
	tc.prepare(t, e, c)
	waitRaceGuard()
	argv := append([]string{c.cc}, tc.args...)
	obj := tc.args[len(tc.args)-1]
	ref := e.reference(e.work, nil, argv, obj)
	e.rerun(e.work, nil, ref)
	e.rerun(e.work, nil, ref)
	if tc.uncacheable {
		e.wantStats(statCounters{"hits": 0, "misses": 0, "uncacheable": 2, "errors": 0})
	} else {
		e.wantStats(statCounters{"hits": 1, "misses": 1, "errors": 0})
	}
	tc.change(t, e, c)
	waitRaceGuard()
	ref2 := e.reference(e.work, nil, argv, obj)
	require.NotEqual(t, ref.files[obj], ref2.files[obj], "the change must change the compiler's object, or the case proves nothing")
	e.rerun(e.work, nil, ref2)
	if tc.uncacheable {
		e.wantStats(statCounters{"hits": 0, "uncacheable": 3, "errors": 0})
	} else {
		e.wantStats(statCounters{"hits": 1, "misses": 2, "errors": 0})
		e.rerun(e.work, nil, ref2)
		e.wantStats(statCounters{"hits": 2, "misses": 2, "errors": 0})
	}
}

// TestLookAlikeOptions covers item 49: -Wp,-DV and -DV reach the same
// preprocessor but are different arguments; each is cached and neither
// is served for the other.
func TestLookAlikeOptions(t *testing.T) {
	t.Parallel()
	eachScenario(t, []scenario{
		{name: "Wp-D-to-D", files: map[string]string{"x.c": srcReturnsV}, args: []string{"-Wp,-DV=1", "-c", "x.c"},
			change: setArgs("-DV=2", "-c", "x.c")},
		{name: "D-to-Wp-D", files: map[string]string{"x.c": srcReturnsV}, args: []string{"-DV=1", "-c", "x.c"},
			change: setArgs("-Wp,-DV=2", "-c", "x.c")},
	}, nil, func(t *testing.T, _ scenario, after statCounters) {
		assert.Equal(t, int64(2), after["misses"], "the changed option is a miss")
	})
}

// TestRejectedColourOption covers item 50's last case: an option the
// compiler rejects (clang's -fcolor-diagnostics given to gcc) fails as the
// compiler fails, every time.
func TestRejectedColourOption(t *testing.T) {
	t.Parallel()
	e := newBehaviourEnv(t)
	requireTool(t, "gcc")
	writeFiles(t, e.work, map[string]string{"x.c": srcLoop})
	ref := e.referenceAnyExit(e.work, nil, []string{"gcc", "-fcolor-diagnostics", "-c", "x.c"}, "x.o")
	require.NotEqual(t, 0, ref.res.exit, "gcc 12 rejects -fcolor-diagnostics")
	e.rerun(e.work, nil, ref)
	e.rerun(e.work, nil, ref)
	e.wantStats(statCounters{"hits": 0, "misses": 0, "errors": 0})
}

// TestBrokenSourceWithDependencyOptions covers item 52: a source that does
// not compile, with -MD -MP -MF and -Werror, fails with the compiler's own
// error and exit code, twice, and is never cached.
func TestBrokenSourceWithDependencyOptions(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": "#include \"a.h\"\nint f(void) { int unused; return A }\n", "a.h": "#define A 1\n"})
		waitRaceGuard()
		argv := []string{c.cc, "-Wall", "-Werror", "-MD", "-MP", "-MF", "x.d", "-c", "x.c", "-o", "x.o"}
		ref := e.referenceAnyExit(e.work, nil, argv, "x.o")
		require.NotEqual(t, 0, ref.res.exit)
		e.rerun(e.work, nil, ref)
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"hits": 0, "misses": 0, "errors": 0})
	})
}

// TestNoWarningsFromPreprocessedText covers item 53: warnings that only
// the preprocessed text would give (clang's -Wparentheses-equality and
// -Wself-assign, which it keeps quiet inside macro expansions) never
// reach the user: in preprocessor mode, where dcc compiles the text it
// has, and in depend mode.
func TestNoWarningsFromPreprocessedText(t *testing.T) {
	t.Parallel()
	src := "#define EQ(a, b) ((a) == (b))\n#define SELF(x) ((x) = (x))\n" +
		"int f(int x) { SELF(x); if (EQ(x, 1)) return 2; return 3; }\n"
	for _, env := range []string{"DCC_DEPEND_MODE=false", "DCC_DEPEND_MODE=true"} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				writeFiles(t, e.work, map[string]string{"x.c": src})
				waitRaceGuard()
				ref := e.reference(e.work, nil, []string{c.cc, "-Wall", "-Wextra", "-O2", "-c", "x.c"}, "x.o")
				require.Empty(t, string(ref.res.stderr), "the compiler itself is quiet")
				if c.name == "clang" {
					pp := e.run(e.work, nil, c.cc, "-E", "x.c", "-o", "x.i")
					require.Equal(t, 0, pp.exit)
					warned := e.run(e.work, nil, c.cc, "-Wall", "-Wextra", "-O2", "-c", "x.i", "-o", "xi.o")
					require.NotEmpty(t, string(warned.stderr), "the preprocessed text warns, or the case proves nothing")
				}
				e.rerun(e.work, nil, ref)
				e.rerun(e.work, nil, ref)
				e.wantStats(statCounters{"hits": 1, "misses": 1, "errors": 0})
			}, env)
		})
	}
}

// TestCompilerProbesAreNotErrors: a build's probe of the compiler
// (clang -c /dev/null, as real Makefiles run) runs unchanged and counts as
// such, not as an error.
func TestCompilerProbesAreNotErrors(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		ref := e.reference(e.work, nil, []string{c.cc, "-x", "c", "-c", "/dev/null", "-o", "null.o"}, "null.o")
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"errors": 0, "local": 1, "misses": 0})
	})
}

// conftestSteps are the compiles of a small configure run: each writes
// confdefs.h and conftest.c and compiles at once, as autoconf does.
var conftestSteps = []struct{ defs, test string }{
	{"#define PACKAGE \"p\"\n", "#include <stdio.h>\nint main(void) { return 0; }\n"},
	{"#define PACKAGE \"p\"\n#define HAVE_STDIO_H 1\n", "#include <string.h>\nint main(void) { return (int) strlen(\"x\"); }\n"},
	{"#define PACKAGE \"p\"\n#define HAVE_STDIO_H 1\n#define HAVE_STRING_H 1\n", "#include \"confdefs.h\"\n#include <stdlib.h>\nint main(void) { return HAVE_STRING_H - 1; }\n"},
	{"#define PACKAGE \"p\"\n#define HAVE_STDIO_H 1\n#define HAVE_STRING_H 1\n#define HAVE_STDLIB_H 1\n", "#include \"confdefs.h\"\nchar f(void);\nint main(void) { return f(); }\n"},
}

// TestConfigureTestsHit covers item 51: configure tests, whose conftest.c
// and confdefs.h are written just before their compile, hit when a second
// configure run writes and compiles them again.
func TestConfigureTestsHit(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		for run := 1; run <= 2; run++ {
			for i, step := range conftestSteps {
				// confdefs.h first, as autoconf writes it: a header written
				// after the source, within the race margin of the compile,
				// is rightly not recorded (a map of both was written in
				// random order, and under load that missed now and then).
				writeFiles(t, e.work, map[string]string{"confdefs.h": step.defs})
				writeFiles(t, e.work, map[string]string{"conftest.c": step.test})
				argv := []string{c.cc, "-O2", "-c", "conftest.c", "-o", "conftest.o"}
				got := e.run(e.work, nil, append([]string{dccBin}, argv...)...)
				require.Equal(t, 0, got.exit, "run %d step %d: %s", run, i, got.stderr)
			}
			os.Remove(filepath.Join(e.work, "conftest.o"))
		}
		n := int64(len(conftestSteps))
		e.wantStats(statCounters{"misses": n, "hits": n, "direct_hits": n, "errors": 0})
	})
}

// TestSourceChangedDuringCompileNotStored covers item 51's other half: a
// source rewritten while its compile runs is never stored under the
// content dcc hashed before the compile. The compiler is a script that
// waits before and after running gcc; the source changes during the first
// wait, so gcc reads the new content, and changes back during the second,
// so that dcc, hashing it after the compile, finds the old content again
// (only its time stamps tell).
func TestSourceChangedDuringCompileNotStored(t *testing.T) {
	t.Parallel()
	gcc := requireTool(t, "gcc")
	for _, mode := range []string{"DCC_DEPEND_MODE=true", "DCC_DEPEND_MODE=false"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newBehaviourEnv(t, mode)
			bin := programDir(t, map[string]string{"slowcc": fmt.Sprintf("#!/bin/sh\nsleep 0.5\n%s \"$@\" || exit 1\nsleep 0.6\n", gcc)})
			slow := filepath.Join(bin, "slowcc")
			old, updated := "int f(void) { return 1; }\n", "int f(void) { return 2; }\n"
			writeFiles(t, e.work, map[string]string{"x.c": old})
			waitRaceGuard()
			argv := []string{slow, "-O2", "-c", "x.c", "-o", "x.o"}
			refOld := e.reference(e.work, nil, argv, "x.o")
			writeFiles(t, e.work, map[string]string{"x.c": updated})
			refNew := e.reference(e.work, nil, argv, "x.o")
			// A first compile starts the daemon and identifies slowcc (which
			// sleeps too), so that the timed compile starts at once.
			writeFiles(t, e.work, map[string]string{"x.c": old, "warm.c": "int w;\n"})
			waitRaceGuard()
			warm := e.run(e.work, nil, dccBin, slow, "-O2", "-c", "warm.c", "-o", "warm.o")
			require.Equal(t, 0, warm.exit, "%s", warm.stderr)

			cmd := exec.Command(dccBin, argv...)
			cmd.Dir, cmd.Env = e.work, append(os.Environ(), e.env...)
			require.NoError(t, cmd.Start())
			time.Sleep(250 * time.Millisecond)
			writeFiles(t, e.work, map[string]string{"x.c": updated})
			time.Sleep(600 * time.Millisecond)
			writeFiles(t, e.work, map[string]string{"x.c": old})
			require.NoError(t, cmd.Wait())
			got, err := os.ReadFile(filepath.Join(e.work, "x.o"))
			require.NoError(t, err)
			// In depend mode gcc reads the new content; in preprocessor mode
			// dcc may preprocess without the script (cc1 directly), before
			// the change: either way the object is one of the two.
			require.True(t, string(got) == string(refNew.files["x.o"]) || string(got) == string(refOld.files["x.o"]),
				"the object is made from one of the two contents")

			// Each content again: dcc must answer with that content's object,
			// never with the other's stored under it.
			e.rerun(e.work, nil, refOld)
			e.rerun(e.work, nil, refOld)
			writeFiles(t, e.work, map[string]string{"x.c": updated})
			waitRaceGuard()
			e.rerun(e.work, nil, refNew)
			e.rerun(e.work, nil, refNew)
		})
	}
}
