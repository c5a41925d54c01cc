package integration

// The behaviour suite: each test is one or more items of
// ../shared/cache-behaviours.md (the number is in the test's doc comment),
// run through the real dcc binary against real gcc and clang, each in
// temporary directories with a dcc directory, a daemon and counters of its
// own. Outputs are compared byte for byte with the compiler's own.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compileSpec is one compile of a scenario: where it runs, its arguments
// after the compiler and its environment. "{dir}" in args and env stands for
// the working directory.
type compileSpec struct {
	dir     string
	args    []string
	env     []string
	outputs []string
	cxx     bool
}

// argv is the command line with compiler c.
func (s *compileSpec) argv(c behaviourCompiler) []string {
	cc := c.cc
	if s.cxx {
		cc = c.cxx
	}
	return append([]string{cc}, expandDir(s.args, s.dir)...)
}

// write writes files into the working directory.
func (s *compileSpec) write(t *testing.T, files map[string]string) {
	t.Helper()
	writeFiles(t, s.dir, files)
}

// expandDir replaces "{dir}" in each string.
func expandDir(list []string, dir string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ReplaceAll(s, "{dir}", dir)
	}
	return out
}

// outputList is the outputs of s ("x.o" unless it names others).
func (s *compileSpec) outputList() []string {
	if len(s.outputs) == 0 {
		return []string{"x.o"}
	}
	return s.outputs
}

// runSpec runs s plainly and through dcc and requires the same results.
func (e *behaviourEnv) runSpec(c behaviourCompiler, s *compileSpec) plainRun {
	e.t.Helper()
	env := expandDir(s.env, s.dir)
	ref := e.reference(s.dir, env, s.argv(c), s.outputList()...)
	e.rerun(s.dir, env, ref)
	return ref
}

// scenario is a compile, a change, and the same compile again.
type scenario struct {
	name string
	// only names the one compiler family the scenario applies to ("": all).
	only string
	// files is the tree to start from; args, env, outputs and cxx the compile.
	files   map[string]string
	args    []string
	env     []string
	outputs []string
	cxx     bool
	// change edits the tree or the compile.
	change func(t *testing.T, s *compileSpec)
	// noDirect: the compile cannot be served in direct mode (time macros).
	noDirect bool
	// pinnedTime: the scenario needs a compiler that takes the time macros'
	// value from SOURCE_DATE_EPOCH.
	pinnedTime bool
	// hitKind, for a scenario that must still hit after the change, is the
	// counter the hit goes to ("direct_hits" or "preprocessed_hits"; "" for
	// either).
	hitKind string
}

// runScenario compiles tc (a miss), compiles it again (a hit: in direct mode
// unless direct is false, so that the change meets a manifest), applies the
// change and compiles once more. Every compile must match the compiler's own.
// It returns the counters after the last compile.
func runScenario(t *testing.T, e *behaviourEnv, c behaviourCompiler, tc scenario, direct bool) statCounters {
	t.Helper()
	s := &compileSpec{dir: e.work, args: tc.args, env: tc.env, outputs: tc.outputs, cxx: tc.cxx}
	s.write(t, tc.files)
	waitRaceGuard()
	ref := e.runSpec(c, s)
	e.wantStats(statCounters{"misses": 1, "hits": 0, "errors": 0})
	e.rerun(s.dir, expandDir(s.env, s.dir), ref)
	directHits := int64(0)
	if direct && !tc.noDirect {
		directHits = 1
	}
	e.wantStats(statCounters{"misses": 1, "hits": 1, "direct_hits": directHits, "errors": 0})
	tc.change(t, s)
	e.runSpec(c, s)
	return e.stats()
}

// eachScenario runs every scenario with every compiler it applies to, at
// once, each with a daemon started with env, and checks the counters after
// the change.
func eachScenario(t *testing.T, cases []scenario, env []string, check func(t *testing.T, tc scenario, after statCounters)) {
	t.Helper()
	direct := !slices.Contains(env, "DCC_DIRECT_MODE=false")
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
					requireTool(t, c.cxx)
					envHere := env
					if tc.pinnedTime {
						// Whatever this compiler needs to take the time
						// macros' value from SOURCE_DATE_EPOCH, in every run
						// (the change replaces the compile's own variables).
						envHere = append(slices.Clone(env), sourceDateEpochEnv(t, c.cc)...)
					}
					e := newBehaviourEnv(t, envHere...)
					check(t, tc, runScenario(t, e, c, tc, direct))
				}})
			}
			leaves(t, tests)
		}})
	}
	group(t, groups)
}

// edit returns a change that writes files.
func edit(files map[string]string) func(*testing.T, *compileSpec) {
	return func(t *testing.T, s *compileSpec) { s.write(t, files) }
}

// setArgs returns a change that replaces the compile's arguments.
func setArgs(args ...string) func(*testing.T, *compileSpec) {
	return func(_ *testing.T, s *compileSpec) { s.args = args }
}

// setEnv returns a change that replaces the compile's environment.
func setEnv(env ...string) func(*testing.T, *compileSpec) {
	return func(_ *testing.T, s *compileSpec) { s.env = env }
}

// moveTree returns a change that copies the tree to a new directory and
// compiles there.
func moveTree() func(*testing.T, *compileSpec) {
	return func(t *testing.T, s *compileSpec) {
		dst := filepath.Join(t.TempDir(), "copy")
		copyTreeFS(t, s.dir, dst)
		s.dir = dst
	}
}

// Sources shared by the scenarios.
const (
	srcIncludesA = "#include \"a.h\"\nint f(void) { return A; }\n"
	srcReturnsV  = "int f(void) { return V; }\n"
	srcIfdefV    = "int f(void) {\n#ifdef V\n  return 1;\n#else\n  return 2;\n#endif\n}\n"
	srcLoop      = "int sum(const int *p, int n) { int s = 0; for (int i = 0; i < n; i++) s += p[i] * 3; return s; }\n" +
		"int g; int get(void) { return g; }\n"
	srcAngleA = "#include <a.h>\nint f(void) { return A; }\n"
)

