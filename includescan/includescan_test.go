package includescan

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// q and a build expected directives: q for "name", a for <name>.
func q(name string, line int) Directive { return Directive{Name: name, Line: line} }
func a(name string, line int) Directive { return Directive{Name: name, Angle: true, Line: line} }

func next(d Directive) Directive  { d.Next = true; return d }
func probe(d Directive) Directive { d.Probe = true; return d }

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Directive
	}{
		{"empty", "", nil},
		{"no directives", "int main(void) { return 0; }\n", nil},
		{"quote", `#include "a.h"` + "\n", []Directive{q("a.h", 1)}},
		{"angle", "#include <sys/types.h>\n", []Directive{a("sys/types.h", 1)}},
		{"no newline at end", `#include "a.h"`, []Directive{q("a.h", 1)}},
		{"no space", `#include"a.h"` + "\n#include<b.h>\n", []Directive{q("a.h", 1), a("b.h", 2)}},
		{"indented", "  \t#  include <a.h>\n", []Directive{a("a.h", 1)}},
		{"line numbers", "int x;\n\n#include <a.h>\nint y;\n#include \"b.h\"\n",
			[]Directive{a("a.h", 3), q("b.h", 5)}},
		{"include_next", "#include_next <limits.h>\n", []Directive{next(a("limits.h", 1))}},
		{"import", "#import <Foundation/Foundation.h>\n#import \"x.h\"\n",
			[]Directive{a("Foundation/Foundation.h", 1), q("x.h", 2)}},
		{"clang __include_macros", "#__include_macros \"m.h\"\n", []Directive{q("m.h", 1)}},
		{"digraph", "%:include <a.h>\n  %: include_next \"b.h\"\n",
			[]Directive{a("a.h", 1), next(q("b.h", 2))}},
		{"digraph ## is not a directive", "%:%:include <a.h>\n", nil},
		{"## is not a directive", "##include <a.h>\n# #include <b.h>\n", nil},
		{"name verbatim", `#include "a\b//c/*d.h"` + "\n#include <x\"y'z>\n",
			[]Directive{q(`a\b//c/*d.h`, 1), a(`x"y'z`, 2)}},
		{"spaces kept in name", "#include < a.h >\n", []Directive{a(" a.h ", 1)}},
		{"empty name skipped", "#include \"\"\n#include <>\n", nil},
		{"extra tokens after name", "#include <a.h> extra // c\n#include \"b.h\" X\n",
			[]Directive{a("a.h", 1), q("b.h", 2)}},
		{"not at start of line", "int x; #include <a.h>\n", nil},
		{"other directive names", "#includes <a.h>\n#define include <b.h>\n#if 0\n#endif\n", nil},
		{"spliced directive name", "#inc\\\nlude <a.h>\n#include <b.h>\n",
			[]Directive{a("a.h", 1), a("b.h", 3)}},
		{"spliced before name", "#\\\n  include \\\n <a.h>\n", []Directive{a("a.h", 1)}},
		{"splice with trailing blanks", "#inc\\  \nlude <a.h>\n", []Directive{a("a.h", 1)}},
		{"spliced hash", "\\\n#include <a.h>\n", []Directive{a("a.h", 2)}},
		{"splice joins to previous line", "int x; \\\n#include <a.h>\n", nil},
		{"splice in name", "#include \"a\\\n.h\"\n", []Directive{q("a.h", 1)}},
		{"spliced CRLF", "#inc\\\r\nlude <a.h>\r\n", []Directive{a("a.h", 1)}},
		{"comments around", `# /* c */ include /* c */ "a.h" /* c */` + "\n", []Directive{q("a.h", 1)}},
		{"comment before hash", "/* c */ #include <a.h>\n", []Directive{a("a.h", 1)}},
		{"multi-line comment in directive", "#include /* x\n */ <a.h>\n", []Directive{a("a.h", 1)}},
		{"hash after multi-line comment is no directive", "x /* c\n */ #include <a.h>\n", nil},
		{"in block comment (not reported)", "/*\n#include <a.h>\n*/\n#include <b.h>\n", []Directive{a("b.h", 4)}},
		{"comment close across splice", "/* *\\\n/\n#include <a.h>\n", []Directive{a("a.h", 3)}},
		{"slash star slash is no close", "/*/ #include <x.h>\n*/\n#include <a.h>\n", []Directive{a("a.h", 3)}},
		{"unterminated comment", "/* \n#include <a.h>\n", nil},
		{"in line comment", "// #include <x.h>\n#include <a.h>\n", []Directive{a("a.h", 2)}},
		{"line comment continued by splice", "// c \\\n#include <x.h>\n#include <a.h>\n", []Directive{a("a.h", 3)}},
		{"in string on other line", "const char *s = \"\\n#include <x.h>\";\nputs(\"/*\");\n#include <a.h>\n",
			[]Directive{a("a.h", 3)}},
		{"escaped quote", "s = \"\\\" /* \";\n#include <a.h>\n", []Directive{a("a.h", 2)}},
		{"char literal quote", "c = '\"'; d = '\\''; /* \"\n*/\n#include <a.h>\n", []Directive{a("a.h", 3)}},
		{"unterminated char ends at line end", "#if 0\nit's /* not a comment\n#include <a.h>\n#endif\n",
			[]Directive{a("a.h", 3)}},
		{"#error taken verbatim", "#error x /* y\n#include <a.h>\n*/\n", []Directive{a("a.h", 2)}},
		{"digit separators", "int x = 1'000; c = '/*';\n#include <a.h>\n// */\n", []Directive{a("a.h", 2)}},
		{"digit separator: comment for C++, not C", "x = 1'0x /*\n#include <a.h>\n*/\n", []Directive{a("a.h", 2)}},
		{"digit separator: raw string for C++, not C", "x = 1'0; s = R\"(\n#include <a.h>\n)\";\n", []Directive{a("a.h", 2)}},
		{"digit separator: comment for C, not C++", "x = 1'000; s = \"it's /* not\";\n#include <a.h>\n", []Directive{a("a.h", 2)}},
		{"digit separator: comment for both", "x = 1'0'0; /*\n#include <x.h>\n*/\n#include <a.h>\n", []Directive{a("a.h", 4)}},
		{"digit separator: comment on a later line", "x = 1'0; /*\n*/ y; /*\n#include <x.h>\n*/\n", nil},
		{"raw string", "auto s = R\"(\n#include \"x.h\"\n/* )\";\n#include <a.h>\n",
			[]Directive{a("a.h", 4)}},
		{"raw string delimiter", "auto s = u8R\"d(\n)\"\n#include \"x.h\"\n)d\";\n#include <a.h>\n",
			[]Directive{a("a.h", 5)}},
		{"raw string prefixes", "LR\"(/*)\" uR\"(/*)\" UR\"(/*)\";\n#include <a.h>\n",
			[]Directive{a("a.h", 2)}},
		{"not a raw string prefix", "xR\"(\n#include <a.h>\n", []Directive{a("a.h", 2)}},
		{"unterminated raw string", "R\"(\n#include <a.h>\n", []Directive{a("a.h", 2)}},
		{"raw string in directive ends at line end for gcc", "#define X R\"(\n#include <a.h>\n)\"\n",
			[]Directive{a("a.h", 2)}},
		{"raw string in directive ending on its line", "#define X R\"(/*)\"\n#include <a.h>\n",
			[]Directive{a("a.h", 2)}},
		{"bad raw delimiter", "R\"a b(\n#include <a.h>\n)a b\"\n", []Directive{a("a.h", 2)}},
		{"pragma once ignored", "#pragma once\n#pragma GCC system_header\n_Pragma(\"once\")\n", nil},
		{"CRLF", "#include <a.h>\r\n// c\r\n#include \"b.h\"\r\n", []Directive{a("a.h", 1), q("b.h", 3)}},
		{"lone CR ends lines", "#include <a.h>\r#include \"b.h\"\r", []Directive{a("a.h", 1), q("b.h", 2)}},
		{"line comment ends at CR", "// c\r#include <a.h>\r", []Directive{a("a.h", 2)}},
		{"include in #if 0 reported", "#if 0\n#include <a.h>\n#endif\n", []Directive{a("a.h", 2)}},

		{"has_include angle", "#if __has_include(<a.h>)\n#endif\n", []Directive{probe(a("a.h", 1))}},
		{"has_include quote with spaces", "#if __has_include ( \"a.h\" )\n", []Directive{probe(q("a.h", 1))}},
		{"has_include old spelling", "#if __has_include__(<a.h>) || __has_include_next__(\"b.h\")\n",
			[]Directive{probe(a("a.h", 1)), next(probe(q("b.h", 1)))}},
		{"has_include_next", "#elif __has_include_next(<a.h>)\n", []Directive{next(probe(a("a.h", 1)))}},
		{"has_include with comments and splice", "#if __has_include /* c */ (\\\n <a.h> /**/ )\n",
			[]Directive{probe(a("a.h", 1))}},
		{"has_include line", "int x;\n#if defined(__has_include) && __has_include(<a.h>)\n",
			[]Directive{probe(a("a.h", 2))}},
		{"has_include in define body",
			"# define _GLIBCXX_USE_TBB_PAR_BACKEND __has_include(<tbb/tbb.h>)\n",
			[]Directive{probe(a("tbb/tbb.h", 1))}},
		{"has_include in code", "int x = __has_include(\"a.h\");\n", []Directive{probe(q("a.h", 1))}},
		{"ifdef has_include", "#ifdef __has_include\n#ifndef __has_include_next\n#endif\n#endif\n", nil},
		{"defined has_include", "#if defined __has_include && defined ( __has_include_next )\n", nil},
		{"defined(has_include)", "#if defined(__has_include)\n#endif\n", nil},
		{"define has_include fallback", "#ifndef __has_include\n#define __has_include(x) 0\n#undef __has_include\n#endif\n", nil},
		{"has_include in comment and string", "/* __has_include(X) */ \"__has_include(X)\" // __has_include(X)\n", nil},
		{"other identifiers", "__has_include_foo(X) x__has_include(X) __has_includes(X)\n", nil},
		{"has_include in pp-number", "1__has_include(X) 0x__has_include(X)\n", nil},
		{"has_include empty name", "__has_include(\"\")\n", nil},
		{"has_embed when defined", "#ifdef __has_embed\n#if defined(__has_embed)\n#endif\n#endif\n", nil},
		{"import name not at line start", "int import <a.h>;\n", nil},
		{"GCC without dependency", "#pragma GCC diagnostic push\n#pragma GCC poison x\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Scan([]byte(tt.src))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want error
		msg  string // substring of the error message
	}{
		{"macro", "#define X <a.h>\n#include X\n", ErrComputed, "line 2: #include followed by \"X\""},
		{"nothing", "int x;\n#include\n", ErrComputed, "line 2: #include followed by end of line"},
		{"nothing at EOF", "#include", ErrComputed, "line 1:"},
		{"number", "#include 3\n", ErrComputed, "line 1:"},
		{"include_next macro", "#include_next NAME\n", ErrComputed, "#include_next followed by"},
		{"import macro", "#import NAME\n", ErrComputed, "#import followed by"},
		{"unterminated quote", "#include \"a.h\n", ErrComputed, "line 1:"},
		{"unterminated angle", "#include <a.h\n", ErrComputed, "line 1:"},
		{"angle closed on next line", "#include <a.h\n>\n", ErrComputed, "line 1:"},
		{"wide string", "#include L\"a.h\"\n", ErrComputed, "line 1:"},
		{"in #if 0", "#if 0\n#include FOO\n#endif\n", ErrComputed, "line 2:"},
		{"digraph macro", "%:include FOO\n", ErrComputed, "line 1:"},
		{"spliced line number", "\n#inc\\\nlude X\n", ErrComputed, "line 2:"},
		{"has_include macro", "#if __has_include(X)\n", ErrComputed, "line 1: __has_include operand \"X)\""},
		{"has_include_next macro", "#if __has_include_next(X)\n", ErrComputed, "__has_include_next operand"},
		{"has_include function macro", "#define HAS(x) __has_include(x)\n", ErrComputed, "line 1:"},
		{"has_include alias", "#define H __has_include\n#if H(<a.h>)\n", ErrComputed, "line 1: __has_include not followed by ("},
		{"has_include missing paren", "#if __has_include(<a.h>\n", ErrComputed, "line 1:"},
		{"has_include on next line", "#if __has_include(\n<a.h>)\n", ErrComputed, "line 1:"},
		{"has_include operand after defined elsewhere", "#if defined X || __has_include\n", ErrComputed, "line 1:"},
		{"pragma dependency", "#pragma GCC dependency \"parse.y\"\n", ErrUnsupported, "line 1: #pragma GCC dependency"},
		{"pragma dependency spaced", "# pragma /**/ GCC \\\n dependency \"parse.y\"\n", ErrUnsupported, "line 1:"},
		{"pragma pch_preprocess", "#pragma GCC pch_preprocess \"a.gch\"\n", ErrUnsupported, "line 1:"},
		{"pragma include_alias", "#pragma include_alias(<a.h>, <b.h>)\n", ErrUnsupported, "line 1:"},
		{"pragma clang module", "#pragma clang module import std\n", ErrUnsupported, "line 1:"},
		{"_Pragma dependency", "int x;\n_Pragma(\"GCC dependency \\\"a.y\\\"\")\n", ErrUnsupported, "line 2: _Pragma"},
		{"_Pragma spaced", "_Pragma ( \"  GCC \t dependency x\" )\n", ErrUnsupported, "line 1:"},
		{"_Pragma wide", "_Pragma(L\"GCC dependency x\")\n", ErrUnsupported, "line 1:"},
		{"_Pragma raw", "_Pragma(R\"(GCC dependency \"x\")\")\n", ErrUnsupported, "line 1:"},
		{"_Pragma spliced", "_Pragma(\"GCC depen\\\ndency x\")\n", ErrUnsupported, "line 1:"},
		{"_Pragma in define", "#define D _Pragma(\"GCC dependency \\\"a.y\\\"\")\n", ErrUnsupported, "line 1:"},
		{"GCC dependency via stringizing", "#define P(x) _Pragma(#x)\nP(GCC dependency \"a.y\")\n", ErrUnsupported, "line 2: GCC dependency"},
		{"embed", "#embed \"a.bin\"\n", ErrUnsupported, "line 1: #embed"},
		{"has_embed", "#if __has_embed(\"a.bin\")\n", ErrUnsupported, "line 1: __has_embed"},
		{"trigraph include", "??=include <a.h>\n", ErrUnsupported, "line 1: trigraph"},
		{"trigraph include_next", "\n\n  ??= include_next <a.h>\n", ErrUnsupported, "line 3:"},
		{"trigraph import", "??=\timport <a.h>\n", ErrUnsupported, "line 1:"},
		{"trigraph in name", "#include \"a??/b.h\"\n", ErrUnsupported, "line 1: trigraph in file name"},
		{"header unit import", "import <vector>;\n", ErrUnsupported, "line 1: import"},
		{"export import", "export import \"a.h\";\n", ErrUnsupported, "line 1: import"},
		{"objc @import", "@import Foundation;\n", ErrUnsupported, "line 1: @import"},
		{"first error wins", "#include X\n#embed \"y\"\n", ErrComputed, "line 1:"},
		{"CRLF line", "int x;\r\n\r\n#include X\r\n", ErrComputed, "line 3:"},
		{"lone CR line", "int x;\r\r#include X\r", ErrComputed, "line 3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Scan([]byte(tt.src))
			require.Error(t, err)
			assert.Nil(t, got)
			assert.ErrorIs(t, err, tt.want)
			other := ErrUnsupported
			if tt.want == ErrUnsupported {
				other = ErrComputed
			}
			assert.NotErrorIs(t, err, other)
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "includescan: line "), err.Error())
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// TestTrigraphOthersIgnored checks that other ?? sequences are not refused.
func TestTrigraphOthersIgnored(t *testing.T) {
	got, err := Scan([]byte("// what??! ??= define x ??/ ??(\n??=define X 1\n#include <a.h>\n"))
	require.NoError(t, err)
	assert.Equal(t, []Directive{a("a.h", 3)}, got)
}

func TestScanAllocs(t *testing.T) {
	src := []byte(strings.Repeat("/* comment */\n#include <a.h>\n#if __has_include(\"b.h\")\n#define X(a) a ## 1 'c' \"s\"\n#endif\n", 50))
	allocs := testing.AllocsPerRun(20, func() {
		d, err := Scan(src)
		if err != nil || len(d) != 100 {
			t.Fatal(len(d), err)
		}
	})
	// 100 names, and the result slice growing by doubling.
	assert.LessOrEqual(t, allocs, float64(100+12))
}

// systemHeaders returns the regular files under /usr/include, at most max
// and none over 1 MiB, skipping the test when there are none.
func systemHeaders(t testing.TB, max int) []string {
	const root = "/usr/include"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("%s: %v", root, err)
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable directory: skip it
		}
		if len(files) >= max {
			return filepath.SkipAll
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil && info.Size() <= 1<<20 {
				files = append(files, path)
			}
		}
		return nil
	})
	require.NoError(t, err)
	if len(files) == 0 {
		t.Skipf("no files under %s", root)
	}
	return files
}

