package compile

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mmdTree is a project whose -MMD file leaves headers out for each reason
// gcc and clang have: the C library (the compilers' own directories), an
// -isystem header and the one it includes from its own directory, a user
// header (in -I) read only from that -isystem header; and keeps a user
// header, the one it includes from its own directory, an -include file, and
// a header with #pragma GCC system_header (which makes only the rest of
// itself a system header) with the header it includes before the pragma.
// Directory names are long enough that the files wrap.
var mmdTree = map[string]string{
	"src/a.c": "#include <stdio.h>\n#include \"u.h\"\n#include <vendor.h>\n#include <pragma.h>\n" +
		"int main(void) { printf(\"%d\\n\", U + VENDOR + PRAGMA + PRE); return 0; }\n",
	"include-directory-with-a-long-name/u.h":      "/* user */\n#include \"detail.h\"\n#define U DETAIL\n",
	"include-directory-with-a-long-name/detail.h": "#define DETAIL 1\n",
	"include-directory-with-a-long-name/cfg.h":    "#define CFG 2\n",
	"include-directory-with-a-long-name/pre.h":    "#define PRE 3\n",
	"third-party-system-directory/vendor.h":       "#include \"vendor_impl.h\"\n#include <cfg.h>\n#define VENDOR (VENDOR_BASE + CFG)\n",
	"third-party-system-directory/vendor_impl.h":  "#define VENDOR_BASE 40\n",
	"pragma-dir/pragma.h":                         "#include <before.h>\n#pragma GCC system_header\n#define PRAGMA BEFORE\n",
	"pragma-dir/before.h":                         "#define BEFORE 4\n",
	"out/.keep":                                   "",
	"deps/.keep":                                  "",
}

// mmdIncludes are the include options of mmdTree's compiles.
var mmdIncludes = []string{"-Iinclude-directory-with-a-long-name", "-isystem", "third-party-system-directory",
	"-Ipragma-dir", "-include", "include-directory-with-a-long-name/pre.h"}

// mmdCase is one set of dependency options and the file it writes.
type mmdCase struct {
	name string
	args []string
	// out is the -o value ("" for none), deps the dependency file.
	out, deps string
	// gccNotStored: with gcc, the compile is right but not stored (gcc's
	// order of the targets is not the command line's, which a hit could not
	// rewrite).
	gccNotStored bool
}

var mmdCases = []mmdCase{
	{name: "-MMD", args: []string{"-MMD"}, out: "out/a.o", deps: "out/a.d"},
	{name: "-MMD -MP", args: []string{"-MMD", "-MP"}, out: "out/a.o", deps: "out/a.d"},
	{name: "-MMD -MF -MQ", args: []string{"-MMD", "-MF", "deps/a.dep", "-MQ", "$weird name#"}, out: "out/a.o", deps: "deps/a.dep"},
	{name: "makefile -MF -MQ -MMD -MP", args: []string{"-MF", "deps/a.o.d", "-MQ", "a.o", "-MMD", "-MP"}, out: "a.o", deps: "deps/a.o.d"},
	{name: "-MMD -MT", args: []string{"-MMD", "-MT", "target"}, out: "out/a.o", deps: "out/a.d"},
	{name: "-MMD long -MT", args: []string{"-MMD", "-MTa-very-long-target-name-that-takes-most-of-the-line", "-MQ", "second target"},
		out: "out/a.o", deps: "out/a.d"},
	{name: "-MMD -MQ -MQ -MT", args: []string{"-MMD", "-MQ", "a", "-MQ", "b", "-MT", "c"}, out: "out/a.o", deps: "out/a.d", gccNotStored: true},
	{name: "-MMD without -o", args: []string{"-MMD"}, deps: "a.d"},
	{name: "-Wp,-MMD", args: []string{"-Wp,-MMD,out/.a.o.d"}, out: "out/a.o", deps: "out/.a.o.d"},
	{name: "-Wp,-MMD -MP", args: []string{"-Wp,-MMD,out/.a.o.d", "-MP"}, out: "out/a.o", deps: "out/.a.o.d"},
	{name: "-Wp,-MD", args: []string{"-Wp,-MD,out/.a.o.d"}, out: "out/a.o", deps: "out/.a.o.d"},
	{name: "-MD -MP", args: []string{"-MD", "-MP"}, out: "out/a.o", deps: "out/a.d"},
}