// TestCacheInvalidation covers items 1-10 and 12: each change must give a
// miss, and the object must then be the one the compiler writes for the
// changed input; the same compile once more is a hit.
func TestCacheInvalidation(t *testing.T) {
	t.Parallel()
	cases := []scenario{
		// 1
		{name: "01-source-content", files: map[string]string{"x.c": "int f(void) { return 1; }\n"}, args: []string{"-c", "x.c"},
			change: edit(map[string]string{"x.c": "int f(void) { return 2; }\n"})},
		// 2
		{name: "02-header", files: map[string]string{"x.c": srcIncludesA, "a.h": "#define A 1\n"}, args: []string{"-c", "x.c"},
			change: edit(map[string]string{"a.h": "#define A 2\n"})},
		{name: "02-header-through-header", files: map[string]string{"x.c": srcIncludesA, "a.h": "#include \"b.h\"\n", "b.h": "#define A 1\n"},
			args: []string{"-c", "x.c"}, change: edit(map[string]string{"b.h": "#define A 2\n"})},
		// 3
		{name: "03-new-header-earlier-I", files: map[string]string{"x.c": srcIncludesA, "inc1/other.h": "", "inc2/a.h": "#define A 2\n"},
			args: []string{"-Iinc1", "-Iinc2", "-c", "x.c"}, change: edit(map[string]string{"inc1/a.h": "#define A 1\n"})},
		{name: "03-new-header-next-to-source", files: map[string]string{"src/x.c": srcIncludesA, "inc/a.h": "#define A 2\n"},
			args: []string{"-Iinc", "-c", "src/x.c", "-o", "x.o"}, change: edit(map[string]string{"src/a.h": "#define A 1\n"})},
		{name: "03-new-header-isystem-order", files: map[string]string{"x.c": srcAngleA, "sys1/other.h": "", "sys2/a.h": "#define A 2\n"},
			args: []string{"-isystem", "sys1", "-isystem", "sys2", "-c", "x.c"}, change: edit(map[string]string{"sys1/a.h": "#define A 1\n"})},
		{name: "03-new-header-I-before-isystem", files: map[string]string{"x.c": srcAngleA, "inc/other.h": "", "sys/a.h": "#define A 2\n"},
			args: []string{"-isystem", "sys", "-Iinc", "-c", "x.c"}, change: edit(map[string]string{"inc/a.h": "#define A 1\n"})},
		{name: "03-new-header-next-to-including-header",
			files: map[string]string{"x.c": "#include \"sub/b.h\"\nint f(void) { return A; }\n", "inc/sub/b.h": "#include \"c.h\"\n", "inc/c.h": "#define A 1\n"},
			args:  []string{"-Iinc", "-c", "x.c"}, change: edit(map[string]string{"inc/sub/c.h": "#define A 2\n"})},
		{name: "03-new-header-shadows-system-header",
			files: map[string]string{"x.c": "#include <string.h>\n" + srcIfdefShadow, "inc/other.h": ""},
			args:  []string{"-Iinc", "-c", "x.c"}, change: edit(map[string]string{"inc/string.h": "#define SHADOW 1\n"})},
		{name: "03-new-header-earlier-in-CPATH", files: map[string]string{"x.c": srcIncludesA, "inc1/other.h": "", "inc2/a.h": "#define A 2\n"},
			args: []string{"-c", "x.c"}, env: []string{"CPATH={dir}/inc1:{dir}/inc2"}, change: edit(map[string]string{"inc1/a.h": "#define A 1\n"})},
		// 4
		{name: "04-D-value", files: map[string]string{"x.c": srcReturnsV}, args: []string{"-DV=1", "-c", "x.c"},
			change: setArgs("-DV=2", "-c", "x.c")},
		{name: "04-U-added", files: map[string]string{"x.c": srcIfdefV}, args: []string{"-DV", "-c", "x.c"},
			change: setArgs("-DV", "-UV", "-c", "x.c")},
		{name: "04-D-added", files: map[string]string{"x.c": srcIfdefV}, args: []string{"-c", "x.c"},
			change: setArgs("-DV", "-c", "x.c")},
		// 5
		{name: "05-optimisation", files: map[string]string{"x.c": srcLoop}, args: []string{"-O0", "-c", "x.c"},
			change: setArgs("-O2", "-c", "x.c")},
		{name: "05-Werror", files: map[string]string{"x.c": srcLoop}, args: []string{"-Wall", "-c", "x.c"},
			change: setArgs("-Wall", "-Werror", "-c", "x.c")},
		{name: "05-std", files: map[string]string{"x.c": srcLoop}, args: []string{"-std=c99", "-c", "x.c"},
			change: setArgs("-std=c11", "-c", "x.c")},
		{name: "05-f-option", files: map[string]string{"x.c": srcLoop}, args: []string{"-O2", "-fno-PIC", "-c", "x.c"},
			change: setArgs("-O2", "-fPIC", "-c", "x.c")},
		{name: "05-m-option", files: map[string]string{"x.c": srcLoop}, args: []string{"-O3", "-march=x86-64", "-c", "x.c"},
			change: setArgs("-O3", "-march=x86-64-v3", "-c", "x.c")},
		// 7
		{name: "07-language", files: map[string]string{"x.c": srcLoop}, args: []string{"-x", "c", "-c", "x.c"},
			change: setArgs("-x", "c++", "-c", "x.c")},
		{name: "07-target", only: "clang", files: map[string]string{"x.c": srcLoop}, args: []string{"--target=x86_64-linux-gnu", "-c", "x.c"},
			change: setArgs("--target=aarch64-linux-gnu", "-c", "x.c")},
		{name: "07-m32", files: map[string]string{"x.c": srcLoop}, args: []string{"-m64", "-c", "x.c"},
			change: setArgs("-m32", "-c", "x.c")},
		// 8
		{name: "08-g-working-directory", files: map[string]string{"x.c": srcLoop}, args: []string{"-g", "-c", "x.c"},
			change: moveTree()},
		// 9
		{name: "09-include-file", files: map[string]string{"x.c": "int f(void) { return A; }\n", "pre.h": "#define A 1\n"},
			args: []string{"-include", "pre.h", "-c", "x.c"}, change: edit(map[string]string{"pre.h": "#define A 2\n"})},
		{name: "09-isystem-header", files: map[string]string{"x.c": srcAngleA, "sys/a.h": "#define A 1\n"},
			args: []string{"-isystem", "sys", "-c", "x.c"}, change: edit(map[string]string{"sys/a.h": "#define A 2\n"})},
		{name: "09-iquote-header", files: map[string]string{"x.c": srcIncludesA, "q/a.h": "#define A 1\n"},
			args: []string{"-iquote", "q", "-c", "x.c"}, change: edit(map[string]string{"q/a.h": "#define A 2\n"})},
		{name: "09-idirafter-header", files: map[string]string{"x.c": srcAngleA, "late/a.h": "#define A 1\n"},
			args: []string{"-idirafter", "late", "-c", "x.c"}, change: edit(map[string]string{"late/a.h": "#define A 2\n"})},
		// 10
		{name: "10-debug-prefix-map", files: map[string]string{"x.c": srcLoop}, args: []string{"-g", "-fdebug-prefix-map={dir}=/a", "-c", "x.c"},
			change: setArgs("-g", "-fdebug-prefix-map={dir}=/b", "-c", "x.c")},
		{name: "10-file-prefix-map", files: map[string]string{"x.c": srcLoop}, args: []string{"-g", "-ffile-prefix-map={dir}=/a", "-c", "x.c"},
			change: setArgs("-g", "-ffile-prefix-map={dir}=/b", "-c", "x.c")},
		{name: "10-macro-prefix-map", files: map[string]string{"x.c": "const char *file(void) { return __FILE__; }\n"},
			args:   []string{"-fmacro-prefix-map={dir}=/a", "-c", "{dir}/x.c", "-o", "x.o"},
			change: setArgs("-fmacro-prefix-map={dir}=/b", "-c", "{dir}/x.c", "-o", "x.o")},
		// 12
		{name: "12-CPATH", files: map[string]string{"x.c": srcIncludesA, "inc1/a.h": "#define A 1\n", "inc2/a.h": "#define A 2\n"},
			args: []string{"-c", "x.c"}, env: []string{"CPATH=inc1"}, change: setEnv("CPATH=inc2")},
		{name: "12-C_INCLUDE_PATH", files: map[string]string{"x.c": srcAngleA, "inc1/a.h": "#define A 1\n", "inc2/a.h": "#define A 2\n"},
			args: []string{"-c", "x.c"}, env: []string{"C_INCLUDE_PATH=inc1"}, change: setEnv("C_INCLUDE_PATH=inc2")},
		{name: "12-CPLUS_INCLUDE_PATH", files: map[string]string{"x.cpp": srcAngleA, "inc1/a.h": "#define A 1\n", "inc2/a.h": "#define A 2\n"},
			cxx: true, args: []string{"-c", "x.cpp"}, env: []string{"CPLUS_INCLUDE_PATH=inc1"}, change: setEnv("CPLUS_INCLUDE_PATH=inc2")},
		{name: "12-SOURCE_DATE_EPOCH", files: map[string]string{"x.c": "const char *when(void) { return __DATE__ \" \" __TIME__; }\n"},
			args: []string{"-c", "x.c"}, env: []string{"SOURCE_DATE_EPOCH=0"}, change: setEnv("SOURCE_DATE_EPOCH=1000000000"), noDirect: true, pinnedTime: true},
		{name: "12-LANG", files: map[string]string{"x.c": srcLoop}, args: []string{"-c", "x.c"}, env: []string{"LANG=C"},
			change: setEnv("LANG=de_DE.UTF-8")},
		{name: "12-LC_ALL", files: map[string]string{"x.c": srcLoop}, args: []string{"-c", "x.c"}, env: []string{"LC_ALL=C"},
			change: setEnv("LC_ALL=fr_FR.UTF-8")},
	}
	eachScenario(t, cases, nil, func(t *testing.T, _ scenario, after statCounters) {
		assert.Equal(t, int64(2), after["misses"], "the change must give a miss: %v", after)
		assert.Equal(t, int64(1), after["hits"], "%v", after)
		assert.Zero(t, after["errors"], "%v", after)
	})
}

// srcIfdefShadow returns 2 when SHADOW is defined (by a header shadowing a
// system header), else 1.
const srcIfdefShadow = "int f(void) {\n#ifdef SHADOW\n  return 2;\n#else\n  return 1;\n#endif\n}\n"

