package compile

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDependencyPrerequisites(t *testing.T) {
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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := dependencyPrerequisites([]byte(tc.deps))
			assert.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

func TestDirectIncludes(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string
		ok   bool
	}{
		{"quoted and angled", "#include \"a.h\"\n#include <stdio.h>\nint x;\n", []string{"a.h", "stdio.h"}, true},
		{"blanks around the hash", "  #  include\t\"sub/b.h\"\n", []string{"sub/b.h"}, true},
		{"include_next and import", "#include_next <c.h>\n#import \"d.h\"\n", []string{"c.h", "d.h"}, true},
		{"other directives", "#define X 1\n#ifdef X\n#endif\nint y;\n", nil, true},
		{"macro", "#define H \"a.h\"\n#include H\n", nil, false},
		{"unterminated", "#include \"a.h\n", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := directIncludes([]byte(tc.src))
			assert.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

// FuzzDependencyPrerequisites: any bytes (a dependency file is written by
// the compiler, but a broken or hostile one must not crash the daemon).
func FuzzDependencyPrerequisites(f *testing.F) {
	for _, s := range []string{"x.o: x.c a.h\n", "a\\ b: c\\\n d\n", "$$: $$$\n", ":", "\\"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		names, ok := dependencyPrerequisites(data)
		if !ok {
			assert.Empty(t, names)
		}
		for _, n := range names {
			assert.NotEmpty(t, n)
		}
	})
}

func TestWithin(t *testing.T) {
	cases := []struct {
		p, dir, rel string
		ok          bool
	}{
		{"/usr/include/stdio.h", "/usr/include", "stdio.h", true},
		{"/usr/include/sys/types.h", "/usr/include", "sys/types.h", true},
		{"/usr/includes/x.h", "/usr/include", "", false},
		{"/usr/include", "/usr/include", "", false},
		{"/usr/lib/x.h", "/usr/include", "", false},
		{"/x.h", "/", "x.h", true},
	}
	for _, tc := range cases {
		rel, ok := within(tc.p, tc.dir)
		assert.Equal(t, tc.ok, ok, "%s in %s", tc.p, tc.dir)
		assert.Equal(t, tc.rel, rel, "%s in %s", tc.p, tc.dir)
	}
}