// realCompilers returns gcc and clang, skipping without gcc and failing
// without clang when DCC_REQUIRE_REAL is set.
func realCompilers(t *testing.T) []string {
	t.Helper()
	compilers := []string{gccPath(t)}
	if clang, err := exec.LookPath("clang"); err == nil {
		compilers = append(compilers, clang)
	} else if on, _ := strconv.ParseBool(os.Getenv("DCC_REQUIRE_REAL")); on {
		t.Fatal("clang is required (DCC_REQUIRE_REAL is set)")
	}
	return compilers
}

// logRecorder keeps the messages a service logs.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

// count returns how many times msg was logged, and forgets those.
func (r *logRecorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	r.msgs = slices.DeleteFunc(r.msgs, func(m string) bool {
		if m == msg {
			n++
		}
		return m == msg
	})
	return n
}

// fromPreprocessor is the message of a dependency file the preprocessor
// wrote because dcc could not tell the compiler's choice; dependMiss that
// of a miss compiled and stored in depend mode (without preprocessing).
const (
	fromPreprocessor = "dependency file from the preprocessor"
	dependMiss       = "miss in depend mode"
)

// newMMDService opens a service in depend mode, bypassing gcc's driver as
// a daemon does by default, whose log goes to the recorder it returns.
func newMMDService(t *testing.T) (*Service, *logRecorder) {
	t.Helper()
	rec := &logRecorder{}
	s := newTestServiceWith(t, func(o *Options) {
		o.DependMode, o.BypassDriver, o.Logger = true, true, slog.New(rec)
	})
	return s, rec
}

// mmdCompile is one compile of a test: the command, and how it is checked
// against the compiler run on its own.
type mmdCompile struct {
	t        *testing.T
	s        *Service
	compiler string
	dir      string
	args     []string
	object   string
	deps     string
	log      *logRecorder
}

// plain runs the compiler itself and returns its object and dependency file,
// then removes them.
func (c mmdCompile) plain() (obj, deps []byte) {
	c.t.Helper()
	o, stderr, code := runPlain(c.t, c.compiler, c.dir, c.args, c.object)
	require.Zero(c.t, code, stderr)
	deps = readT(c.t, c.dir, c.deps)
	require.NoError(c.t, os.Remove(filepath.Join(c.dir, c.object)))
	require.NoError(c.t, os.Remove(filepath.Join(c.dir, c.deps)))
	return o, deps
}

// through compiles through the service, checks that the outputs are the
// compiler's own byte for byte, and returns the result's reason.
func (c mmdCompile) through(what string) string {
	c.t.Helper()
	wantObj, wantDeps := c.plain()
	res := c.s.Compile(context.Background(), daemon.CompileRequest{
		Compiler: filepath.Base(c.compiler), Real: c.compiler, Dir: c.dir, Env: os.Environ(), Args: c.args})
	if res.Reason == "cache miss" {
		assert.Equal(c.t, 1, c.log.count(dependMiss), "%s: the miss compiled in depend mode", what)
	}
	require.True(c.t, res.Handled, "%s: %s", what, res.Reason)
	require.Zero(c.t, res.ExitCode, "%s: %s", what, res.Stderr)
	assert.Equal(c.t, string(wantDeps), string(readT(c.t, c.dir, c.deps)), "%s: the dependency file", what)
	assert.True(c.t, bytes.Equal(wantObj, readT(c.t, c.dir, c.object)), "%s: the object differs from the compiler's", what)
	return res.Reason
}