// TestCacheNonInvalidation covers items 13-17: each change must still hit,
// with outputs (the dependency file included) as the compiler writes them.
func TestCacheNonInvalidation(t *testing.T) {
	t.Parallel()
	touch := func(names ...string) func(*testing.T, *compileSpec) {
		return func(t *testing.T, s *compileSpec) {
			earlier := time.Now().Add(-time.Hour)
			for _, n := range names {
				require.NoError(t, os.Chtimes(filepath.Join(s.dir, n), earlier, earlier))
			}
		}
	}
	deps := func(args ...string) []string { return append(args, "-c", "x.c", "-o", "out/x.o") }
	depFiles := map[string]string{"x.c": srcIncludesA, "a.h": "#define A 1\n", "out/keep": ""}
	same := map[string]string{"x.c": srcIncludesA, "a.h": "#define A 1\n"}
	commented := map[string]string{"x.c": srcIncludesA, "a.h": "#define A 1 // one\n"}
	// Scenarios run with direct mode on.
	directMode := []scenario{
		// 13
		{name: "13-touch-source", files: same, args: []string{"-c", "x.c"}, change: touch("x.c"), hitKind: "direct_hits"},
		{name: "13-touch-header", files: same, args: []string{"-c", "x.c"}, change: touch("a.h"), hitKind: "direct_hits"},
		// 14
		{name: "14-output-path", files: depFiles, args: deps("-MD"), outputs: []string{"out/x.o", "out/x.d"}, hitKind: "direct_hits",
			change: func(t *testing.T, s *compileSpec) {
				s.args, s.outputs = []string{"-MD", "-c", "x.c", "-o", "out/y.o"}, []string{"out/y.o", "out/y.d"}
			}},
		// 15
		{name: "15-MD-added", files: depFiles, args: deps(), outputs: []string{"out/x.o", "out/x.d"}, change: setArgs(deps("-MD")...)},
		{name: "15-MD-to-MMD", files: depFiles, args: deps("-MD"), outputs: []string{"out/x.o", "out/x.d"}, change: setArgs(deps("-MMD")...)},
		{name: "15-MF", files: depFiles, args: deps("-MD", "-MF", "out/one.d"), outputs: []string{"out/x.o", "out/one.d", "out/two.d"},
			change: setArgs(deps("-MD", "-MF", "out/two.d")...)},
		{name: "15-MT", files: depFiles, args: deps("-MD", "-MT", "first"), outputs: []string{"out/x.o", "out/x.d"},
			change: setArgs(deps("-MD", "-MT", "second", "-MT", "third")...)},
		{name: "15-MQ", files: depFiles, args: deps("-MD", "-MQ", "$(a)"), outputs: []string{"out/x.o", "out/x.d"},
			change: setArgs(deps("-MD", "-MQ", "b$c d")...)},
		{name: "15-MP", files: depFiles, args: deps("-MD"), outputs: []string{"out/x.o", "out/x.d"}, change: setArgs(deps("-MD", "-MP")...)},
		// 16
		{name: "16-copy-of-tree", files: map[string]string{"src/x.c": srcIncludesA, "src/a.h": "#define A 1\n"},
			args: []string{"-O2", "-c", "src/x.c", "-o", "x.o"}, change: moveTree(), hitKind: "direct_hits"},
		// 17: the direct lookup misses (the header changed), the preprocessed text does not.
		{name: "17-comment-words", files: commented, args: []string{"-c", "x.c"},
			change: edit(map[string]string{"a.h": "#define A 1 // other words\n"}), hitKind: "preprocessed_hits"},
	}
	// Scenarios run with direct mode off.
	preprocessorMode := []scenario{
		{name: "13-touch-source", files: same, args: []string{"-c", "x.c"}, change: touch("x.c"), hitKind: "preprocessed_hits"},
		{name: "13-touch-header", files: same, args: []string{"-c", "x.c"}, change: touch("a.h"), hitKind: "preprocessed_hits"},
		{name: "17-comment-words", files: commented, args: []string{"-c", "x.c"},
			change: edit(map[string]string{"a.h": "#define A 1 // other words\n"}), hitKind: "preprocessed_hits"},
	}
	// check: the change still hit, counted where it should be. beforeKind is
	// where the hit before the change went.
	check := func(beforeKind string) func(t *testing.T, tc scenario, after statCounters) {
		return func(t *testing.T, tc scenario, after statCounters) {
			assert.Equal(t, int64(1), after["misses"], "the change must still hit: %v", after)
			assert.Equal(t, int64(2), after["hits"], "%v", after)
			assert.Equal(t, int64(2), after["direct_hits"]+after["preprocessed_hits"], "%v", after)
			if tc.hitKind != "" {
				want := int64(1)
				if tc.hitKind == beforeKind {
					want = 2
				}
				assert.Equal(t, want, after[tc.hitKind], "the hit after the change must be counted in %s: %v", tc.hitKind, after)
			}
			assert.Zero(t, after["errors"], "%v", after)
		}
	}
	// In depend mode (the default) a direct-mode miss compiles without
	// preprocessing, so only the scenarios whose direct-mode key and headers
	// stay the same still hit; the others must be correct misses.
	dependMisses := []string{"15-MD-added", "15-MD-to-MMD", "15-MP", "17-comment-words"}
	var dependHits, dependMissing []scenario
	for _, tc := range directMode {
		if slices.Contains(dependMisses, tc.name) {
			dependMissing = append(dependMissing, tc)
		} else {
			dependHits = append(dependHits, tc)
		}
	}
	group(t, []subtest{
		{"direct-then-preprocessor-mode", func(t *testing.T) {
			eachScenario(t, directMode, []string{"DCC_DEPEND_MODE=false"}, check("direct_hits"))
		}},
		{"depend-mode", func(t *testing.T) { eachScenario(t, dependHits, nil, check("direct_hits")) }},
		{"depend-mode-misses", func(t *testing.T) {
			eachScenario(t, dependMissing, nil, func(t *testing.T, _ scenario, after statCounters) {
				assert.Equal(t, int64(2), after["misses"], "depend mode has no preprocessor-mode key: %v", after)
				assert.Equal(t, int64(1), after["hits"], "%v", after)
				assert.Zero(t, after["errors"], "%v", after)
			})
		}},
		{"preprocessor-mode", func(t *testing.T) {
			eachScenario(t, preprocessorMode, []string{"DCC_DIRECT_MODE=false"}, check("preprocessed_hits"))
		}},
	})
}

// TestTimeMacrosBypassDirectMode covers item 11: a source or header using
// __DATE__, __TIME__ or __TIMESTAMP__ is never served in direct mode, while
// preprocessor mode still serves it, and a change of the time the macros
// expand to is a miss.
func TestTimeMacrosBypassDirectMode(t *testing.T) {
	t.Parallel()
	pinned := []string{"SOURCE_DATE_EPOCH=1000000000"}
	cases := []struct {
		name  string
		files map[string]string
		// pinned: the macro's value comes from SOURCE_DATE_EPOCH.
		pinned bool
	}{
		{"__TIME__-in-source", map[string]string{"x.c": "const char *t(void) { return __TIME__; }\n"}, true},
		{"__DATE__-in-header", map[string]string{"x.c": "#include \"a.h\"\nconst char *d(void) { return D; }\n", "a.h": "#define D __DATE__\n"}, true},
		{"__TIMESTAMP__-in-header", map[string]string{"x.c": "#include \"a.h\"\nconst char *s(void) { return S; }\n", "a.h": "#define S __TIMESTAMP__\n"}, false},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				env := pinned
				if tc.pinned {
					// Whatever this compiler needs to take the macro's value
					// from SOURCE_DATE_EPOCH (clang 14: a preloaded shim).
					env = append(slices.Clone(pinned), sourceDateEpochEnv(t, c.cc)...)
				}
				writeFiles(t, e.work, tc.files)
				old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
				for name := range tc.files {
					require.NoError(t, os.Chtimes(filepath.Join(e.work, name), old, old))
				}
				waitRaceGuard()
				ref := e.compile(e.work, env, []string{c.cc, "-c", "x.c"}, "x.o")
				e.rerun(e.work, env, ref)
				e.rerun(e.work, env, ref)
				// A source using a macro goes to preprocessor mode at once; for
				// a header, the first compile (in depend mode) finds the macro
				// and records that the compile needs preprocessor mode.
				misses := int64(1)
				if strings.Contains(tc.name, "header") {
					misses = 2
				}
				e.wantStats(statCounters{"misses": misses, "preprocessed_hits": 3 - misses, "direct_hits": 0, "errors": 0})
				// A new modification time: __TIMESTAMP__ changes, the others do not.
				newer := old.Add(24 * time.Hour)
				for name := range tc.files {
					require.NoError(t, os.Chtimes(filepath.Join(e.work, name), newer, newer))
				}
				e.compile(e.work, env, []string{c.cc, "-c", "x.c"}, "x.o")
				after := e.wantStats(statCounters{"direct_hits": 0, "errors": 0})
				if strings.Contains(tc.name, "TIMESTAMP") {
					assert.Equal(t, misses+1, after["misses"], "__TIMESTAMP__ changed: %v", after)
				} else {
					assert.Equal(t, 4-misses, after["preprocessed_hits"], "%v", after)
				}
			})
		}})
	}
	tests = append(tests, subtest{"__TIME__-unpinned", func(t *testing.T) {
		eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
			writeFiles(t, e.work, map[string]string{"x.c": "const char *t(void) { return __TIME__; }\n"})
			waitRaceGuard()
			first := e.dcc(e.work, c.cc, "-c", "x.c")
			require.Equal(t, 0, first.exit, "%s", first.stderr)
			obj1 := readFile(t, filepath.Join(e.work, "x.o"))
			// The next second: __TIME__ expands to another text.
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
			second := e.dcc(e.work, c.cc, "-c", "x.c")
			require.Equal(t, 0, second.exit, "%s", second.stderr)
			assert.NotEqual(t, obj1, readFile(t, filepath.Join(e.work, "x.o")), "__TIME__ is another second now")
			e.wantStats(statCounters{"misses": 2, "hits": 0, "errors": 0})
		})
	}})
	group(t, tests)
}