func TestSystemHeaders(t *testing.T) {
	files := systemHeaders(t, 20000)
	var computed, unsupported, names int
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		d, err := Scan(src)
		switch {
		case errors.Is(err, ErrComputed):
			computed++
			t.Log(path, err)
		case errors.Is(err, ErrUnsupported):
			unsupported++
			t.Log(path, err)
		case err != nil:
			t.Errorf("%s: error of no kind: %v", path, err)
		}
		for _, x := range d {
			assert.NotEmpty(t, x.Name)
			assert.NotContains(t, x.Name, "\n")
		}
		names += len(d)
	}
	t.Logf("%d files, %d names, %d ErrComputed, %d ErrUnsupported", len(files), names, computed, unsupported)
}

// naiveIncludes finds the lines "# include <name>" or "# include "name""
// of a file without splices, comments in directives or tricks.
func naiveIncludes(src string) []Directive {
	var out []Directive
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimLeft(line, " \t")
		rest, ok := strings.CutPrefix(line, "#")
		if !ok {
			continue
		}
		rest, ok = strings.CutPrefix(strings.TrimLeft(rest, " \t"), "include")
		if !ok {
			continue
		}
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" || (rest[0] != '<' && rest[0] != '"') {
			continue
		}
		end := ">"
		if rest[0] == '"' {
			end = `"`
		}
		name, _, _ := strings.Cut(rest[1:], end)
		out = append(out, Directive{Name: name, Angle: rest[0] == '<', Line: i + 1})
	}
	return out
}