// TestDependModeUserDeps: commands with -MMD (and -Wp,-MMD,file,
// -Wp,-MD,file, -MD -MP) compiled in depend mode, with gcc and with clang,
// give the compiler's own dependency file and object byte for byte on a
// cold miss and on a warm hit; the miss does not preprocess (dcc writes
// the dependency file from its own list, and a comment's change is a miss,
// as depend mode has no preprocessor-mode key); and since the manifest lists
// the system headers too, a changed -isystem header is a miss.
func TestDependModeUserDeps(t *testing.T) {
	for _, cc := range realCompilers(t) {
		for _, tc := range mmdCases {
			t.Run(filepath.Base(cc)+" "+tc.name, func(t *testing.T) {
				s, log := newMMDService(t)
				dir := t.TempDir()
				writeTree(t, dir, mmdTree)
				settle(t, dir)
				args := slices.Concat([]string{"-O1", "-g"}, mmdIncludes, tc.args, []string{"-c", "src/a.c"})
				object := "a.o"
				if tc.out != "" {
					args, object = append(args, "-o", tc.out), tc.out
				}
				c := mmdCompile{t: t, s: s, compiler: cc, dir: dir, args: args, object: object, deps: tc.deps, log: log}

				notStored := tc.gccNotStored && filepath.Base(cc) == "gcc"
				want := "cache miss"
				if notStored {
					want = "cache miss, not stored: the dependency file does not start with the expected target"
				}
				assert.Equal(t, want, c.through("cold"))
				assert.Zero(t, log.count(fromPreprocessor), "the dependency file came from dcc's list")
				if notStored {
					return
				}
				assert.Equal(t, "direct hit", c.through("warm"))

				// A comment: preprocessor mode would hit on the same text.
				writeTree(t, dir, map[string]string{"include-directory-with-a-long-name/u.h": "/* user, changed */\n#include \"detail.h\"\n#define U DETAIL\n"})
				settle(t, dir)
				assert.Equal(t, "cache miss", c.through("after a comment's change"), "depend mode has no preprocessor-mode key")
				assert.Equal(t, "direct hit", c.through("warm again"))

				// A header in an -isystem directory, which -MMD leaves out.
				writeTree(t, dir, map[string]string{"third-party-system-directory/vendor_impl.h": "#define VENDOR_BASE 41\n"})
				settle(t, dir)
				assert.Equal(t, "cache miss", c.through("after an -isystem header's change"))
				assert.Equal(t, "direct hit", c.through("warm after it"))
				assert.Zero(t, log.count(fromPreprocessor))
			})
		}
	}
}

// TestDependModeUserDepsUnsure: where which headers the compiler leaves out
// cannot be told from dcc's list (a header included after a #pragma GCC
// system_header, which the scan cannot tell is not in a skipped #if; a
// line marker), the preprocessor writes the dependency file, the compiler's
// own byte for byte, and the result is stored: the next compile hits.
func TestDependModeUserDepsUnsure(t *testing.T) {
	trees := []struct {
		name  string
		files map[string]string
	}{
		{"after #pragma GCC system_header", map[string]string{
			"pragma-dir/pragma.h": "#include <before.h>\n#pragma GCC system_header\n#include \"after.h\"\n#define PRAGMA (BEFORE + AFTER)\n",
			"pragma-dir/after.h":  "#define AFTER 5\n"}},
		{"line marker", map[string]string{
			"pragma-dir/pragma.h": "#include <before.h>\n# 1 \"elsewhere.h\" 3\n#include \"after.h\"\n#define PRAGMA (BEFORE + AFTER)\n",
			"pragma-dir/after.h":  "#define AFTER 5\n"}},
	}
	for _, cc := range realCompilers(t) {
		for _, tree := range trees {
			t.Run(filepath.Base(cc)+" "+tree.name, func(t *testing.T) {
				s, log := newMMDService(t)
				dir := t.TempDir()
				writeTree(t, dir, mmdTree)
				writeTree(t, dir, tree.files)
				settle(t, dir)
				args := slices.Concat([]string{"-O1", "-g"}, mmdIncludes, []string{"-MMD", "-MP", "-c", "src/a.c", "-o", "out/a.o"})
				c := mmdCompile{t: t, s: s, compiler: cc, dir: dir, args: args, object: "out/a.o", deps: "out/a.d", log: log}
				assert.Equal(t, "cache miss", c.through("cold"))
				assert.Equal(t, 1, log.count(fromPreprocessor))
				assert.Equal(t, "direct hit", c.through("warm"))
			})
		}
	}
}