// TestCompilerChangeInvalidates covers items 6 and 38: another compiler
// under the same name (on another PATH, at the same path after an upgrade,
// or a wrapper script that now runs something else) is a miss; an identical
// copy of the same compiler may share entries.
func TestCompilerChangeInvalidates(t *testing.T) {
	t.Parallel()
	gcc, clang := requireTool(t, "gcc"), requireTool(t, "clang")
	script := func(body string) string { return "#!/bin/sh\n" + body + "\n" }
	// replace puts a new program at dir/cc, atomically, as a package upgrade does.
	replace := func(t *testing.T, dir, program string) {
		tmp, p := filepath.Join(dir, "cc.new"), filepath.Join(dir, "cc")
		if target, ok := strings.CutPrefix(program, "->"); ok {
			require.NoError(t, os.Symlink(target, tmp))
		} else {
			require.NoError(t, writeExecutable(tmp, program))
		}
		require.NoError(t, os.Rename(tmp, p))
	}
	// phase is one compile of "cc -c x.c" with a directory holding cc first
	// in PATH.
	type phase struct {
		dir string
		// before runs first (an upgrade in place).
		before func(t *testing.T)
		// hit: the compile must be a hit, else a miss.
		hit bool
	}
	cases := []struct {
		name string
		// masquerade runs "cc" through a masquerade link instead of "dcc cc".
		masquerade bool
		// phases makes the compilers and returns the phases.
		phases func(t *testing.T) []phase
	}{
		{name: "gcc-and-clang-named-cc-on-two-PATHs", phases: func(t *testing.T) []phase {
			a, b := programDir(t, map[string]string{"cc": "->" + gcc}), programDir(t, map[string]string{"cc": "->" + clang})
			return []phase{{dir: a}, {dir: b}, {dir: a, hit: true}, {dir: b, hit: true}}
		}},
		{name: "gcc-and-clang-named-cc-masquerade", masquerade: true, phases: func(t *testing.T) []phase {
			a, b := programDir(t, map[string]string{"cc": "->" + gcc}), programDir(t, map[string]string{"cc": "->" + clang})
			return []phase{{dir: a}, {dir: b}, {dir: a, hit: true}}
		}},
		{name: "wrapper-script-copies-running-other-compilers", phases: func(t *testing.T) []phase {
			a := programDir(t, map[string]string{"cc": script(`exec gcc "$@"`)})
			b := programDir(t, map[string]string{"cc": script(`exec clang "$@"`)})
			return []phase{{dir: a}, {dir: b}}
		}},
		{name: "identical-copies-share-entries", phases: func(t *testing.T) []phase {
			a, b := programDir(t, map[string]string{"cc": "->" + gcc}), programDir(t, map[string]string{"cc": "->" + gcc})
			return []phase{{dir: a}, {dir: b, hit: true}}
		}},
		{name: "wrapper-script-upgraded-in-place", phases: func(t *testing.T) []phase {
			a := programDir(t, map[string]string{"cc": script(`exec gcc -DWRAP=1 "$@"`)})
			return []phase{{dir: a}, {dir: a, hit: true},
				{dir: a, before: func(t *testing.T) { replace(t, a, script(`exec gcc -DWRAP=2 "$@"`)) }}}
		}},
		{name: "same-path-after-upgrade", phases: func(t *testing.T) []phase {
			a := programDir(t, map[string]string{"cc": "->" + gcc})
			return []phase{{dir: a}, {dir: a, before: func(t *testing.T) { replace(t, a, "->"+clang) }}}
		}},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			e := newBehaviourEnv(t)
			writeFiles(t, e.work, map[string]string{"x.c": "#ifndef WRAP\n#define WRAP 7\n#endif\nint f(int x) { return x * WRAP + 1; }\n"})
			waitRaceGuard()
			misses, hits := int64(0), int64(0)
			for i, ph := range tc.phases(t) {
				if ph.before != nil {
					ph.before(t)
				}
				e.path = withPath(ph.dir)
				ref := e.reference(e.work, nil, []string{"cc", "-c", "x.c"}, "x.o")
				var got result
				if tc.masquerade {
					e.path = withPath(masqueradeDir(t, "cc"), ph.dir)
					got = e.run(e.work, nil, "cc", "-c", "x.c")
				} else {
					got = e.dcc(e.work, "cc", "-c", "x.c")
				}
				e.requireMatch(e.work, ref, got)
				if ph.hit {
					hits++
				} else {
					misses++
				}
				e.wantStats(statCounters{"misses": misses, "hits": hits, "errors": 0})
				if t.Failed() {
					t.Fatalf("phase %d failed", i)
				}
			}
		}})
	}
	leaves(t, tests)
}

// TestHitRestoresObjectAndDiagnostics covers items 19 and 20: a hit writes
// the object byte for byte and replays the warnings, in prefix and in
// masquerade mode, coloured diagnostics included.
func TestHitRestoresObjectAndDiagnostics(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{
			"src/w.c":   "#include \"w.h\"\nint f(int x) { int unused; return x * K; }\n#warning this is replayed\n",
			"src/w.h":   "#define K 3\n",
			"out/.keep": "",
		})
		waitRaceGuard()
		for i, args := range [][]string{
			{"-O2", "-Wall", "-c", "src/w.c", "-o", "out/w.o"},
			{"-O2", "-Wall", "-fdiagnostics-color=always", "-c", "src/w.c", "-o", "out/w.o"},
		} {
			ref := e.compile(e.work, nil, append([]string{c.cc}, args...), "out/w.o")
			require.Contains(t, string(ref.res.stderr), "this is replayed")
			e.rerun(e.work, nil, ref)
			// Masquerade mode.
			require.NoError(t, os.Remove(filepath.Join(e.work, "out/w.o")))
			saved := e.path
			e.path = withPath(masqueradeDir(t, c.cc))
			got := e.run(e.work, nil, append([]string{c.cc}, args...)...)
			e.requireMatch(e.work, ref, got)
			e.path = saved
			e.wantStats(statCounters{"misses": int64(i + 1), "hits": int64(2 * (i + 1)), "errors": 0})
		}
	})
}

// TestDependencyFileAfterHit covers item 21: after a hit the dependency file
// is the one the compiler writes, naming this compile's target and every
// header, whatever the dependency options.
func TestDependencyFileAfterHit(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"src/x.c":   "#include \"a.h\"\n#include <stdio.h>\nint f(void) { return A + B; }\n",
		"src/a.h":   "#include \"inc/b.h\"\n#define A 1\n",
		"inc/b.h":   "#define B 2\n",
		"out/.keep": "",
	}
	cases := []struct {
		name    string
		args    []string
		outputs []string
	}{
		{"MD", []string{"-MD"}, []string{"out/x.o", "out/x.d"}},
		{"MMD", []string{"-MMD"}, []string{"out/x.o", "out/x.d"}},
		{"MD-MF", []string{"-MD", "-MF", "out/deps.txt"}, []string{"out/x.o", "out/deps.txt"}},
		{"MD-MT", []string{"-MD", "-MT", "my-target"}, []string{"out/x.o", "out/x.d"}},
		{"MD-MQ", []string{"-MD", "-MQ", "$(OBJ) x"}, []string{"out/x.o", "out/x.d"}},
		{"MMD-MP", []string{"-MMD", "-MP"}, []string{"out/x.o", "out/x.d"}},
		{"Wp-MD", []string{"-Wp,-MD,out/wp.d"}, []string{"out/x.o", "out/wp.d"}},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				writeFiles(t, e.work, files)
				waitRaceGuard()
				argv := append(append([]string{c.cc, "-I."}, tc.args...), "-c", "src/x.c", "-o", "out/x.o")
				ref := e.compile(e.work, nil, argv, tc.outputs...)
				e.rerun(e.work, nil, ref)
				e.rerun(e.work, nil, ref)
				e.wantStats(statCounters{"misses": 1, "hits": 2, "errors": 0})
			})
		}})
	}
	group(t, tests)
}

// TestSplitDwarf covers item 22: with -gsplit-dwarf the .dwo is restored
// and the object names it, under another object name too.
func TestSplitDwarf(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": srcLoop, "out/.keep": ""})
		waitRaceGuard()
		args := func(obj string) []string {
			return []string{c.cc, "-g", "-gsplit-dwarf", "-O1", "-c", "x.c", "-o", "out/" + obj + ".o"}
		}
		ref := e.compile(e.work, nil, args("a"), "out/a.o", "out/a.dwo")
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"misses": 1, "hits": 1, "errors": 0})
		e.compile(e.work, nil, args("b"), "out/b.o", "out/b.dwo")
		moved := filepath.Join(t.TempDir(), "moved")
		copyTreeFS(t, e.work, moved)
		e.compile(moved, nil, args("a"), "out/a.o", "out/a.dwo")
		e.wantStats(statCounters{"errors": 0})
	})
}

// TestCoverageNotes covers item 23: with --coverage the .gcno is restored,
// and the object's .gcda path and the notes' directory are this compile's,
// under another object name and in another directory.
func TestCoverageNotes(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": srcLoop, "out/.keep": ""})
		waitRaceGuard()
		args := func(obj string) []string {
			argv := []string{c.cc, "--coverage", "-c", "x.c", "-o", "out/" + obj + ".o"}
			if c.name == "gcc" {
				// gcc stamps the notes with the time unless given a seed.
				argv = append(argv, "-frandom-seed=dcc")
			}
			return argv
		}
		ref := e.compile(e.work, nil, args("a"), "out/a.o", "out/a.gcno")
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"misses": 1, "hits": 1, "errors": 0})
		e.compile(e.work, nil, args("b"), "out/b.o", "out/b.gcno")
		moved := filepath.Join(t.TempDir(), "moved")
		copyTreeFS(t, e.work, moved)
		e.compile(moved, nil, args("a"), "out/a.o", "out/a.gcno")
		e.wantStats(statCounters{"errors": 0})
	})
}

// TestStackUsage covers item 24: with -fstack-usage the .su file is
// restored, named after this compile's object.
func TestStackUsage(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"src/x.c": srcLoop, "out/.keep": ""})
		waitRaceGuard()
		args := func(obj string) []string {
			return []string{c.cc, "-fstack-usage", "-O1", "-c", "src/x.c", "-o", "out/" + obj + ".o"}
		}
		ref := e.compile(e.work, nil, args("a"), "out/a.o", "out/a.su")
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"misses": 1, "hits": 1, "errors": 0})
		e.compile(e.work, nil, args("b"), "out/b.o", "out/b.su")
		e.wantStats(statCounters{"errors": 0})
	})
}

