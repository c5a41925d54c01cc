package depfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cases of compile's TestDependencyPrerequisites, whose function Parse
// replaces, and a few more.
func TestParse(t *testing.T) {
	cases := []struct {
		name string
		deps string
		want []string
		ok   bool
	}{
		{"gcc", "x.o: x.c /usr/include/stdc-predef.h a.h\n", []string{"x.c", "/usr/include/stdc-predef.h", "a.h"}, true},
		{"continued", "out/x.o: x.c \\\n /usr/include/stdio.h \\\n  inc/a.h\n", []string{"x.c", "/usr/include/stdio.h", "inc/a.h"}, true},
		{"crlf continuation", "x.o: x.c \\\r\n a.h\r\n", []string{"x.c", "a.h"}, true},
		{"escaped blank and hash", "x.o: my\\ dir/x.c a\\#b.h\n", []string{"my dir/x.c", "a#b.h"}, true},
		{"dollar", "x.o: $$v.c\n", []string{"$v.c"}, true},
		{"several targets", "first second\\ t: x.c a.h\n", []string{"x.c", "a.h"}, true},
		{"target with escaped blank", "b$$c\\ d: x.c\n", []string{"x.c"}, true},
		{"phony targets after -MP", "x.o: x.c a.h\n\na.h:\n", []string{"x.c", "a.h"}, true},
		{"no final newline", "x.o: x.c a.h", []string{"x.c", "a.h"}, true},
		{"colon inside a name", "x.o: dir:1/x.c\n", []string{"dir:1/x.c"}, true},
		{"no colon", "x.o x.c\n", nil, false},
		{"empty", "", nil, false},
		// Added with the move to depfile.
		{"gcc 12 -MP, no blank line", "x.o: x.c a.h\na.h:\n", []string{"x.c", "a.h"}, true},
		{"targets continued", "aaa \\\n bbb: x.c\n", []string{"x.c"}, true},
		{"colon at the end", "x.o:", []string{}, true},
		{"colon then newline", "x.o:\n", []string{}, true},
		{"backslash before hash, gcc's way", "x.o: e\\\\#.h\n", []string{"e\\#.h"}, true},
		{"lone backslash kept", "x.o: p\\q.h\n", []string{"p\\q.h"}, true},
		// gcc writes the name `x\ y.h` as `x\\\ y.h` (make's rule: 2N+1
		// backslashes before a blank are N backslashes and a blank). Parse
		// keeps the decoding of the function it replaces: both backslashes.
		{"backslash before blank stays doubled", "x.o: x\\\\\\ y.h\n", []string{"x\\\\ y.h"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Parse([]byte(tc.deps))
			assert.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a.h", "a.h"},
		{"/usr/include/stdio.h", "/usr/include/stdio.h"},
		{"my dir/x.c", `my\ dir/x.c`},
		{"a#b.h", `a\#b.h`},
		{"$v.c", "$$v.c"},
		{"$$", "$$$$"},
		{"t\tab.h", "t\\\tab.h"},
		{`p\q.h`, `p\q.h`},
		{`x\ y.h`, `x\\\ y.h`},
		{`x\\ y.h`, `x\\\\\ y.h`},
		{"x\\\ty.h", "x\\\\\\\ty.h"},
		{`e\#.h`, `e\\#.h`},
		{`e\$.h`, `e\$$.h`},
		{`a\`, `a\`},
		{"c:olon.h", "c:olon.h"},
		{"%*?[~.h", "%*?[~.h"},
		{"", ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, Quote(tc.in), "%q", tc.in)
	}
}

func TestFormatGCC(t *testing.T) {
	a50, b30 := strings.Repeat("a", 50), strings.Repeat("b", 30)
	cases := []struct {
		name   string
		target string
		deps   []string
		phony  bool
		want   string
	}{
		{"one line", "x.o", []string{"x.c", "a.h"}, false, "x.o: x.c a.h\n"},
		{"-MP: no rule for the main file, no blank lines", "x.o", []string{"x.c", "a.h", "b.h"}, true,
			"x.o: x.c a.h b.h\na.h:\nb.h:\n"},
		{"-MP with only the main file", "x.o", []string{"x.c"}, true, "x.o: x.c\n"},
		{"no prerequisites: nothing", "x.o", nil, true, ""},
		{"quoted names, also in -MP rules", "x.o", []string{"m y.c", "a#b.h", "$v.h"}, true,
			"x.o: m\\ y.c a\\#b.h $$v.h\na\\#b.h:\n$$v.h:\n"},
		{"name ending at column 73 stays", "x.o", []string{"x.c", strings.Repeat("h", 64)}, false,
			"x.o: x.c " + strings.Repeat("h", 64) + "\n"},
		{"one more wraps", "x.o", []string{"x.c", strings.Repeat("h", 65)}, false,
			"x.o: x.c \\\n " + strings.Repeat("h", 65) + "\n"},
		{"first prerequisite can wrap", "x.o", []string{strings.Repeat("s", 69)}, false,
			"x.o: \\\n " + strings.Repeat("s", 69) + "\n"},
		{"continuation lines count from the leading blank", "x.o", []string{strings.Repeat("s", 69), strings.Repeat("h", 1), strings.Repeat("i", 2)}, false,
			"x.o: \\\n " + strings.Repeat("s", 69) + " h \\\n ii\n"},
		{"names longer than a line stay whole", "x.o", []string{strings.Repeat("s", 100), "a.h"}, false,
			"x.o: \\\n " + strings.Repeat("s", 100) + " \\\n a.h\n"},
		{"a first target longer than a line does not wrap", strings.Repeat("t", 80), []string{"x.c"}, false,
			strings.Repeat("t", 80) + ": \\\n x.c\n"},
		{"targets wrap", a50 + " " + b30, []string{"x.c"}, false, a50 + " \\\n " + b30 + ": x.c\n"},
		{"targets given wrapped are wrapped again the same", a50 + " \\\n " + b30, []string{"x.c"}, false,
			a50 + " \\\n " + b30 + ": x.c\n"},
		{"targets given wrapped where gcc would not", "a \\\n b", []string{"x.c"}, false, "a b: x.c\n"},
		{"escaped blanks belong to the target", a50 + `\ ` + b30, []string{"x.c"}, false,
			a50 + `\ ` + b30 + ": \\\n x.c\n"},
		{"three backslashes escape, two do not", `a\\\ b c\\ d`, []string{"x.c"}, false, `a\\\ b c\\ d: x.c` + "\n"},
		{"the colon counts", strings.Repeat("t", 67), []string{"x.c", "y"}, false,
			strings.Repeat("t", 67) + ": x.c \\\n y\n"},
		{"one column less fits", strings.Repeat("t", 66), []string{"x.c", "y"}, false,
			strings.Repeat("t", 66) + ": x.c y\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(FormatGCC(tc.target, tc.deps, tc.phony)))
		})
	}
}

func TestFormatGCCTargets(t *testing.T) {
	a40, b40 := strings.Repeat("a", 40), strings.Repeat("b", 40)
	// One -MT name with a blank: gcc does not wrap inside it.
	assert.Equal(t, a40+" "+b40+": \\\n x.c\n", string(FormatGCCTargets([]string{a40 + " " + b40}, []string{"x.c"}, false)))
	// The same text read as two names wraps.
	assert.Equal(t, a40+" \\\n "+b40+": x.c\n", string(FormatGCC(a40+" "+b40, []string{"x.c"}, false)))
	assert.Equal(t, ": x.c\n", string(FormatGCCTargets(nil, []string{"x.c"}, false)))
}

func TestSplitTargets(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"x.o", []string{"x.o"}},
		{" a  b\t", []string{"a", "b"}},
		{"a \\\n b", []string{"a", "b"}},
		{"a \\\r\n b", []string{"a", "b"}},
		{`q\ $$r three`, []string{`q\ $$r`, "three"}},
		{`a\\ b`, []string{`a\\`, "b"}},
		{`a\\\ b`, []string{`a\\\ b`}},
		{"", nil},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, splitTargets(tc.in), "%q", tc.in)
	}
}

// expressible says whether make (and Parse) can carry name: not empty, no
// line end or tab, no backslash before a blank or at the end.
func expressible(name string) bool {
	if name == "" || strings.ContainsAny(name, "\n\r\t") || strings.HasSuffix(name, `\`) ||
		strings.Contains(name, `\ `) {
		return false
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	fixed := []string{
		"x.c", "/usr/include/stdc-predef.h", "my dir/a b.h", "a#b.h", `e\#.h`, `p\q.h`, "$v.h", "$$", "c:olon.h",
		"c: x", "#", " ", "  lead.h", "trail.h ", "%*?[~;'\"&|<>(){}.h", "ünï.h", strings.Repeat("long/", 30) + "h.h",
	}
	for _, phony := range []bool{false, true} {
		got, ok := Parse(FormatGCC("x.o", fixed, phony))
		require.True(t, ok)
		assert.Equal(t, fixed, got)
	}
	const alphabet = `ab/.\ #$:%*-_~` + "\x01\xff"
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		var deps []string
		for n := r.IntN(40) + 1; len(deps) < n; {
			b := make([]byte, r.IntN(30)+1)
			for j := range b {
				b[j] = alphabet[r.IntN(len(alphabet))]
			}
			if name := string(b); expressible(name) {
				deps = append(deps, name)
			}
		}
		target := []string{"x.o", `t\ $$u`, strings.Repeat("t", 70)}[i%3]
		phony := i%2 == 0
		out := FormatGCC(target, deps, phony)
		got, ok := Parse(out)
		require.True(t, ok, "%q", out)
		require.Equal(t, deps, got, "%q", out)
	}
}

// gccCase is a compile whose dependency file the real gcc writes. Paths and
// arguments may hold "{root}", the tree's root, which is also the working
// directory.
type gccCase struct {
	name  string
	files map[string]string
	args  []string // after gcc -MF x.d
	// deps, when set, are the prerequisites (Parse cannot read gcc's names
	// back: a backslash before a blank, a tab).
	deps []string
	// targets, when set, are the target names one by one, for
	// FormatGCCTargets.
	targets []string
	// textAmbiguous: the targets' text does not show where gcc's names end
	// (an -MT name holding a blank, where gcc would otherwise wrap), so
	// only FormatGCCTargets can match.
	textAmbiguous bool
	// prefix the dependency file must start with.
	prefix string
}

const (
	longDir1 = "include-directory-with-a-rather-long-name-used-for-wrap-tests" // 61 characters
	longDir2 = "second/nested-directory-name-also-long-enough-to-wrap-a-line"
	longName = "a-header-file-with-a-long-name-that-fills-most-of-a-line.h"
)

func gccCases() []gccCase {
	include := func(names ...string) string {
		var b strings.Builder
		for _, n := range names {
			fmt.Fprintf(&b, "#include %s\n", n)
		}
		return b.String() + "int main(void) { return 0; }\n"
	}
	many := map[string]string{}
	var manyIncludes []string
	for i := 0; i < 150; i++ {
		name := fmt.Sprintf("h%03d%s.h", i, strings.Repeat("x", i%37))
		many[longDir1+"/"+name] = ""
		manyIncludes = append(manyIncludes, `"`+name+`"`)
	}
	many["m.c"] = include(append(manyIncludes, "<stdio.h>", "<stdlib.h>")...)

	longTree := map[string]string{
		"m.c":                       include(`"a.h"`, `"`+longName+`"`, "<stdio.h>", `"b.h"`, "<string.h>", `"sub/c.h"`),
		"a.h":                       "",
		longDir1 + "/" + longName:   "",
		longDir1 + "/b.h":           "",
		longDir2 + "/sub/c.h":       "",
		longDir2 + "/" + longName:   "",
		longDir2 + "/sub/x.h":       "",
		longDir1 + "/sub/ignored.h": "",
	}
	special := map[string]string{
		"m.c":              include(`"d i#r$/b c.h"`, `"e#f.h"`, `"g$h.h"`, `"p\q.h"`, `"c:olon.h"`, `"e\#.h"`, `"$$.h"`, `"sp ace/  two  .h"`),
		"d i#r$/b c.h":     "",
		"e#f.h":            "",
		"g$h.h":            "",
		`p\q.h`:            "",
		"c:olon.h":         "",
		`e\#.h`:            "",
		"$$.h":             "",
		"sp ace/  two  .h": "",
	}
	simple := map[string]string{"m.c": include(`"a.h"`, "<stdio.h>"), "a.h": "#include \"b.h\"\n", "b.h": ""}
	a50, b40 := strings.Repeat("a", 50), strings.Repeat("b", 40)
	return []gccCase{
		{name: "plain", files: simple, args: []string{"-MD", "-c", "m.c", "-o", "m.o"}, prefix: "m.o: m.c "},
		{name: "plain -MP", files: simple, args: []string{"-MD", "-MP", "-c", "m.c", "-o", "m.o"}},
		{name: "no -o", files: simple, args: []string{"-MD", "-MP", "-c", "m.c"}, prefix: "m.o: m.c "},
		{name: "-MMD", files: simple, args: []string{"-MMD", "-MP", "-c", "m.c", "-o", "m.o"}, prefix: "m.o: m.c a.h b.h\n"},
		{name: "long -I directories", files: longTree, args: []string{
			"-MD", "-I{root}/" + longDir1, "-I{root}/" + longDir2, "-c", "m.c", "-o", "m.o"}},
		{name: "long -I directories -MP", files: longTree, args: []string{
			"-MD", "-MP", "-I{root}/" + longDir1, "-I{root}/" + longDir2, "-c", "m.c", "-o", "m.o"}},
		{name: "relative long -I directories -MP", files: longTree, args: []string{
			"-MD", "-MP", "-I" + longDir2, "-I" + longDir1, "-c", "m.c", "-o", "out.o"}},
		{name: "many headers -MP", files: many, args: []string{"-MD", "-MP", "-I{root}/" + longDir1, "-c", "m.c", "-o", "m.o"}},
		{name: "many headers, long object path", files: many, args: []string{
			"-MD", "-I{root}/" + longDir1, "-c", "{root}/m.c", "-o", "{root}/" + longDir1 + "/m.o"}},
		{name: "source name wraps right after the colon", files: map[string]string{
			longDir1 + "/" + longDir2 + "/" + longName + ".c": include(`"a.h"`), longDir1 + "/" + longDir2 + "/a.h": ""},
			args: []string{"-MD", "-MP", "-c", "{root}/" + longDir1 + "/" + longDir2 + "/" + longName + ".c", "-o", "m.o"}},
		{name: "blank, hash, dollar, backslash, colon in names -MP", files: special, args: []string{"-MD", "-MP", "-c", "m.c", "-o", "m.o"}},
		{name: "special names under a long directory", files: special, args: []string{
			"-MD", "-MP", "-c", "{root}/m.c", "-o", "{root}/d i#r$/" + longDir1 + ".o"}},
		{name: "backslash before a blank, tab",
			files: map[string]string{"m.c": include(`"x\ y.h"`, "\"t\tab.h\"", `"two\\  b.h"`), `x\ y.h`: "", "t\tab.h": "", `two\\  b.h`: ""},
			args:  []string{"-nostdinc", "-MD", "-MP", "-c", "m.c", "-o", "m.o"},
			deps:  []string{"m.c", `x\ y.h`, "t\tab.h", `two\\  b.h`}, prefix: "m.o: m.c x\\\\\\ y.h t\\\tab.h two\\\\\\\\\\ \\ b.h\n"},
		{name: "object with blank, dollar, hash", files: simple, args: []string{"-MD", "-MP", "-c", "m.c", "-o", "o u$t#.o"},
			prefix: `o\ u$$t\#.o: m.c`},
		{name: "-MT and -MQ", files: special, args: []string{
			"-MD", "-MP", "-MT", "one two", "-MQ", "q $r", "-MT", "three", "-c", "m.c", "-o", "m.o"},
			targets: []string{"one two", "three", `q\ $$r`}, prefix: `one two three q\ $$r: m.c`},
		{name: "-MQ then -MT reorders", files: simple, args: []string{"-MD", "-MQ", "a", "-MQ", "b", "-MT", "c", "-c", "m.c", "-o", "m.o"},
			targets: []string{"c", "b", "a"}, prefix: "c b a: m.c"},
		{name: "two long -MT", files: longTree, args: []string{
			"-MD", "-MP", "-MT", "{root}/" + longDir1 + "/m.o", "-MT", "{root}/" + longDir2 + "/m.d", "-I" + longDir1, "-I" + longDir2, "-c", "m.c", "-o", "m.o"}},
		{name: "two -MT wrapping between them", files: simple, args: []string{"-MD", "-MT", a50, "-MT", b40, "-c", "m.c", "-o", "m.o"},
			targets: []string{a50, b40}, prefix: a50 + " \\\n " + b40 + ": m.c"},
		{name: "long -MQ with blanks and dollars", files: longTree, args: []string{
			"-MD", "-MP", "-MQ", "{root}/" + longDir1 + "/o b$j with blanks.o", "-MQ", "$(OBJ) x", "-I" + longDir1, "-I" + longDir2, "-c", "m.c", "-o", "m.o"}},
		{name: "-MQ with a backslash before a blank", files: simple, args: []string{"-MD", "-MQ", `a\ b`, "-MQ", "c", "-c", "m.c", "-o", "m.o"},
			targets: []string{`a\\\ b`, "c"}, prefix: `a\\\ b c: m.c`},
		{name: "-MT with a blank past the limit", files: simple, args: []string{"-MD", "-MT", a50 + " " + b40, "-c", "m.c", "-o", "m.o"},
			targets: []string{a50 + " " + b40}, textAmbiguous: true, prefix: a50 + " " + b40 + ": \\\n m.c"},
		{name: "-MT with a blank within the limit", files: simple, args: []string{"-MD", "-MT", "one two", "-MT", "three", "-c", "m.c", "-o", "m.o"},
			targets: []string{"one two", "three"}},
	}
}

// gccOrSkip returns the path of gcc, or skips the test.
func gccOrSkip(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not on PATH")
	}
	return gcc
}

// runGCC writes files under root and runs gcc -MF x.d args there, returning
// the dependency file.
func runGCC(t *testing.T, gcc, root string, files map[string]string, args []string) []byte {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	argv := []string{"-MF", "x.d"}
	for _, a := range args {
		argv = append(argv, strings.ReplaceAll(a, "{root}", root))
	}
	cmd := exec.Command(gcc, argv...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "gcc %q: %s", argv, out)
	data, err := os.ReadFile(filepath.Join(root, "x.d"))
	require.NoError(t, err)
	return data
}

// targetText returns what precedes the colon that ends the first rule's
// targets (the colon Parse takes).
func targetText(t *testing.T, data []byte) string {
	t.Helper()
	for i, c := range data {
		if c == ':' && (i+1 == len(data) || bytes.IndexByte([]byte(" \t\r\n"), data[i+1]) >= 0) {
			return string(data[:i])
		}
	}
	t.Fatalf("no targets in %q", data)
	return ""
}

func TestFormatGCCMatchesGCC(t *testing.T) {
	gcc := gccOrSkip(t)
	for _, tc := range gccCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			data := runGCC(t, gcc, root, tc.files, tc.args)
			if tc.prefix != "" {
				require.True(t, bytes.HasPrefix(data, []byte(strings.ReplaceAll(tc.prefix, "{root}", root))), "%q", data)
			}
			deps, ok := Parse(data)
			require.True(t, ok, "%q", data)
			if tc.deps != nil {
				deps = tc.deps
			} else {
				for _, d := range deps {
					if !filepath.IsAbs(d) {
						d = filepath.Join(root, d)
					}
					_, err := os.Stat(d)
					require.NoError(t, err, "Parse read a name that is not a file, in %q", data)
				}
			}
			phony := false
			for _, a := range tc.args {
				phony = phony || a == "-MP"
			}
			target := targetText(t, data)
			if tc.textAmbiguous {
				assert.NotEqual(t, string(data), string(FormatGCC(target, deps, phony)))
			} else {
				assert.Equal(t, string(data), string(FormatGCC(target, deps, phony)))
			}
			if tc.targets != nil {
				targets := make([]string, len(tc.targets))
				for i, tg := range tc.targets {
					targets[i] = strings.ReplaceAll(tg, "{root}", root)
				}
				assert.Equal(t, string(data), string(FormatGCCTargets(targets, deps, phony)))
			}
		})
	}
}