// TestDependModeUserDepsFailure: a compile that fails runs as the command
// itself does (the compiler's diagnostics, and its dependency file as it
// leaves it on failure), and is not cached.
func TestDependModeUserDepsFailure(t *testing.T) {
	for _, cc := range realCompilers(t) {
		t.Run(filepath.Base(cc), func(t *testing.T) {
			s, _ := newMMDService(t)
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"bad.c": "#include <stdio.h>\nint f(void) { return nope; }\n", "bad.d": "stale\n"})
			settle(t, dir)
			args := []string{"-MMD", "-c", "bad.c", "-o", "bad.o"}
			_, stderr, code := runPlain(t, cc, dir, args, "bad.o")
			require.NotZero(t, code)
			plainDeps, err := os.ReadFile(filepath.Join(dir, "bad.d"))
			if err != nil {
				plainDeps = nil // (gcc 12 and clang 14 write it)
			}
			writeTree(t, dir, map[string]string{"bad.d": "stale\n"})
			res := s.Compile(context.Background(), daemon.CompileRequest{
				Compiler: filepath.Base(cc), Real: cc, Dir: dir, Env: os.Environ(), Args: args})
			require.True(t, res.Handled, res.Reason)
			assert.Equal(t, "compile failed: not cached", res.Reason)
			assert.Equal(t, code, res.ExitCode)
			assert.Equal(t, stderr, string(res.Stderr))
			gotDeps, err := os.ReadFile(filepath.Join(dir, "bad.d"))
			if err != nil {
				gotDeps = nil
			}
			assert.Equal(t, string(plainDeps), string(gotDeps), "the dependency file is left as the compiler leaves it")
		})
	}
}

func TestWithoutDependencyArgs(t *testing.T) {
	tests := []struct {
		args, deps, want []string
		ok               bool
	}{
		{[]string{"-O2", "-MF", "d/x.d", "-MQ", "x.o", "-MMD", "-MP", "-c", "x.c"}, []string{"-MF", "d/x.d", "-MQ", "x.o", "-MMD", "-MP"},
			[]string{"-O2", "-c", "x.c"}, true},
		{[]string{"-MMD", "-MFx.d", "-MTt", "-c", "x.c"}, []string{"-MMD", "-MFx.d", "-MTt"}, []string{"-c", "x.c"}, true},
		{[]string{"-Wp,-MMD,.x.d", "-c", "x.c"}, []string{"-Wp,-MMD,.x.d"}, []string{"-c", "x.c"}, true},
		// An option's value that looks like a dependency option.
		{[]string{"-MMD", "-o", "-MP", "-c", "x.c"}, []string{"-MMD"}, nil, false},
		// Handed to the preprocessor: taking -MMD out would leave
		// -Xpreprocessor taking the next option.
		{[]string{"-Xpreprocessor", "-MMD", "-c", "x.c"}, []string{"-MMD"}, nil, false},
		{[]string{"@args", "-MMD", "-c", "x.c"}, []string{"-MMD"}, nil, false},
		{[]string{"-MMD", "-MF"}, []string{"-MMD", "-MF"}, nil, false},
	}
	for _, tt := range tests {
		got, ok := withoutDependencyArgs(tt.args, tt.deps)
		assert.Equal(t, tt.ok, ok, "%q", tt.args)
		if tt.ok {
			assert.Equal(t, tt.want, got, "%q", tt.args)
		}
	}
}