// TestMissingOutputDirectory covers item 25: a hit whose output directory
// does not exist fails as the compiler fails, and creates nothing.
func TestMissingOutputDirectory(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": srcLoop, "out/.keep": ""})
		waitRaceGuard()
		for _, deps := range [][]string{nil, {"-MD"}} {
			ok := append(append([]string{c.cc}, deps...), "-c", "x.c", "-o", "out/x.o")
			e.compile(e.work, nil, ok, "out/x.o")
			missing := append(append([]string{c.cc}, deps...), "-c", "x.c", "-o", "missing/x.o")
			ref := e.referenceAnyExit(e.work, nil, missing, "missing/x.o")
			require.NotEqual(t, 0, ref.res.exit, "the compiler fails without the directory")
			got := e.dcc(e.work, missing...)
			e.requireMatch(e.work, ref, got)
			assert.NoDirExists(t, filepath.Join(e.work, "missing"))
		}
		e.wantStats(statCounters{"uncacheable": 2, "errors": 0})
	})
}

// TestAtomicRestore covers item 26: while hits rewrite an object, a reader
// never sees a partly written one, and no temporary file is left behind.
func TestAtomicRestore(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": dataArraySource("blob", pseudoRandom(26, 192<<10)), "out/.keep": ""})
		waitRaceGuard()
		ref := e.compile(e.work, nil, []string{c.cc, "-c", "x.c", "-o", "out/x.o"}, "out/x.o")
		want := ref.files["out/x.o"]
		stop := make(chan struct{})
		done := make(chan error, 1)
		reads := 0
		go func() {
			path := filepath.Join(e.work, "out/x.o")
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				b, err := os.ReadFile(path)
				if err != nil {
					done <- err
					return
				}
				reads++
				if !bytes.Equal(b, want) {
					done <- fmt.Errorf("read %d bytes, not the %d-byte object", len(b), len(want))
					return
				}
			}
		}()
		for range 15 {
			got := e.dcc(e.work, ref.argv...)
			require.Equal(t, 0, got.exit, "%s", got.stderr)
		}
		close(stop)
		require.NoError(t, <-done)
		assert.Positive(t, reads)
		assert.Empty(t, leftoverTemps(t, e.work))
		e.wantStats(statCounters{"misses": 1, "hits": 15, "errors": 0})
	})
}

// TestNeverCached covers items 27, 30 (-save-temps), 31 and 32: commands dcc
// does not cache run unchanged, with the compiler's own outputs, stdout,
// stderr and exit code, every time, and nothing is stored.
func TestNeverCached(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"x.c": "#include \"a.h\"\nint f(void) { return A; }\nint main(void) { return f() - 1; }\n",
		"y.c": "int g(void) { return 2; }\n",
		"a.h": "#define A 1\n",
		"a.s": ".text\n.globl h\nh:\n\tret\n",
	}
	cases := []struct {
		name    string
		only    string
		args    []string
		outputs []string
		stdin   string
	}{
		{name: "27-link", args: []string{"x.c", "-o", "prog"}, outputs: []string{"prog"}},
		{name: "27-E", args: []string{"-E", "x.c"}},
		{name: "27-M", args: []string{"-M", "x.c"}},
		{name: "27-MM", args: []string{"-MM", "-MF", "x.dep", "x.c"}, outputs: []string{"x.dep"}},
		{name: "27-two-sources", args: []string{"-c", "x.c", "y.c"}, outputs: []string{"x.o", "y.o"}},
		{name: "27-stdin", args: []string{"-x", "c", "-c", "-", "-o", "stdin.o"}, outputs: []string{"stdin.o"}, stdin: files["y.c"]},
		{name: "27-stdout", args: []string{"-c", "x.c", "-o", "-"}},
		{name: "27-S", args: []string{"-S", "x.c"}, outputs: []string{"x.s"}},
		{name: "30-save-temps", args: []string{"-save-temps", "-c", "x.c"}, outputs: []string{"x.o", "x.i", "x.s"}},
		{name: "31-unknown-option-gcc-rejects", only: "gcc", args: []string{"-fno-such-option-at-all", "-c", "x.c"}, outputs: []string{"x.o"}},
		{name: "31-unknown-option-clang-rejects", only: "clang", args: []string{"-fno-such-option-at-all", "-c", "x.c"}, outputs: []string{"x.o"}},
		{name: "31-option-dcc-does-not-know", only: "clang", args: []string{"-fsave-optimization-record", "-O2", "-c", "x.c"},
			outputs: []string{"x.o", "x.opt.yaml"}},
		{name: "32-assembler", args: []string{"-c", "a.s"}, outputs: []string{"a.o"}},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				if tc.only != "" && tc.only != c.name {
					t.Skipf("applies to %s", tc.only)
				}
				writeFiles(t, e.work, files)
				waitRaceGuard()
				var stdin []byte
				if tc.stdin != "" {
					stdin = []byte(tc.stdin)
				}
				ref := e.referenceStdin(e.work, nil, stdin, append([]string{c.cc}, tc.args...), tc.outputs...)
				e.rerun(e.work, nil, ref)
				e.rerun(e.work, nil, ref)
				e.wantStats(statCounters{"local": 2, "hits": 0, "misses": 0, "entries": 0, "errors": 0})
			})
		}})
	}
	group(t, tests)
}

// TestFailedCompileNotCached covers item 28: a failing compile is not
// stored; the next run compiles again and fails the same way.
func TestFailedCompileNotCached(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		args []string
	}{
		{"compile-error", "int f(void) { return undeclared; }\n", nil},
		{"missing-header", "#include \"nowhere.h\"\nint f(void) { return 1; }\n", nil},
		{"warning-as-error", "int f(void) { int unused; return 1; }\n", []string{"-Wall", "-Werror"}},
		{"error-directive", "#error stop here\n", nil},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				writeFiles(t, e.work, map[string]string{"x.c": tc.src})
				waitRaceGuard()
				argv := append(append([]string{c.cc}, tc.args...), "-c", "x.c", "-o", "x.o")
				ref := e.referenceAnyExit(e.work, nil, argv, "x.o")
				require.NotEqual(t, 0, ref.res.exit)
				e.rerun(e.work, nil, ref)
				e.rerun(e.work, nil, ref)
				e.wantStats(statCounters{"uncacheable": 2, "hits": 0, "misses": 0, "entries": 0, "errors": 0})
			})
		}})
	}
	group(t, tests)
}

// TestPrecompiledHeaders covers item 29: a compile that uses a precompiled
// header gets the object the compiler makes from it, also after the
// precompiled header changed while the header's text did not.
func TestPrecompiledHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		only string
		// pch builds the precompiled header from header h (run plainly).
		pch  func(cc, h string) []string
		args []string
		// before: compile (and hit in direct mode) before the precompiled
		// header exists, so that it appears next to a cached header.
		before bool
	}{
		{name: "gch-next-to-header", only: "gcc", pch: func(cc, h string) []string { return []string{cc, "-x", "c-header", h, "-o", "a.h.gch"} },
			args: []string{"-c", "x.c"}, before: true},
		{name: "gch-for-include-option", only: "gcc", pch: func(cc, h string) []string { return []string{cc, "-x", "c-header", h, "-o", "a.h.gch"} },
			args: []string{"-include", "a.h", "-c", "y.c"}, before: true},
		{name: "pch-for-include-option", only: "clang", pch: func(cc, h string) []string { return []string{cc, "-x", "c-header", h, "-o", "a.h.pch"} },
			args: []string{"-include", "a.h", "-c", "y.c"}, before: true},
		{name: "include-pch", only: "clang", pch: func(cc, h string) []string { return []string{cc, "-x", "c-header", h, "-o", "a.pch"} },
			args: []string{"-include-pch", "a.pch", "-c", "y.c"}},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				if tc.only != c.name {
					t.Skipf("applies to %s", tc.only)
				}
				writeFiles(t, e.work, map[string]string{
					"a.h":     "#define V 1\n",
					"x.c":     "#include \"a.h\"\nint f(void) { return V; }\n",
					"y.c":     "int f(void) { return V; }\n",
					"gen/a.h": "#define V 2\n",
				})
				waitRaceGuard()
				hits := int64(0)
				if tc.before {
					ref := e.compile(e.work, nil, append([]string{c.cc}, tc.args...), "x.o", "y.o")
					e.rerun(e.work, nil, ref)
					e.wantStats(statCounters{"misses": 1, "direct_hits": 1})
					hits = 1
				}
				build := e.run(e.work, nil, tc.pch(c.cc, "a.h")...)
				require.Equal(t, 0, build.exit, "%s", build.stderr)
				e.compile(e.work, nil, append([]string{c.cc}, tc.args...), "x.o", "y.o")
				// The precompiled header now says V 2; a.h still says V 1.
				if c.name == "clang" {
					// clang checks that the header it was made from is unchanged.
					writeFiles(t, e.work, map[string]string{"a.h": "#define V 2\n"})
				}
				build = e.run(e.work, nil, tc.pch(c.cc, "gen/a.h")...)
				require.Equal(t, 0, build.exit, "%s", build.stderr)
				e.compile(e.work, nil, append([]string{c.cc}, tc.args...), "x.o", "y.o")
				e.wantStats(statCounters{"hits": hits, "errors": 0})
			})
		}})
	}
	group(t, tests)
}

