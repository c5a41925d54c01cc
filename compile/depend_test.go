package compile

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

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