func TestParseClangDepOptions(t *testing.T) {
	tests := []struct {
		args []string
		want clangDepOptions
	}{
		{[]string{"-MMD"}, clangDepOptions{User: true, Targets: []string{"out/a.o"}}},
		{[]string{"-MMD", "-MD"}, clangDepOptions{Targets: []string{"out/a.o"}}},
		{[]string{"-MD", "-MMD", "-MP"}, clangDepOptions{User: true, Phony: true, Targets: []string{"out/a.o"}}},
		// Command-line order, -MQ quoted (clang does not put -MT first).
		{[]string{"-MMD", "-MQ", "a b", "-MT", "c d", "-MQ$x#"}, clangDepOptions{User: true, Targets: []string{`a\ b`, "c d", "$$x\\#"}}},
		{[]string{"-Wp,-MMD,.a.d"}, clangDepOptions{User: true, Targets: []string{"out/a.o"}}},
		{[]string{"-Wp,-MD,.a.d", "-MTt"}, clangDepOptions{Targets: []string{"t"}}},
	}
	for _, tt := range tests {
		got, err := parseClangDepOptions(tt.args, "out/a.o")
		require.NoError(t, err, "%q", tt.args)
		assert.Equal(t, tt.want, got, "%q", tt.args)
	}
	for _, bad := range [][]string{nil, {"-MP"}, {"-MMD", "-MG"}, {"-MMD", "-MV"}, {"-MMD", "-MT"}, {"-Wp,-MMD"}, {"-Wp,-MD,a,b"}} {
		_, err := parseClangDepOptions(bad, "a.o")
		assert.Error(t, err, "%q", bad)
	}
	assert.Equal(t, `a\\\ b`, quoteClangTarget(`a\ b`), "backslashes before a blank doubled")
}

// TestFormatClangDeps checks the writer on names clang's own output has:
// wrapping (targets and prerequisites), quoting, -MP.
func TestFormatClangDeps(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	dir := t.TempDir()
	long := strings.Repeat("l", 30)
	files := map[string]string{
		"a.c":                     "#include \"" + long + "/x.h\"\n#include \"odd $ #name.h\"\n#include \"" + long + "/y.h\"\n",
		long + "/x.h":             "",
		long + "/y.h":             "",
		"odd $ #name.h":           "",
		long + "/" + long + ".h":  "",
		"z" + long + long + ".h":  "",
		"b.c":                     "#include \"" + long + "/" + long + ".h\"\n#include \"z" + long + long + ".h\"\n",
		"a-directory/.keep":       "",
		"another-directory/.keep": "",
	}
	writeTree(t, dir, files)
	for _, tc := range []struct {
		src     string
		targets []string
		phony   bool
	}{
		{"a.c", []string{"a.o"}, false},
		{"a.c", []string{"a.o"}, true},
		{"b.c", []string{strings.Repeat("t", 60), "second", strings.Repeat("u", 70)}, true},
		{"b.c", []string{strings.Repeat("t", 73), "x"}, false},
	} {
		args := []string{"-MMD", "-MF", "got.d", "-c", tc.src, "-o", "x.o"}
		for _, tg := range tc.targets {
			args = append(args, "-MT", tg)
		}
		if tc.phony {
			args = append(args, "-MP")
		}
		_, stderr, code := runPlain(t, clang, dir, args, "x.o")
		require.Zero(t, code, stderr)
		want := readT(t, dir, "got.d")
		deps, ok := depfile.Parse(want)
		require.True(t, ok)
		assert.Equal(t, string(want), string(formatClangDeps(tc.targets, deps, tc.phony)), "%q", args)
	}
}

// TestDependModeUserDepsPragmaInSource: gcc and clang ignore #pragma GCC
// system_header in the source itself (gcc warns), so the headers after it
// are kept: dcc writes the file from its list, the compiler's own.
func TestDependModeUserDepsPragmaInSource(t *testing.T) {
	for _, cc := range realCompilers(t) {
		t.Run(filepath.Base(cc), func(t *testing.T) {
			s, log := newMMDService(t)
			dir := t.TempDir()
			writeTree(t, dir, mmdTree)
			writeTree(t, dir, map[string]string{"src/a.c": "#pragma GCC system_header\n#include <stdio.h>\n#include \"u.h\"\n" +
				"int main(void) { printf(\"%d\\n\", U + PRE); return 0; }\n"})
			settle(t, dir)
			args := slices.Concat(mmdIncludes, []string{"-MMD", "-c", "src/a.c", "-o", "out/a.o"})
			c := mmdCompile{t: t, s: s, compiler: cc, dir: dir, args: args, object: "out/a.o", deps: "out/a.d", log: log}
			assert.Equal(t, "cache miss", c.through("cold"))
			assert.Zero(t, log.count(fromPreprocessor), "the dependency file came from dcc's list")
			assert.Contains(t, string(readT(t, dir, "out/a.d")), "u.h")
			assert.Equal(t, "direct hit", c.through("warm"))
		})
	}
}