// TestRecordedCommandAndProfilePaths covers item 30: compiles whose objects
// record the command line, the object's path or the working directory
// (-frecord-gcc-switches, clang's -frecord-command-line, -fprofile-generate)
// get the object the compiler makes for this command, in this directory.
func TestRecordedCommandAndProfilePaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		only string
		args []string
	}{
		{name: "frecord-gcc-switches", args: []string{"-frecord-gcc-switches"}},
		{name: "frecord-command-line", only: "clang", args: []string{"-frecord-command-line"}},
		{name: "grecord-command-line", only: "clang", args: []string{"-g", "-grecord-command-line"}},
		{name: "fprofile-generate", args: []string{"-fprofile-generate"}},
		{name: "fprofile-arcs", args: []string{"-fprofile-arcs"}},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				if tc.only != "" && tc.only != c.name {
					t.Skipf("applies to %s", tc.only)
				}
				writeFiles(t, e.work, map[string]string{"x.c": srcLoop, "out/.keep": ""})
				waitRaceGuard()
				argv := func(def, obj string) []string {
					a := append([]string{c.cc}, tc.args...)
					if c.name == "gcc" {
						a = append(a, "-frandom-seed=dcc")
					}
					return append(a, "-DUNUSED="+def, "-O1", "-c", "x.c", "-o", "out/"+obj+".o")
				}
				ref := e.compile(e.work, nil, argv("1", "a"), "out/a.o")
				e.rerun(e.work, nil, ref)
				e.compile(e.work, nil, argv("2", "a"), "out/a.o")
				e.compile(e.work, nil, argv("1", "b"), "out/b.o")
				moved := filepath.Join(t.TempDir(), "moved")
				copyTreeFS(t, e.work, moved)
				e.compile(moved, nil, argv("1", "a"), "out/a.o")
				e.wantStats(statCounters{"errors": 0})
			})
		}})
	}
	group(t, tests)
}

// entryValueAt locates, in a Badger value-log file, the stored value of the
// first cache entry (key "e1/" + 32 bytes, then Badger's 8-byte version) and
// returns the offset of byte n of it: 0 is the format version (1), 1 the kind
// ('e'), 2 the codec, 3 the first byte of the length.
func entryValueAt(b []byte, n int) int {
	for from := 0; ; {
		i := bytes.Index(b[from:], []byte("e1/"))
		if i < 0 {
			return -1
		}
		v := from + i + 3 + 32 + 8
		if v+4 <= len(b) && b[v] == 1 && b[v+1] == 'e' {
			return v + n
		}
		from += i + 1
	}
}

// TestDamagedEntryIsAMiss covers item 33: a damaged cache entry (flipped
// bytes in its payload, a broken header, a wrong length) is detected,
// counted, removed and compiled again; never a wrong object.
func TestDamagedEntryIsAMiss(t *testing.T) {
	t.Parallel()
	data := pseudoRandom(33, 24<<10)
	chunk := data[12<<10 : 12<<10+64]
	cases := []struct {
		name   string
		locate func(b []byte) int
		change func(byte) byte
	}{
		{"payload-byte-flipped", func(b []byte) int {
			if i := bytes.Index(b, chunk); i >= 0 {
				return i + 32
			}
			return -1
		}, func(c byte) byte { return c ^ 0xff }},
		{"unknown-codec", func(b []byte) int { return entryValueAt(b, 2) }, func(byte) byte { return 0x7f }},
		{"wrong-length", func(b []byte) int { return entryValueAt(b, 3) }, func(c byte) byte { return c ^ 0x01 }},
		{"wrong-kind", func(b []byte) int { return entryValueAt(b, 1) }, func(byte) byte { return 'm' }},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				writeFiles(t, e.work, map[string]string{"x.c": dataArraySource("blob", data), "x.h": "#define X 1\n"})
				waitRaceGuard()
				ref := e.compile(e.work, nil, []string{c.cc, "-include", "x.h", "-c", "x.c"}, "x.o")
				e.stopDaemon()
				require.Equal(t, 1, damageValueLog(t, e.dir, tc.locate, tc.change), "the entry's value is in one value-log file")
				e.rerun(e.work, nil, ref)
				e.wantStats(statCounters{"corrupt": 1, "misses": 2, "hits": 0, "errors": 0})
				e.rerun(e.work, nil, ref)
				e.wantStats(statCounters{"corrupt": 1, "misses": 2, "hits": 1, "errors": 0})
			})
		}})
	}
	group(t, tests)
}

// TestUnusableCacheStillCompiles covers item 34: with a cache directory that
// cannot be used (not a directory, a read-only file system, a full disk),
// compiles run and succeed with the compiler's own results, and each counts
// as an error.
func TestUnusableCacheStillCompiles(t *testing.T) {
	t.Parallel()
	gcc := requireTool(t, "gcc")
	cases := []struct {
		name string
		// setup makes $DCC_DIR/cache unusable before the daemon starts, or
		// (after) once it runs.
		setup, after func(t *testing.T, e *behaviourEnv)
		// stored: compiles before after() are stored.
		stored bool
		// anyHits: after() may leave some of them stored or not.
		anyHits bool
	}{
		{name: "not-a-directory", setup: func(t *testing.T, e *behaviourEnv) {
			writeFiles(t, e.dir, map[string]string{"cache": "not a directory\n"})
		}},
		// The tmpfs cases mount their file system where only the daemon
		// sees it, without root (tmpfsDaemon); the test fills it through the
		// daemon's view.
		{name: "read-only-file-system", setup: func(t *testing.T, e *behaviourEnv) {
			// As large as the writable cases' (an empty tmpfs takes no
			// memory): only its being read-only makes it unusable.
			tmpfsDaemon(t, e, 256<<20, true)
		}},
		{name: "read-only-directory", setup: func(t *testing.T, e *behaviourEnv) {
			cache := filepath.Join(e.dir, "cache")
			require.NoError(t, os.Mkdir(cache, 0o500))
			require.NoError(t, os.Chmod(cache, 0o500))
			t.Cleanup(func() { _ = os.Chmod(cache, 0o700) })
			// Root writes into a directory whatever its mode: run as root
			// (CI), the daemon starts with its capabilities dropped, which
			// leaves it what an ordinary user's daemon is to its own
			// read-only directory, so the case runs either way.
			pid := e.startDaemon(unprivileged(t)...)
			require.Equal(t, "0000000000000000", capabilities(t, pid), "the daemon runs without privileges")
		}},
		{name: "disk-fills-up", stored: true, setup: func(t *testing.T, e *behaviourEnv) {
			tmpfsDaemon(t, e, 256<<20, false)
		}, after: func(t *testing.T, e *behaviourEnv) {
			// Leave less free space than dcc keeps for Badger's writes.
			f, err := os.Create(e.inDaemonMounts(filepath.Join(e.dir, "cache", "filler")))
			require.NoError(t, err)
			defer f.Close()
			chunk := make([]byte, 1<<20)
			for {
				if _, err := f.Write(chunk); err != nil {
					break
				}
			}
		}},
		// Badger clears by writing through memory maps (DropPrefix flushes the
		// memtable into a new table), which on a full disk died of SIGBUS and
		// left a daemon that could not start again: dcc clear now refuses
		// without room, with an error that says so.
		{name: "clear-on-a-full-disk", anyHits: true,
			setup: func(t *testing.T, e *behaviourEnv) {
				tmpfsDaemon(t, e, 256<<20, false)
			}, after: func(t *testing.T, e *behaviourEnv) {
				f, err := os.Create(e.inDaemonMounts(filepath.Join(e.dir, "cache", "filler")))
				require.NoError(t, err)
				defer f.Close()
				chunk := make([]byte, 1<<20)
				for {
					if _, err := f.Write(chunk); err != nil {
						break
					}
				}
				// Clearing fails on a full disk, saying why, and the daemon stays.
				r := e.dcc(e.work, "clear")
				assert.NotEqual(t, 0, r.exit)
				assert.Contains(t, string(r.stderr), "nearly full")
			}},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			e := newBehaviourEnv(t)
			tc.setup(t, e)
			writeFiles(t, e.work, map[string]string{"x.c": srcLoop, "y.c": dataArraySource("blob", pseudoRandom(34, 64<<10))})
			waitRaceGuard()
			want := statCounters{"errors": 0, "misses": 0, "hits": 0}
			if tc.after != nil {
				e.compile(e.work, nil, []string{gcc, "-c", "x.c"}, "x.o")
				want["misses"]++
				tc.after(t, e)
			}
			pid := e.daemonPID()
			for _, src := range []string{"x.c", "y.c", "x.c", "y.c"} {
				obj := strings.TrimSuffix(src, ".c") + ".o"
				e.compile(e.work, nil, []string{gcc, "-c", src}, obj)
				if tc.stored && src == "x.c" {
					want["hits"]++
				} else {
					want["errors"]++
				}
			}
			if tc.anyHits {
				got := e.stats()
				assert.Equal(t, want["misses"], got["misses"], "%v", got)
				assert.Equal(t, int64(4), got["hits"]+got["errors"], "%v", got)
			} else {
				e.wantStats(want)
			}
			if pid != 0 {
				assert.Equal(t, pid, e.daemonPID(), "the daemon kept running")
			}
		}})
	}
	leaves(t, tests)
}

