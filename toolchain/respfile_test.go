package toolchain

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// utf16File encodes s as UTF-16 with a byte-order mark.
func utf16File(s string, bigEndian bool) []byte {
	out := []byte{0xFF, 0xFE}
	if bigEndian {
		out = []byte{0xFE, 0xFF}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// gnuCases are response-file texts with the arguments gcc 12 and clang 14 read
// from them. Every row was checked against the real drivers, and
// TestSplitMatchesRealCompilers checks them again wherever those are installed.
var gnuCases = []struct {
	name  string
	text  string
	gcc   []string
	clang []string
}{
	{"quotes and escaped space", `-D'a b' -D"c d" -Dx\ y`,
		[]string{"-Da b", "-Dc d", "-Dx y"}, []string{"-Da b", "-Dc d", "-Dx y"}},
	{"backslash escapes a quote inside single quotes", `-D'q\'s' -Dz`,
		[]string{"-Dq's", "-Dz"}, []string{"-Dq's", "-Dz"}},
	{"backslash escapes a quote inside double quotes", `-D"q\"s" -Dz`,
		[]string{`-Dq"s`, "-Dz"}, []string{`-Dq"s`, "-Dz"}},
	{"escaped backslash", `-Da\\b -Dz`,
		[]string{`-Da\b`, "-Dz"}, []string{`-Da\b`, "-Dz"}},
	{"trailing backslash: gcc drops it, clang keeps it", `-Dtrail\`,
		[]string{"-Dtrail"}, []string{`-Dtrail\`}},
	{"unterminated single quote runs to the end", `-Dunterminated'abc`,
		[]string{"-Dunterminatedabc"}, []string{"-Dunterminatedabc"}},
	{"unterminated double quote keeps spaces", `-Dunterminated"abc def`,
		[]string{"-Dunterminatedabc def"}, []string{"-Dunterminatedabc def"}},
	{"VT and FF separate for gcc only", "-Da\vb -Dc\fd -De\rf",
		[]string{"-Da", "b", "-Dc", "d", "-De", "f"}, []string{"-Da\vb", "-Dc\fd", "-De", "f"}},
	{"empty quotes: an empty argument for gcc, nothing for clang", `-Dx '' -Dy`,
		[]string{"-Dx", "", "-Dy"}, []string{"-Dx", "-Dy"}},
	{"empty double quotes", `-Dx "" -Dy`,
		[]string{"-Dx", "", "-Dy"}, []string{"-Dx", "-Dy"}},
	{"adjacent quoted parts join", `-Da'b'"c"d`,
		[]string{"-Dabcd"}, []string{"-Dabcd"}},
	{"NUL ends the file for gcc, the argument for clang", "-Dnul\x00after -Dz",
		[]string{"-Dnul"}, []string{"-Dnul", "-Dz"}},
	{"two quoted parts", `-D'it''s'`,
		[]string{"-Dits"}, []string{"-Dits"}},
	{"non-ASCII bytes, including NBSP, are ordinary", "-D\u00e9 -D\u00a0x",
		[]string{"-D\u00e9", "-D\u00a0x"}, []string{"-D\u00e9", "-D\u00a0x"}},
	{"only whitespace", "  \n\t ", nil, nil},
	{"empty file", "", nil, nil},
	{"quoted newline", "-D\"multi\nline\" -Dz",
		[]string{"-Dmulti\nline", "-Dz"}, []string{"-Dmulti\nline", "-Dz"}},
	{"backslash-newline is a newline character", "-Da\\\n-Db",
		[]string{"-Da\n-Db"}, []string{"-Da\n-Db"}},
	{"no comments", "# comment -Dx",
		[]string{"#", "comment", "-Dx"}, []string{"#", "comment", "-Dx"}},
	{"UTF-8 BOM: a character for gcc, skipped by clang", "\xEF\xBB\xBF-Dbom -Dz",
		[]string{"\xEF\xBB\xBF-Dbom", "-Dz"}, []string{"-Dbom", "-Dz"}},
	{"UTF-16LE with BOM: gcc stops at the first NUL", string(utf16File("-Dutf16 -D\u00e9", false)),
		[]string{"\xFF\xFE-"}, []string{"-Dutf16", "-D\u00e9"}},
	{"UTF-16BE with BOM", string(utf16File("-Dutf16be -Dz", true)),
		[]string{"\xFE\xFF"}, []string{"-Dutf16be", "-Dz"}},
}

// windowsCases are response-file texts with the arguments clang-cl 14 reads from
// them (err: dcc refuses the file).
var windowsCases = []struct {
	name string
	text string
	want []string
	err  string
}{
	{"backslash and quote rules",
		`/Da\\b /D"c d" /D"e\"f" /Dg\\\"h /Di\\\\"j k" /D"l""m" /D"n""" /D''o`,
		[]string{`/Da\\b`, "/Dc d", `/De"f`, `/Dg\"h`, `/Di\\j k`, `/Dl"m`, `/Dn"`, "/D''o"}, ""},
	{"empty quotes are an empty argument", `/Dx "" /Dy`, []string{"/Dx", "", "/Dy"}, ""},
	{"trailing backslashes are literal", `/Dtrail\\`, []string{`/Dtrail\\`}, ""},
	{"unterminated quote", `/Dq"unterminated x`, nil, "unterminated quote"},
	{"CR and NUL separate, VT and FF do not", "/Da\vb /Dc\fd /De\rf /Dg\x00h /Di",
		[]string{"/Da\vb", "/Dc\fd", "/De", "f", "/Dg", "h", "/Di"}, ""},
	{"UTF-8 BOM", "\xEF\xBB\xBF/Dutf8bom /Dz", []string{"/Dutf8bom", "/Dz"}, ""},
	{"UTF-16LE BOM", string(utf16File("/Dutf16 /D\u00e9", false)), []string{"/Dutf16", "/D\u00e9"}, ""},
	{"UTF-16BE BOM", string(utf16File("/Dutf16be /Dz", true)), []string{"/Dutf16be", "/Dz"}, ""},
	{"UTF-16 without BOM is bytes", "/\x00D\x00x\x00", []string{"/", "D", "x"}, ""},
	{"quote toggles inside a word", `/D"a"b"c d"e`, []string{"/Dabc de"}, ""},
	{"backslash does not escape a space", `/Dx\ y`, []string{`/Dx\`, "y"}, ""},
	{"single quotes are ordinary", `/D'single quoted'`, []string{"/D'single", "quoted'"}, ""},
	{"odd-length UTF-16", "\xFF\xFE/\x00D", nil, "odd number of bytes"},
	{"unpaired surrogate", "\xFF\xFE\x00\xD8/\x00", nil, "invalid UTF-16"},
}

func TestSplitGNU(t *testing.T) {
	for _, tc := range gnuCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitGCC([]byte(tc.text))
			require.NoError(t, err)
			assert.Equal(t, tc.gcc, got, "gcc")
			got, err = splitClang([]byte(tc.text))
			require.NoError(t, err)
			assert.Equal(t, tc.clang, got, "clang")
		})
	}
}

func TestSplitWindows(t *testing.T) {
	for _, tc := range windowsCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitWindows([]byte(tc.text))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// writeFiles creates files (name -> contents) under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
}

func TestExpandResponseFiles(t *testing.T) {
	deep := map[string]string{}
	for i := 0; i < maxResponseDepth+1; i++ {
		deep[fmt.Sprintf("d%d.rsp", i)] = fmt.Sprintf("-DL%d @d%d.rsp", i, i+1)
	}
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		q     Quoting
		want  []string
		err   error  // errors.Is target
		msg   string // substring of the error
	}{
		{name: "no response file", args: []string{"-c", "a.c"}, q: QuotingGCC, want: []string{"-c", "a.c"}},
		{name: "in place",
			files: map[string]string{"f.rsp": "-O2 -DX=1\n"},
			args:  []string{"-c", "@f.rsp", "a.c"}, q: QuotingGCC,
			want: []string{"-c", "-O2", "-DX=1", "a.c"}},
		{name: "nested names resolve against the working directory, not the including file",
			files: map[string]string{"sub/outer.rsp": "-DX=1 @inner.rsp", "inner.rsp": "-DY=cwd", "sub/inner.rsp": "-DY=sub"},
			args:  []string{"@sub/outer.rsp"}, q: QuotingGCC,
			want: []string{"-DX=1", "-DY=cwd"}},
		{name: "nested for clang too",
			files: map[string]string{"sub/outer.rsp": "-DX=1 @inner.rsp", "inner.rsp": "-DY=cwd"},
			args:  []string{"@sub/outer.rsp"}, q: QuotingClang,
			want: []string{"-DX=1", "-DY=cwd"}},
		{name: "missing file stays literal",
			args: []string{"-c", "@missing.rsp", "a.c"}, q: QuotingGCC,
			want: []string{"-c", "@missing.rsp", "a.c"}},
		{name: "missing nested file stays literal",
			files: map[string]string{"outer.rsp": "-DX @nope"},
			args:  []string{"@outer.rsp"}, q: QuotingGCC,
			want: []string{"-DX", "@nope"}},
		{name: "lone @ stays literal", args: []string{"@"}, q: QuotingGCC, want: []string{"@"}},
		{name: "empty file expands to nothing",
			files: map[string]string{"e.rsp": "  \n"},
			args:  []string{"-c", "@e.rsp", "a.c"}, q: QuotingGCC,
			want: []string{"-c", "a.c"}},
		{name: "a directory is an error, as in gcc",
			files: map[string]string{"d/x": ""},
			args:  []string{"@d"}, q: QuotingGCC,
			err: ErrResponseFileInvalid, msg: "@d: response file not usable: it is a directory"},
		{name: "self-inclusion",
			files: map[string]string{"a.rsp": "-DA @a.rsp"},
			args:  []string{"@a.rsp"}, q: QuotingGCC,
			err: ErrResponseFileCycle, msg: "@a.rsp: response file includes itself (@a.rsp -> @a.rsp)"},
		{name: "cycle through another file",
			files: map[string]string{"a.rsp": "@b.rsp", "b.rsp": "@./a.rsp"},
			args:  []string{"-c", "@a.rsp"}, q: QuotingClang,
			err: ErrResponseFileCycle, msg: "@./a.rsp: response file includes itself (@a.rsp -> @b.rsp -> @./a.rsp)"},
		{name: "the same file twice is not a cycle",
			files: map[string]string{"a.rsp": "@b.rsp @b.rsp", "b.rsp": "-DB"},
			args:  []string{"@a.rsp"}, q: QuotingGCC,
			want: []string{"-DB", "-DB"}},
		{name: "too deep",
			files: deep, args: []string{"@d0.rsp"}, q: QuotingGCC,
			err: ErrResponseFileLimit, msg: "nested more than 64 deep"},
		{name: "gcc's limit of 2000 @-arguments counts literal ones too",
			args: strings.Fields(strings.Repeat("@missing ", maxResponseFiles)), q: QuotingGCC,
			err: ErrResponseFileLimit, msg: "@missing: response file expansion exceeds a limit: 2000 @-files"},
		{name: "windows quoting",
			files: map[string]string{"w.rsp": `/c "a b.c" /Fo"out dir\\"`},
			args:  []string{"@w.rsp"}, q: QuotingWindows,
			want: []string{"/c", "a b.c", `/Foout dir\`}},
		{name: "cl.exe does not nest response files",
			files: map[string]string{"w.rsp": "/c @x.rsp", "x.rsp": "/DX"},
			args:  []string{"@w.rsp"}, q: QuotingWindows,
			err: ErrResponseFileInvalid, msg: "@w.rsp: response file not usable: names @x.rsp, and cl.exe does not read a response file inside another"},
		{name: "odd names are quoted so that errors stay on one line",
			files: map[string]string{"w.rsp": "/c \"@x\ny z\""},
			args:  []string{"@w.rsp"}, q: QuotingWindows,
			err: ErrResponseFileInvalid, msg: `@w.rsp: response file not usable: names "@x\ny z", and cl.exe`},
		{name: "/link in a cl response file is line-bound",
			files: map[string]string{"w.rsp": "/c a.c /link /DEBUG\n/DX"},
			args:  []string{"@w.rsp"}, q: QuotingWindows,
			err: ErrResponseFileInvalid, msg: "/link in a response file ends at the end of its line"},
		{name: "clang-cl --rsp-quoting=posix",
			files: map[string]string{"w.rsp": `/D'a b' /Dc\ d`},
			args:  []string{"--rsp-quoting=posix", "@w.rsp"}, q: QuotingWindows,
			want: []string{"--rsp-quoting=posix", "/Da b", "/Dc d"}},
		{name: "clang --rsp-quoting=windows",
			files: map[string]string{"w.rsp": `-D'a b'`},
			args:  []string{"@w.rsp", "--rsp-quoting=windows"}, q: QuotingClang,
			want: []string{"-D'a", "b'", "--rsp-quoting=windows"}},
		{name: "clang --driver-mode=cl reads Windows syntax",
			files: map[string]string{"w.rsp": `/D'a b'`},
			args:  []string{"--driver-mode=cl", "@w.rsp"}, q: QuotingClang,
			want: []string{"--driver-mode=cl", "/D'a", "b'"}},
		{name: "gcc has no --rsp-quoting",
			files: map[string]string{"w.rsp": `-D'a b'`},
			args:  []string{"--rsp-quoting=windows", "@w.rsp"}, q: QuotingGCC,
			want: []string{"--rsp-quoting=windows", "-Da b"}},
		{name: "quoting error names the file",
			files: map[string]string{"w.rsp": `/c "a.c`},
			args:  []string{"@w.rsp"}, q: QuotingWindows,
			err: ErrResponseFileInvalid, msg: "@w.rsp: response file not usable: unterminated quote"},
		{name: "unknown quoting", args: []string{"@x"}, q: Quoting(9), msg: "unknown response-file quoting Quoting(9)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			got, err := ExpandResponseFiles(tc.args, dir, tc.q)
			if tc.msg != "" {
				require.Error(t, err)
				if tc.err != nil {
					assert.ErrorIs(t, err, tc.err)
				}
				assert.Contains(t, err.Error(), tc.msg)
				assert.NotContains(t, err.Error(), "\n", "errors are one line")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestExpandResponseFilesAbsoluteAndEmptyDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f.rsp": "-DABS"})
	got, err := ExpandResponseFiles([]string{"@" + filepath.Join(dir, "f.rsp")}, "/nonexistent", QuotingGCC)
	require.NoError(t, err)
	assert.Equal(t, []string{"-DABS"}, got)

	t.Chdir(dir)
	got, err = ExpandResponseFiles([]string{"@f.rsp"}, "", QuotingGCC)
	require.NoError(t, err)
	assert.Equal(t, []string{"-DABS"}, got, "an empty dir means the process's working directory")
}

func TestExpandResponseFilesLimits(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("-DXXXXXXXXXXXXXXX "), maxResponseBytes/18+1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.rsp"), big, 0o644))
	_, err := ExpandResponseFiles([]string{"@big.rsp"}, dir, QuotingGCC)
	assert.ErrorIs(t, err, ErrResponseFileLimit)
	assert.ErrorContains(t, err, "@big.rsp: ")

	// Fan-out: each file names the next one eight times; bytes and counts stay bounded.
	for i := 0; i < 12; i++ {
		text := strings.Repeat(fmt.Sprintf("@f%d.rsp ", i+1), 8)
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.rsp", i)), []byte(text), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f12.rsp"), []byte("-DLEAF"), 0o644))
	_, err = ExpandResponseFiles([]string{"@f0.rsp"}, dir, QuotingClang)
	assert.ErrorIs(t, err, ErrResponseFileLimit)

	many := bytes.Repeat([]byte("x "), maxExpandedArgs/2+1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "many.rsp"), many, 0o644))
	args, err := ExpandResponseFiles([]string{"@many.rsp", "@many.rsp"}, dir, QuotingGCC)
	assert.ErrorIs(t, err, ErrResponseFileLimit)
	assert.ErrorContains(t, err, "@many.rsp: response file expansion exceeds a limit: more than 1048576 arguments")
	assert.Nil(t, args)
}

func TestQuotingFor(t *testing.T) {
	tests := []struct {
		f    Family
		want Quoting
		name string
	}{
		{FamilyGCC, QuotingGCC, "gcc"},
		{FamilyClang, QuotingClang, "clang"},
		{FamilyMSVC, QuotingWindows, "windows"},
		{FamilyUnknown, QuotingGCC, "gcc"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, QuotingFor(tc.f), tc.f)
		assert.Equal(t, tc.name, QuotingFor(tc.f).String())
	}
}

// realDefines runs a compiler in dir on a.c plus the argument rsp (an @-file)
// and returns the -D values its compiler proper received, in order.
func realDefines(t *testing.T, compiler, dir, rsp string) []string {
	t.Helper()
	gcc := strings.HasPrefix(compiler, "gcc")
	var cmd *exec.Cmd
	if gcc {
		// -wrapper runs the given program in front of cc1; it prints cc1's argv.
		cmd = exec.Command(compiler, "-wrapper", `/bin/sh,-c,printf '%s\0' "$@",sh`, "-fsyntax-only", "a.c", rsp)
	} else {
		cmd = exec.Command(compiler, "-###", "-c", "a.c", rsp)
	}
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput() // the tables include commands the compiler rejects
	var args []string
	if gcc {
		args = strings.Split(string(out), "\x00")
	} else {
		args = clangCC1Args(t, string(out))
	}
	var defs []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-D" {
			defs = append(defs, args[i+1])
		}
	}
	return defs
}