// TestDependModeUserDepsNoPreprocessorKey: a -MMD compile's miss in depend
// mode stores no preprocessor-mode result, so that a change of a comment (the
// preprocessed text stays the same) is a miss; in preprocessor mode, as
// -MMD compiles went before, it is a preprocessed hit. (Without -g: with it,
// preprocessor mode keys on every header's content too.)
func TestDependModeUserDepsNoPreprocessorKey(t *testing.T) {
	for _, cc := range realCompilers(t) {
		for _, depend := range []bool{true, false} {
			t.Run(filepath.Base(cc)+" "+map[bool]string{true: "depend mode", false: "preprocessor mode"}[depend], func(t *testing.T) {
				s, log := newMMDService(t)
				s.opts.DependMode = depend
				dir := t.TempDir()
				writeTree(t, dir, mmdTree)
				settle(t, dir)
				args := slices.Concat([]string{"-O1"}, mmdIncludes, []string{"-MMD", "-MP", "-c", "src/a.c", "-o", "out/a.o"})
				c := mmdCompile{t: t, s: s, compiler: cc, dir: dir, args: args, object: "out/a.o", deps: "out/a.d", log: log}
				res := s.Compile(context.Background(), daemon.CompileRequest{
					Compiler: filepath.Base(cc), Real: cc, Dir: dir, Env: os.Environ(), Args: args})
				require.Equal(t, "cache miss", res.Reason)
				assert.Equal(t, map[bool]int{true: 1, false: 0}[depend], log.count(dependMiss))
				writeTree(t, dir, map[string]string{"include-directory-with-a-long-name/u.h": "/* user, changed */\n#include \"detail.h\"\n#define U DETAIL\n"})
				settle(t, dir)
				want := map[bool]string{true: "cache miss", false: "preprocessed hit"}[depend]
				assert.Equal(t, want, c.through("after a comment's change"))
			})
		}
	}
}