// TestConcurrentCompilesOfOneFile covers item 35: many compiles of the same
// file at once (make -j with duplicated rules), to one object and to
// several, all succeed with the right object, and the cache holds one entry.
func TestConcurrentCompilesOfOneFile(t *testing.T) {
	t.Parallel()
	const n = 12
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": dataArraySource("blob", pseudoRandom(35, 32<<10)), "out/.keep": ""})
		waitRaceGuard()
		ref := e.reference(e.work, nil, []string{c.cc, "-O2", "-c", "x.c", "-o", "out/x.o"}, "out/x.o")
		want := ref.files["out/x.o"]
		for wave, objects := range [][]string{slices.Repeat([]string{"out/x.o"}, n), distinctObjects(n)} {
			errs := make(chan error, n)
			for _, obj := range objects {
				go func() {
					out, err := e.command(e.work, dccBin, c.cc, "-O2", "-c", "x.c", "-o", obj).CombinedOutput()
					if err == nil && len(out) > 0 {
						err = fmt.Errorf("unexpected output: %s", out)
					}
					errs <- err
				}()
			}
			for range objects {
				assert.NoError(t, <-errs, "wave %d", wave)
			}
			for _, obj := range objects {
				assertSameBytes(t, want, readFile(t, filepath.Join(e.work, obj)), "%s after wave %d", obj, wave)
			}
		}
		assert.Empty(t, leftoverTemps(t, e.work))
		got := e.wantStats(statCounters{"errors": 0, "entries": 1, "uncacheable": 0, "local": 0})
		assert.Equal(t, int64(2*n), got["hits"]+got["misses"], "%v", got)
	})
}

// distinctObjects names n object files.
func distinctObjects(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("out/o%d.o", i)
	}
	return out
}

// TestSizeLimitEvictsOldest covers item 36: past the size limit (set in the
// environment, or with dcc config set), the least recently used entries go,
// the cache's size ends under the limit, and the newest entries still hit.
func TestSizeLimitEvictsOldest(t *testing.T) {
	t.Parallel()
	gcc := requireTool(t, "gcc")
	const limit = 64 << 10
	cases := []struct {
		name  string
		env   []string
		setup func(t *testing.T, e *behaviourEnv)
	}{
		{name: "DCC_MAX_SIZE", env: []string{"DCC_MAX_SIZE=64KiB"}},
		{name: "config-set", setup: func(t *testing.T, e *behaviourEnv) {
			r := e.dcc(e.work, "config", "set", "max_size", "64KiB")
			require.Equal(t, 0, r.exit, "%s", r.stderr)
			r = e.dcc(e.work, "config", "get", "max_size")
			require.Equal(t, 0, r.exit, "%s", r.stderr)
			assert.Contains(t, string(r.stdout), "64")
		}},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			e := newBehaviourEnv(t, tc.env...)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			const sources = 10
			files := map[string]string{}
			for i := range sources {
				files[fmt.Sprintf("s%d.c", i)] = dataArraySource("blob", pseudoRandom(uint64(360+i), 16<<10))
			}
			writeFiles(t, e.work, files)
			waitRaceGuard()
			refs := make([]plainRun, sources)
			for i := range sources {
				refs[i] = e.compile(e.work, nil, []string{gcc, "-c", fmt.Sprintf("s%d.c", i)}, fmt.Sprintf("s%d.o", i))
			}
			var st statCounters
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				st = e.stats()
				if st["cache_size"] <= limit || time.Now().After(deadline) {
					break
				}
			}
			assert.Equal(t, int64(limit), st["max_size"], "%v", st)
			assert.LessOrEqual(t, st["cache_size"], int64(limit), "%v", st)
			assert.Positive(t, st["evictions"], "%v", st)
			assert.Less(t, st["entries"], int64(sources), "%v", st)
			assert.Equal(t, int64(sources), st["misses"], "%v", st)
			// The newest entry is kept, the oldest is gone.
			e.rerun(e.work, nil, refs[sources-1])
			e.wantStats(statCounters{"hits": 1, "misses": sources})
			e.rerun(e.work, nil, refs[0])
			e.wantStats(statCounters{"hits": 1, "misses": sources + 1, "errors": 0})
		}})
	}
	leaves(t, tests)
}

// TestClearDuringBuild covers item 37: "dcc clear", run again and again
// while a build runs, breaks no compile, and the cache works afterwards.
func TestClearDuringBuild(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		const sources = 6
		files := map[string]string{}
		for i := range sources {
			files[fmt.Sprintf("s%d.c", i)] = fmt.Sprintf("#include \"h.h\"\nint f%d(int x) { return x * H + %d; }\n", i, i)
		}
		files["h.h"] = "#define H 5\n"
		writeFiles(t, e.work, files)
		waitRaceGuard()
		refs := make([]plainRun, sources)
		for i := range sources {
			refs[i] = e.reference(e.work, nil, []string{c.cc, "-O1", "-c", fmt.Sprintf("s%d.c", i)}, fmt.Sprintf("s%d.o", i))
		}
		stop := make(chan struct{})
		clears := make(chan error, 1)
		go func() {
			n := 0
			for {
				select {
				case <-stop:
					if n == 0 {
						clears <- errors.New("no clear ran during the build")
					}
					clears <- nil
					return
				default:
				}
				if out, err := e.command(e.work, dccBin, "clear").CombinedOutput(); err != nil {
					clears <- fmt.Errorf("dcc clear: %v: %s", err, out)
					return
				}
				n++
				time.Sleep(10 * time.Millisecond)
			}
		}()
		for round := range 3 {
			for i := range sources {
				got := e.run(e.work, nil, append([]string{dccBin}, refs[i].argv...)...)
				e.requireMatch(e.work, refs[i], got)
				if t.Failed() {
					t.Fatalf("round %d, source %d", round, i)
				}
			}
		}
		close(stop)
		require.NoError(t, <-clears)
		// Without clears, the second build is all hits.
		for range 2 {
			for i := range sources {
				e.rerun(e.work, nil, refs[i])
			}
		}
		got := e.wantStats(statCounters{"errors": 0})
		assert.GreaterOrEqual(t, got["hits"], int64(sources), "%v", got)
		assert.Equal(t, int64(5*sources), got["hits"]+got["misses"], "%v", got)
	})
}

// TestStdoutReplayed covers item 39: a compile whose compiler prints to
// stdout on success (clang-cl's /showIncludes, behind a link named cl.exe)
// has its output replayed on a hit, in prefix and masquerade mode.
func TestStdoutReplayed(t *testing.T) {
	t.Parallel()
	clangCL := requireTool(t, "clang-cl-14")
	e := newBehaviourEnv(t)
	real := programDir(t, map[string]string{"cl.exe": "->" + clangCL})
	writeFiles(t, e.work, map[string]string{"inc/d.h": "#define L 3\n", "src/m.c": "#include \"d.h\"\nint f(void) { return L; }\n", "out/.keep": ""})
	waitRaceGuard()
	e.path = withPath(real)
	argv := []string{"cl.exe", "/nologo", "/c", "/Brepro", "/showIncludes", "/Iinc", "src/m.c", "/Foout/m.obj"}
	ref := e.compile(e.work, nil, argv, "out/m.obj")
	require.Contains(t, string(ref.res.stdout), "Note: including file:")
	e.rerun(e.work, nil, ref)
	e.path = withPath(masqueradeDir(t, "cl.exe"), real)
	require.NoError(t, os.Remove(filepath.Join(e.work, "out/m.obj")))
	e.requireMatch(e.work, ref, e.run(e.work, nil, argv...))
	e.wantStats(statCounters{"misses": 1, "hits": 2, "errors": 0})
}

// TestResponseFiles covers item 40: arguments in response files (nested
// too) and very long argument lists behave as the same arguments inline:
// same objects, same cache entries, and a change inside a response file is
// a miss.
func TestResponseFiles(t *testing.T) {
	t.Parallel()
	var long []string
	for i := range 3000 {
		long = append(long, fmt.Sprintf("-DUNUSED_MACRO_NUMBER_%d=%d", i, i))
	}
	long = append(long, "-Iinc", "-DV=5")
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{
			"x.c":       srcIncludesA + "int v(void) { return V; }\n",
			"inc/a.h":   "#define A 1\n",
			"args.rsp":  "-O2 -DV=3 -Iinc\n-c x.c -o out/x.o\n",
			"outer.rsp": "-O2 @inner.rsp -o out/x.o\n",
			"inner.rsp": "-DV=3 -Iinc -c x.c\n",
			"long.rsp":  strings.Join(long, "\n") + "\n-c x.c -o out/x.o\n",
			"out/.keep": "",
		})
		waitRaceGuard()
		inline := []string{c.cc, "-O2", "-DV=3", "-Iinc", "-c", "x.c", "-o", "out/x.o"}
		e.compile(e.work, nil, []string{c.cc, "@args.rsp"}, "out/x.o")
		e.compile(e.work, nil, inline, "out/x.o")
		e.compile(e.work, nil, []string{c.cc, "@outer.rsp"}, "out/x.o")
		e.wantStats(statCounters{"misses": 1, "direct_hits": 2, "errors": 0})
		writeFiles(t, e.work, map[string]string{"inner.rsp": "-DV=4 -Iinc -c x.c\n"})
		e.compile(e.work, nil, []string{c.cc, "@outer.rsp"}, "out/x.o")
		e.wantStats(statCounters{"misses": 2, "hits": 2, "errors": 0})
		e.compile(e.work, nil, append(append([]string{c.cc}, long...), "-c", "x.c", "-o", "out/x.o"), "out/x.o")
		e.compile(e.work, nil, []string{c.cc, "@long.rsp"}, "out/x.o")
		e.wantStats(statCounters{"misses": 3, "hits": 3, "errors": 0})
	})
}