// realDefinesOfText is realDefines on a scratch directory whose c.rsp holds text.
func realDefinesOfText(t *testing.T, compiler string, text string) []string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.c": "int x;\n", "c.rsp": text})
	return realDefines(t, compiler, dir, "@c.rsp")
}

var clangArgRE = regexp.MustCompile(`(?s)"((?:[^"\\]|\\.)*)"`)
var clangEscRE = regexp.MustCompile(`(?s)\\(.)`)

// clangCC1Args reads the -cc1 command line that clang -### prints: each argument
// in double quotes, with ", \ and $ escaped by a backslash (arguments may hold
// newlines, so the line runs to the end of the output).
func clangCC1Args(t *testing.T, out string) []string {
	i := strings.Index(out, `"-cc1"`)
	if i < 0 {
		t.Fatalf("no -cc1 line in clang output:\n%s", out)
	}
	i = strings.LastIndex(out[:i], "\n") + 1
	var args []string
	for _, m := range clangArgRE.FindAllStringSubmatch(out[i:], -1) {
		args = append(args, clangEscRE.ReplaceAllString(m[1], "$1"))
	}
	return args
}

// definesOf keeps the values of the arguments that start with prefix.
func definesOf(args []string, prefix string) []string {
	var defs []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, prefix); ok {
			defs = append(defs, v)
		}
	}
	return defs
}