// TestDependModeUserDepsCorners: the ways a header can be named that gcc
// and clang judge differently, each compiled with -MMD -MP in depend mode:
// the dependency file is the compiler's own byte for byte, whether dcc wrote
// it or, not sure of the compiler's choice, left it to the preprocessor.
func TestDependModeUserDepsCorners(t *testing.T) {
	trees := []struct {
		name  string
		files map[string]string
		args  []string
		// unsure: dcc cannot tell, the preprocessor writes the file.
		unsure bool
	}{
		{"__has_include of a user header from a system header", map[string]string{
			"a.c":         "#include <s.h>\nint x;\n",
			"sys/s.h":     "#if __has_include(<probe.h>)\n#endif\n#if __has_include(\"near.h\")\n#endif\n",
			"sys/near.h":  "",
			"inc/probe.h": "",
		}, []string{"-Iinc", "-isystem", "sys"}, false},
		{"__has_include of a user header from the source", map[string]string{
			"a.c":         "#if __has_include(<probe.h>)\n#endif\n#if __has_include(<stdio.h>)\n#endif\nint x;\n",
			"inc/probe.h": "",
		}, []string{"-Iinc"}, false},
		{"a user header read first from a system header, then from the source", map[string]string{
			"a.c":       "#include <s.h>\n#include <cfg.h>\nint x = CFG;\n",
			"sys/s.h":   "#include <cfg.h>\n",
			"inc/cfg.h": "#ifndef CFG\n#define CFG 1\n#endif\n",
		}, []string{"-Iinc", "-isystem", "sys"}, true},
		{"#pragma once, read twice", map[string]string{
			"a.c":    "#include \"once.h\"\n#include \"once.h\"\n#include <stdint.h>\nint x;\n",
			"once.h": "#pragma once\nint once;\n",
		}, nil, false},
		{"#include_next", map[string]string{
			"a.c":        "#include <wrap.h>\nint x = W;\n",
			"inc/wrap.h": "#include_next <wrap.h>\n",
			"sys/wrap.h": "#define W 2\n",
		}, []string{"-Iinc", "-isystem", "sys"}, false},
		{"-include from an -isystem directory", map[string]string{
			"a.c":        "int x = S;\n",
			"sys/pre.h":  "#include \"more.h\"\n#define S 3\n",
			"sys/more.h": "",
		}, []string{"-isystem", "sys", "-include", "pre.h"}, false},
		{"an -I directory that is also an -isystem one", map[string]string{
			"a.c":     "#include <d.h>\nint x = D;\n",
			"dup/d.h": "#define D 4\n",
		}, []string{"-Idup", "-isystem", "dup"}, false},
		{"a quoted include from the source's directory and a system header's", map[string]string{
			"src/a.c":    "#include \"here.h\"\n#include <s.h>\nint x;\n",
			"src/here.h": "",
			"sys/s.h":    "#include \"here.h\"\n",
			"sys/here.h": "",
		}, []string{"-isystem", "sys"}, false},
		// (A source whose #include names a macro goes to preprocessor
		// mode: precompiledHeaderRisk cannot tell the name.)
		{"a macro names the header", map[string]string{
			"a.c":     "#include \"u.h\"\n#include <s.h>\nint x;\n",
			"u.h":     "#define H \"m.h\"\n#include H\n",
			"m.h":     "",
			"sys/s.h": "#define SH <t.h>\n#include SH\n",
			"sys/t.h": "",
		}, []string{"-isystem", "sys"}, false},
	}
	for _, cc := range realCompilers(t) {
		for _, tree := range trees {
			t.Run(filepath.Base(cc)+" "+tree.name, func(t *testing.T) {
				s, log := newMMDService(t)
				dir := t.TempDir()
				writeTree(t, dir, tree.files)
				settle(t, dir)
				src := "a.c"
				if _, ok := tree.files["src/a.c"]; ok {
					src = "src/a.c"
				}
				args := slices.Concat(tree.args, []string{"-MMD", "-MP", "-c", src, "-o", "a.o"})
				c := mmdCompile{t: t, s: s, compiler: cc, dir: dir, args: args, object: "a.o", deps: "a.d", log: log}
				assert.Equal(t, "cache miss", c.through("cold"))
				assert.Equal(t, map[bool]int{true: 1, false: 0}[tree.unsure], log.count(fromPreprocessor))
				assert.Equal(t, "direct hit", c.through("warm"))
			})
		}
	}
}

// TestDependModeUserDepsNotARegularFile: a dependency file that is not a
// regular file (a symbolic link here; -MF /dev/null alike) is not written
// by dcc, which would replace it: the compiler writes through it.
func TestDependModeUserDepsNotARegularFile(t *testing.T) {
	for _, cc := range realCompilers(t) {
		t.Run(filepath.Base(cc), func(t *testing.T) {
			s, log := newMMDService(t)
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"a.c": "#include <stdio.h>\nint x;\n", "real.d": ""})
			require.NoError(t, os.Symlink("real.d", filepath.Join(dir, "link.d")))
			settle(t, dir)
			args := []string{"-MMD", "-MF", "link.d", "-c", "a.c", "-o", "a.o"}
			_, stderr, code := runPlain(t, cc, dir, args, "a.o")
			require.Zero(t, code, stderr)
			want := readT(t, dir, "real.d")
			writeTree(t, dir, map[string]string{"real.d": ""})
			res := s.Compile(context.Background(), daemon.CompileRequest{
				Compiler: filepath.Base(cc), Real: cc, Dir: dir, Env: os.Environ(), Args: args})
			require.True(t, res.Handled, res.Reason)
			assert.Equal(t, "cache miss", res.Reason)
			assert.Zero(t, log.count(dependMiss), "not in depend mode")
			info, err := os.Lstat(filepath.Join(dir, "link.d"))
			require.NoError(t, err)
			assert.Equal(t, os.ModeSymlink, info.Mode().Type(), "still a link")
			assert.Equal(t, string(want), string(readT(t, dir, "real.d")))
		})
	}
}