// TestDebugInfoPaths covers items 41, 43 and 44: with -g the object records
// the real working directory on a miss and on a hit, in every checkout;
// with a prefix map covering it, objects are the compiler's whether served
// from the cache or compiled; __FILE__ of sources under different paths
// never collides.
func TestDebugInfoPaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		args []string
		// recordsDir: the object holds the working directory's path.
		recordsDir bool
		// hitsInCopy: the copy of the tree may share the entry.
		hitsInCopy bool
	}{
		{name: "41-g-records-working-directory", src: srcLoop, args: []string{"-g", "-O1", "-c", "src/x.c", "-o", "out/x.o"}, recordsDir: true},
		{name: "43-debug-prefix-map", src: srcLoop, args: []string{"-g", "-fdebug-prefix-map={dir}=.", "-c", "src/x.c", "-o", "out/x.o"}},
		{name: "43-file-prefix-map", src: srcLoop, args: []string{"-g", "-ffile-prefix-map={dir}=/src", "-c", "src/x.c", "-o", "out/x.o"}},
		{name: "44-__FILE__-absolute", src: "const char *file(void) { return __FILE__; }\n", args: []string{"-c", "{dir}/src/x.c", "-o", "out/x.o"}, recordsDir: true},
		{name: "44-__FILE__-relative", src: "const char *file(void) { return __FILE__; }\n", args: []string{"-c", "src/x.c", "-o", "out/x.o"}, hitsInCopy: true},
	}
	var tests []subtest
	for _, tc := range cases {
		tests = append(tests, subtest{tc.name, func(t *testing.T) {
			eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
				writeFiles(t, e.work, map[string]string{"src/x.c": tc.src, "out/.keep": ""})
				waitRaceGuard()
				moved := filepath.Join(t.TempDir(), "moved")
				copyTreeFS(t, e.work, moved)
				for i, dir := range []string{e.work, moved} {
					argv := append([]string{c.cc}, expandDir(tc.args, dir)...)
					ref := e.compile(dir, nil, argv, "out/x.o")
					if i == 0 {
						e.rerun(dir, nil, ref)
					}
					obj := ref.files["out/x.o"]
					assert.Equal(t, tc.recordsDir, bytes.Contains(obj, []byte(dir)), "the object records %s", dir)
				}
				got := e.wantStats(statCounters{"errors": 0})
				if tc.recordsDir {
					assert.Equal(t, int64(2), got["misses"], "%v", got)
				}
				if tc.hitsInCopy {
					assert.Equal(t, int64(2), got["hits"], "%v", got)
				}
			})
		}})
	}
	group(t, tests)
}

// TestBaseDir covers item 42.
func TestBaseDir(t *testing.T) {
	t.Skip("item 42 does not apply: dcc has no base_dir setting (relative paths share entries across checkouts already, see TestCacheNonInvalidation/16)")
}

// TestDiagnosticsColourShared covers item 18.
func TestDiagnosticsColourShared(t *testing.T) {
	t.Skip("item 18 does not apply: dcc keys the diagnostics options and replays stderr as stored, so colour options miss rather than share an entry (TestHitRestoresObjectAndDiagnostics checks coloured stderr is replayed exactly)")
}

// TestEachCompileCountedOnce covers item 45: each compile counts once, in
// exactly one of direct hit, preprocessed hit, miss, uncacheable, run
// unchanged (local), error.
func TestEachCompileCountedOnce(t *testing.T) {
	t.Parallel()
	group(t, []subtest{
		{"preprocessor-mode", func(t *testing.T) { eachCompileCountedOnce(t, "DCC_DEPEND_MODE=false") }},
		{"depend-mode", func(t *testing.T) { eachCompileCountedOnce(t, "DCC_DEPEND_MODE=true") }},
	})
}

// eachCompileCountedOnce is TestEachCompileCountedOnce with the daemon's
// depend mode set by env: in depend mode, the header's comment change is a
// miss, not a preprocessed hit.
func eachCompileCountedOnce(t *testing.T, env string) {
	dependMode := strings.HasSuffix(env, "true")
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{
			"x.c": srcIncludesA + "int main(void) { return f() - 1; }\n", "a.h": "#define A 1 // one\n",
			"bad.c": "int f(void) { return nope; }\n", "out/.keep": "",
		})
		waitRaceGuard()
		steps := []struct {
			argv []string
			edit map[string]string
		}{
			{argv: []string{c.cc, "-c", "x.c", "-o", "out/x.o"}},                                                         // miss
			{argv: []string{c.cc, "-c", "x.c", "-o", "out/x.o"}},                                                         // direct hit
			{argv: []string{c.cc, "-c", "x.c", "-o", "out/x.o"}, edit: map[string]string{"a.h": "#define A 1 // two\n"}}, // preprocessed hit
			{argv: []string{c.cc, "-c", "bad.c", "-o", "out/bad.o"}},                                                     // uncacheable: fails
			{argv: []string{c.cc, "-c", "x.c", "-o", "missing/x.o"}},                                                     // uncacheable: no output directory
			{argv: []string{c.cc, "x.c", "-o", "out/prog"}},                                                              // local: links
			{argv: []string{c.cc, "-E", "x.c"}},                                                                          // local: preprocesses only
		}
		for _, st := range steps {
			if st.edit != nil {
				writeFiles(t, e.work, st.edit)
			}
			ref := e.referenceAnyExit(e.work, nil, st.argv)
			e.rerun(e.work, nil, ref)
		}
		want := statCounters{"misses": 1, "hits": 2, "direct_hits": 1, "preprocessed_hits": 1,
			"uncacheable": 2, "local": 2, "errors": 0}
		if dependMode {
			want["misses"], want["hits"], want["preprocessed_hits"] = 2, 1, 0
		}
		got := e.wantStats(want)
		total := got["hits"] + got["misses"] + got["uncacheable"] + got["local"] + got["errors"]
		assert.Equal(t, int64(len(steps)), total, "%v", got)
	}, env)
}

// TestZeroAndClear covers item 46: zeroing the statistics leaves the cache
// alone; clearing the cache leaves the statistics alone, and they survive a
// daemon restart.
func TestZeroAndClear(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": srcLoop})
		waitRaceGuard()
		ref := e.compile(e.work, nil, []string{c.cc, "-c", "x.c"}, "x.o")
		e.rerun(e.work, nil, ref)
		before := e.wantStats(statCounters{"misses": 1, "hits": 1, "entries": 1})
		r := e.dcc(e.work, "stats", "--zero")
		require.Equal(t, 0, r.exit, "%s", r.stderr)
		e.wantStats(statCounters{"misses": 0, "hits": 0, "entries": 1, "cache_size": before["cache_size"]})
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"misses": 0, "hits": 1, "entries": 1})
		r = e.dcc(e.work, "clear")
		require.Equal(t, 0, r.exit, "%s", r.stderr)
		e.wantStats(statCounters{"misses": 0, "hits": 1, "entries": 0, "cache_size": 0})
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"misses": 1, "hits": 1, "entries": 1})
		e.stopDaemon()
		e.wantStats(statCounters{"misses": 1, "hits": 1, "entries": 1})
	})
}

// TestLineDirectiveNamingMissingFile: generated sources (yacc, lex) carry
// #line directives naming files that may not exist where the compile runs;
// such a compile is still cached (in preprocessor mode), never an error.
func TestLineDirectiveNamingMissingFile(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": "#line 10 \"grammar.y\"\nint rule(int x) { return x + 1; }\n"})
		waitRaceGuard()
		ref := e.compile(e.work, nil, []string{c.cc, "-c", "x.c"}, "x.o")
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"misses": 1, "hits": 1, "errors": 0})
	})
}

// TestPreprocessedInputHits: already-preprocessed input (.i) is cached and
// served in direct mode like any source.
func TestPreprocessedInputHits(t *testing.T) {
	t.Parallel()
	eachCompiler(t, func(t *testing.T, e *behaviourEnv, c behaviourCompiler) {
		writeFiles(t, e.work, map[string]string{"x.c": srcIncludesA, "a.h": "#define A 1\n"})
		pre := e.run(e.work, nil, c.cc, "-E", "x.c", "-o", "x.i")
		require.Equal(t, 0, pre.exit, "%s", pre.stderr)
		waitRaceGuard()
		ref := e.compile(e.work, nil, []string{c.cc, "-O2", "-c", "x.i"}, "x.o")
		e.rerun(e.work, nil, ref)
		e.wantStats(statCounters{"misses": 1, "direct_hits": 1, "errors": 0})
	})
}
