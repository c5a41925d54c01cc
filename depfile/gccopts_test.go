package depfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseGCCOptions(t *testing.T) {
	tests := []struct {
		args    []string
		user    bool
		phony   bool
		targets []string
	}{
		{[]string{"-MD"}, false, false, []string{"out/a.o"}},
		{[]string{"-MMD", "-MP", "-MF", "d/.depend/a.o.d", "-MQ", "a.o"}, true, true, []string{"a.o"}},
		{[]string{"-MMD", "-MD"}, true, false, []string{"out/a.o"}},
		{[]string{"-MD", "-MFx.d", "-MTfoo", "-MQ$x y"}, false, false, []string{"foo", `$$x\ y`}},
		// Every -MT goes where the first quoted name was (gcc 12 writes
		// "c b a" for -MQ a -MQ b -MT c, and -MQ comes before -MT).
		{[]string{"-MD", "-MQ", "a", "-MQ", "b", "-MT", "c"}, false, false, []string{"c", "b", "a"}},
		{[]string{"-MD", "-MT", "c", "-MQ", "a", "-MQ", "b"}, false, false, []string{"c", "b", "a"}},
		{[]string{"-MD", "-MQ", "a", "-MT", "c", "-MT", "d", "-MQ", "b"}, false, false, []string{"c", "d", "a", "b"}},
		{[]string{"-MD", "-MT", "a b"}, false, false, []string{"a b"}},
		{[]string{"-MD", "-MQ", "./x.o", "-MT", ".//y"}, false, false, []string{"y", "x.o"}},
		// -Wp: the target is named after the source unless given.
		{[]string{"-Wp,-MD,out/.a.o.d"}, false, false, []string{"a.o"}},
		{[]string{"-Wp,-MMD,a.d", "-MP", "-MT", "t"}, true, true, []string{"t"}},
		{[]string{"-Wp,-MMD,a.d", "-Wp,-MD,b.d"}, false, false, []string{"a.o"}},
	}
	for _, tt := range tests {
		got, err := ParseGCCOptions(tt.args, "src/a.c", "out/a.o")
		require.NoError(t, err, "%q", tt.args)
		assert.Equal(t, GCCOptions{User: tt.user, Phony: tt.phony, Targets: tt.targets}, got, "%q", tt.args)
	}
	for _, bad := range [][]string{nil, {"-MP"}, {"-MD", "-MG"}, {"-MD", "-MF"}, {"-MD", "-MT"}, {"-Wp,-MD,a.d", "-MD"},
		{"-Wp,-MD,a.d,-MP"}, {"-Wp,-MT,x"}, {"-Wp,-MD,"}, {"-MD", "-Xpreprocessor", "-MP"}} {
		_, err := ParseGCCOptions(bad, "a.c", "a.o")
		assert.ErrorIs(t, err, ErrUnsupportedOptions, "%q", bad)
	}
	assert.Equal(t, "noext.o", defaultTarget("src/noext"))
	assert.Equal(t, "a.b.o", defaultTarget("a.b.c"))
}