func TestParseSearchOptions(t *testing.T) {
	got, ok := parseSearchOptions([]string{"-Iinc", "-I", "inc2", "-iquote", "q", "-isystemsys", "-idirafter", "late",
		"-include", "pre.h", "-DX=1", "-D", "Y", "-UZ", "--sysroot", "/sr", "-nostdinc", "-fmacro-prefix-map=/a=b"}, false)
	require.True(t, ok)
	assert.Equal(t, searchOptions{quote: []string{"q"}, user: []string{"inc", "inc2"}, system: []string{"sys", "late"},
		includes: []string{"pre.h"}, defines: []string{"-DX=1", "-DY", "-UZ"}}, got)
	for _, bad := range [][]string{{"-I-"}, {"-I=inc"}, {"-isystem", "=sys"}, {"-imacros", "m.h"}, {"-iprefix", "p"},
		{"-isysroot", "s"}, {"-Wp,-DX"}, {"-Xpreprocessor", "-C"}, {"-C"}, {"-I"}, {"-DP=_Pragma(\"GCC system_header\")"},
		{"--include=x.h"}} {
		_, ok := parseSearchOptions(bad, false)
		assert.False(t, ok, "%q", bad)
	}
}

// BenchmarkUserDeps measures what writing an -MMD file from dcc's list adds
// to a compile once the scans are remembered (as for every unit of a build
// but its first ones): the include graph of mmdTree's unit (stdio.h and the
// rest), gcc's choice, and the file's text.
func BenchmarkUserDeps(b *testing.B) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		b.Skip("gcc not installed")
	}
	store, err := badgerstore.Open(b.TempDir(), badgerstore.DefaultOptions())
	require.NoError(b, err)
	s := New(Options{Store: store, Stats: cache.NewStats(), Memo: filehash.NewMemo(1000), Prober: &toolchain.Prober{},
		DirectMode: true, DependMode: true, TempDir: b.TempDir()})
	defer s.Close()
	dir := b.TempDir()
	for name, content := range mmdTree {
		require.NoError(b, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
		require.NoError(b, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	ctx := context.Background()
	args := slices.Concat(mmdIncludes, []string{"-MMD", "-MP", "-c", "src/a.c", "-o", "out/a.o"})
	id, err := s.opts.Prober.Probe(ctx, gcc)
	require.NoError(b, err)
	a := toolchain.Classify(toolchain.Command{Compiler: "gcc", Args: args, Dir: dir, Family: id.Family, Driver: id.Driver})
	j := &job{s: s, req: daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(), Args: args},
		a: &a, id: id, paths: outputPaths(a.Outputs)}
	_, u, ok := j.userDependPlan()
	require.True(b, ok)
	cmd := exec.Command(gcc, append(slices.Clone(u.args), "-MD", "-MF", "all.d")...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(b, err, "%s", out)
	data, err := os.ReadFile(filepath.Join(dir, "all.d"))
	require.NoError(b, err)
	files, ok := depfile.Parse(data)
	require.True(b, ok)
	var included []cache.FileDigest
	for _, f := range files {
		info, err := s.opts.Memo.Hash(resolve(dir, f))
		require.NoError(b, err)
		included = append(included, cache.FileDigest{Path: f, Digest: info.Digest})
	}
	listed, err := j.userListed(ctx, u, included)
	require.NoError(b, err)
	b.ReportMetric(float64(len(included)), "files")
	b.ReportMetric(float64(len(listed)), "listed")
	for b.Loop() {
		listed, err := j.userListed(ctx, u, included)
		if err != nil {
			b.Fatal(err)
		}
		_ = depfile.FormatGCCTargets(u.targets, listed, u.phony)
	}
}