// TestFormatGCCWrapSweep moves the prerequisites across the column limit a
// column at a time (through the length of the -MT target), so that every
// name lands once exactly at the limit and once just past it.
func TestFormatGCCWrapSweep(t *testing.T) {
	gcc := gccOrSkip(t)
	files := map[string]string{
		"m.c": "#include \"a.h\"\n#include \"" + strings.Repeat("b", 20) + ".h\"\n#include \"" + longName + "\"\n" +
			"#include \"d i r/e$f#g.h\"\nint main(void) { return 0; }\n",
		"a.h": "", strings.Repeat("b", 20) + ".h": "", longName: "", "d i r/e$f#g.h": "",
	}
	var sawFull, sawPast bool
	for n := 1; n <= 110; n++ {
		for _, phony := range []bool{false, true} {
			root := t.TempDir()
			target := strings.Repeat("t", n)
			args := []string{"-nostdinc", "-MD", "-MT", target, "-c", "m.c", "-o", "m.o"}
			if phony {
				args = append(args, "-MP")
			}
			data := runGCC(t, gcc, root, files, args)
			deps, ok := Parse(data)
			require.True(t, ok)
			require.Equal(t, string(data), string(FormatGCC(targetText(t, data), deps, phony)), "target length %d", n)
			for _, line := range strings.Split(string(data), "\n") {
				line = strings.TrimSuffix(line, " \\")
				words := strings.Fields(line)
				// A line gcc filled to the limit: its last name ends at
				// column 73 (72 plus the blank before it).
				sawFull = sawFull || len(line) == maxColumns+1 && len(words) > 1
				sawPast = sawPast || len(line) > maxColumns+1 && len(words) > 1
			}
		}
	}
	assert.True(t, sawFull, "no line reached the limit")
	assert.False(t, sawPast, "a line with several names went past the limit")
}