func needCompiler(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
}

// TestSplitMatchesRealCompilers checks the tables against gcc, clang and clang-cl.
func TestSplitMatchesRealCompilers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real compilers")
	}
	t.Run("gcc", func(t *testing.T) {
		needCompiler(t, "gcc")
		for _, tc := range gnuCases {
			assert.Equal(t, definesOf(tc.gcc, "-D"), realDefinesOfText(t, "gcc", tc.text), tc.name)
		}
	})
	t.Run("clang", func(t *testing.T) {
		needCompiler(t, "clang")
		for _, tc := range gnuCases {
			assert.Equal(t, definesOf(tc.clang, "-D"), realDefinesOfText(t, "clang", tc.text), tc.name)
		}
	})
	t.Run("clang-cl", func(t *testing.T) {
		needCompiler(t, "clang-cl-14")
		for _, tc := range windowsCases {
			if tc.err != "" {
				continue
			}
			assert.Equal(t, definesOf(tc.want, "/D"), realDefinesOfText(t, "clang-cl-14", tc.text), tc.name)
		}
	})
}

// TestNestedResolutionMatchesRealCompilers runs gcc and clang on a nested
// response file whose inner name exists both next to it and in the working
// directory: both compilers take the working directory's.
func TestNestedResolutionMatchesRealCompilers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real compilers")
	}
	for _, compiler := range []string{"gcc", "clang"} {
		t.Run(compiler, func(t *testing.T) {
			needCompiler(t, compiler)
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{
				"a.c": "int x;\n", "sub/outer.rsp": "-DX=1 @inner.rsp",
				"inner.rsp": "-DY=cwd", "sub/inner.rsp": "-DY=sub",
			})
			q := QuotingGCC
			if compiler == "clang" {
				q = QuotingClang
			}
			want, err := ExpandResponseFiles([]string{"@sub/outer.rsp"}, dir, q)
			require.NoError(t, err)
			assert.Equal(t, definesOf(want, "-D"), realDefines(t, compiler, dir, "@sub/outer.rsp"))
		})
	}
}
