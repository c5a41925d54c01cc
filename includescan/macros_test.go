package includescan

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScanFileMacroIncludesAndDefinitions(t *testing.T) {
	src := "#define CFG \"cfg.h\"\n#define SYS <sys/x.h> /* c */\n#define F(x) #x\n#define NUM 1\n" +
		"#if defined(LUA_USER_H)\n#include LUA_USER_H\n#endif\n#include_next NEXT // c\n#include \"a.h\"\n" +
		"#define SPLIT \\\n  \"s.h\"\n#define EMPTY\n#define FN(x)\"x.h\"\n"
	f, err := ScanFile([]byte(src))
	require.NoError(t, err)
	assert.Equal(t, []Directive{
		{Name: "LUA_USER_H", Line: 6, Macro: true},
		{Name: "NEXT", Next: true, Line: 8, Macro: true},
		{Name: "a.h", Line: 9},
	}, f.Directives)
	assert.Equal(t, []Definition{
		{Macro: "CFG", Literal: true, Value: Directive{Name: "cfg.h"}, Line: 1},
		{Macro: "SYS", Literal: true, Value: Directive{Name: "sys/x.h", Angle: true}, Line: 2},
		{Macro: "F", Line: 3},
		{Macro: "NUM", Line: 4},
		{Macro: "SPLIT", Literal: true, Value: Directive{Name: "s.h"}, Line: 10},
		{Macro: "EMPTY", Line: 12},
		{Macro: "FN", Line: 13},
	}, f.Definitions)

	// Scan still refuses what ScanFile reports as a macro include.
	_, err = Scan([]byte(src))
	assert.ErrorIs(t, err, ErrComputed)
	// A macro include followed by anything else is still computed.
	for _, bad := range []string{"#include A B\n", "#include A(b)\n", "#include A \"x\"\n"} {
		_, err := ScanFile([]byte(bad))
		assert.ErrorIs(t, err, ErrComputed, bad)
	}
}

func TestHeaderName(t *testing.T) {
	tests := []struct {
		in   string
		want Directive
		ok   bool
	}{
		{`"a.h"`, Directive{Name: "a.h"}, true},
		{` <sys/a.h> `, Directive{Name: "sys/a.h", Angle: true}, true},
		{`"a"b"`, Directive{}, false},
		{`<a>b>`, Directive{}, false},
		{`""`, Directive{}, false},
		{`a.h`, Directive{}, false},
		{`1`, Directive{}, false},
		{"\"a\nb\"", Directive{}, false},
	}
	for _, tt := range tests {
		got, ok := HeaderName(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestMacroValues(t *testing.T) {
	scan := func(src string) *File {
		f, err := ScanFile([]byte(src))
		require.NoError(t, err)
		return f
	}
	files := map[string]*File{
		"/p/a.h": scan("#define CFG \"cfg.h\"\n#define OTHER 1\n"),
		"/p/b.h": scan("#ifdef ALT\n#define CFG <alt/cfg.h>\n#endif\n"),
	}
	got, err := MacroValues(map[string]bool{"CFG": true, "UNDEFINED": true, "FROMD": true},
		[]string{"-I/p", `-DFROMD="d.h"`, "-DOTHER=2", "-UCFG"}, maps.All(files))
	require.NoError(t, err)
	assert.ElementsMatch(t, []Directive{{Name: "cfg.h"}, {Name: "alt/cfg.h", Angle: true}}, got["CFG"])
	assert.Equal(t, []Directive{{Name: "d.h"}}, got["FROMD"])
	assert.Empty(t, got["UNDEFINED"])

	_, err = MacroValues(map[string]bool{"OTHER": true}, nil, maps.All(files))
	assert.ErrorContains(t, err, "/p/a.h line 2: OTHER is defined as something else than a file name")
	_, err = MacroValues(map[string]bool{"FROMD": true}, []string{"-DFROMD"}, maps.All(files))
	assert.ErrorContains(t, err, "-DFROMD is not a file name")
	_, err = MacroValues(map[string]bool{"__FILE__": true}, nil, maps.All(files))
	assert.ErrorContains(t, err, "__FILE__")
}