func TestKnownHeaders(t *testing.T) {
	for path, want := range map[string][]string{
		"/usr/include/stdio.h":  {"bits/libc-header-start.h", "stddef.h"},
		"/usr/include/stdlib.h": {"bits/libc-header-start.h", "stddef.h"},
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Skip(err)
			}
			d, err := Scan(src)
			require.NoError(t, err)
			assert.Equal(t, naiveIncludes(string(src)), d)
			var got []string
			for _, x := range d {
				got = append(got, x.Name)
			}
			for _, w := range want {
				assert.Contains(t, got, w)
			}
			t.Logf("%s: %v", path, got)
		})
	}
}

func BenchmarkScan(b *testing.B) {
	var srcs [][]byte
	var size int64
	for _, path := range []string{
		"/usr/include/stdlib.h", "/usr/include/stdio.h", "/usr/include/unistd.h",
		"/usr/include/string.h", "/usr/include/x86_64-linux-gnu/sys/socket.h",
		"/usr/include/c++/12/bits/stl_vector.h", "/usr/include/c++/12/bits/basic_string.h",
	} {
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		srcs = append(srcs, src)
		size += int64(len(src))
	}
	if len(srcs) == 0 {
		b.Skip("no headers under /usr/include")
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, src := range srcs {
			if _, err := Scan(src); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkScanSystemHeaders(b *testing.B) {
	files := systemHeaders(b, 3000)
	var srcs [][]byte
	var size int64
	for _, path := range files {
		if src, err := os.ReadFile(path); err == nil {
			srcs = append(srcs, src)
			size += int64(len(src))
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, src := range srcs {
			_, _ = Scan(src)
		}
	}
}
