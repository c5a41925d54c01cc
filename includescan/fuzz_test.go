package includescan

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzScan checks that Scan never panics, that an error is of one of the two
// kinds and names a line, and that every directive has a one-line name and a
// line number within the file.
func FuzzScan(f *testing.F) {
	for _, seed := range []string{
		"#include <a.h>\n#include \"b.h\"\n",
		"%:include_next <a.h>\r\n#import \"x\"\r",
		"#inc\\\nlude <a.h>\n#include \"a\\\n.h\"\n",
		"# /* c */ include /* c */ \"a.h\" // x\n",
		"/* #include <x.h> */ // #include <y.h>\n\"#include <z.h>\" '\"'\n",
		"#if __has_include(<a.h>) && __has_include_next ( \"b.h\" ) && defined(__has_include)\n",
		"#define H __has_include\n#define X <a.h>\n#include X\n",
		"auto s = u8R\"d(\n#include \"x\"\n/*)d\"; 1'000 '/*'\n",
		"_Pragma(\"GCC dependency \\\"x\\\"\")\n#pragma GCC dependency \"y\"\n#embed <z>\n",
		"??=include <a.h>\n#include <a??/b.h>\nimport <v>;\n@import F;\n",
		"#error don't /* \n#include <a.h>\n",
		"#ifdef __has_include\n#define __has_include(x) 0\n#endif\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// ScanFile reports what Scan does, plus macro includes and
		// definitions, with names that are whole identifiers.
		if file, err := ScanFile(src); err == nil {
			for _, d := range file.Directives {
				if d.Macro && (d.Name == "" || strings.ContainsAny(d.Name, " \t\r\n\"<")) {
					t.Fatalf("bad macro name %q", d.Name)
				}
			}
			for _, d := range file.Definitions {
				if d.Literal && (d.Value.Name == "" || strings.ContainsAny(d.Value.Name, "\r\n")) {
					t.Fatalf("bad definition %+v", d)
				}
			}
		}
		ds, err := Scan(src)
		if err != nil {
			if ds != nil {
				t.Fatalf("directives with error %v", err)
			}
			if !errors.Is(err, ErrComputed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error of no kind: %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "includescan: line ") || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("bad error message %q", msg)
			}
			return
		}
		// Lines end in LF, CR LF or a lone CR.
		lines := bytes.Count(src, []byte{'\n'}) + bytes.Count(src, []byte{'\r'}) - bytes.Count(src, []byte("\r\n"))
		last := 1
		for _, d := range ds {
			if d.Name == "" || strings.ContainsAny(d.Name, "\r\n") {
				t.Fatalf("bad name %q", d.Name)
			}
			if d.Line < 1 || d.Line > lines+1 {
				t.Fatalf("line %d out of 1..%d", d.Line, lines+1)
			}
			if d.Line < last {
				t.Fatalf("line %d after line %d", d.Line, last)
			}
			last = d.Line
		}
	})
}
