package compile

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitDriverLine(t *testing.T) {
	cases := []struct {
		line string
		want []string
		ok   bool
	}{
		{`/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet u1.c "-mtune=generic" -O2`, []string{"/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-E", "-quiet", "u1.c", "-mtune=generic", "-O2"}, true},
		{`cc1 -D "A=a b" -D "Q=\"q\\\"x\""`, []string{"cc1", "-D", "A=a b", "-D", `Q="q\"x"`}, true},
		{`cc1 "unterminated`, nil, false},
		{``, nil, true},
	}
	for _, tc := range cases {
		got, ok := splitDriverLine(tc.line)
		assert.Equal(t, tc.ok, ok, tc.line)
		if tc.ok {
			assert.Equal(t, tc.want, got, tc.line)
		}
	}
}

func TestParseCC1Template(t *testing.T) {
	shown := "Using built-in specs.\nCOLLECT_GCC=gcc\n" +
		` /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet -imultiarch x86_64-linux-gnu -D X=1 src/u1.c "-mtune=generic" -O2 -dumpbase u1.c -dumpbase-ext .c` + "\n" +
		"COMPILER_PATH=/usr/lib/gcc\n"
	tpl, ok := parseCC1Template([]byte(shown), "src/u1.c")
	assert.True(t, ok)
	assert.Equal(t, []string{"/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-E", "-quiet", "-imultiarch", "x86_64-linux-gnu", "-D", "X=1",
		"lib/v2.cc", "-mtune=generic", "-O2", "-dumpbase", "v2.cc", "-dumpbase-ext", ".cc"}, tpl.forSource("lib/v2.cc"))

	for name, bad := range map[string]string{
		"two commands":        " /x/cc1 -E a.c -dumpbase a.c\n /x/as a.s\n",
		"not cc1":             " /x/collect2 -E a.c -dumpbase a.c\n",
		"no -E":               " /x/cc1 a.c -dumpbase a.c\n",
		"name used elsewhere": " /x/cc1 -E -D F=a.c a.c -dumpbase a.c\n",
		"relative program":    " cc1 -E a.c -dumpbase a.c\n",
		"no command":          "COLLECT_GCC=gcc\n",
	} {
		_, ok := parseCC1Template([]byte(bad), "a.c")
		assert.False(t, ok, name)
	}
}
