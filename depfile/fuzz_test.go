package depfile

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParse: Parse never panics, whatever the bytes (a dependency file comes
// from a compiler, here or on another host, but a broken or hostile one must
// not crash the daemon). What it returns keeps its promises, and names make
// can carry come back from FormatGCC unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"x.o: x.c a.h\n", "a\\ b: c\\\n d\n", "$$: $$$\n", ":", "\\", "x.o: x.c \\\r\n a.h\r\n",
		"x.o: x.c a.h\na.h:\n", "x.o: e\\\\#.h x\\\\\\ y.h\n", "a \\\n b: \\\n c\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		names, ok := Parse(data)
		if !ok {
			assert.Empty(t, names)
			return
		}
		for _, n := range names {
			assert.NotEmpty(t, n)
		}
		// Round trip when make can carry every name.
		if len(names) == 0 || slices.ContainsFunc(names, func(n string) bool { return !expressible(n) }) {
			return
		}
		for _, phony := range []bool{false, true} {
			again, ok := Parse(FormatGCC("x.o", names, phony))
			require.True(t, ok)
			require.Equal(t, names, again)
		}
	})
}
