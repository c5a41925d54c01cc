package integration

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExplainPrintsDecisionAsJSON(t *testing.T) {
	tests := []struct {
		name       string
		argv       []string
		wantAction string
		wantFamily string
		wantLang   string
		wantSource string
		wantObject string
		wantDeps   string
	}{
		{"gcc object in cwd with deps", []string{"gcc", "-O2", "-MD", "-c", "dir/a.c"}, "remote", "gcc", "c", "dir/a.c", "a.o", "a.d"},
		{"g++ compiles .c as C++", []string{"g++", "-c", "x.c", "-o", "obj/x.o", "-MMD", "-MF", "deps/x.dep"}, "remote", "gcc", "c++", "x.c", "obj/x.o", "deps/x.dep"},
		{"clang native arch is cache-only", []string{"clang", "-march=native", "-c", "k.c"}, "cache", "clang", "c", "k.c", "k.o", ""},
		{"linking is local", []string{"gcc", "a.o", "b.o", "-o", "prog"}, "local", "gcc", "", "", "", ""},
		{"cl object", []string{"cl.exe", "/c", "/O2", "src\\m.cpp"}, "remote", "msvc", "c++", "src\\m.cpp", "m.obj", ""},
		{"clang-cl Fo", []string{"clang-cl", "-c", "m.c", "/Foout/m.obj"}, "remote", "msvc", "c", "m.c", "out/m.obj", ""},
		{"unknown compiler", []string{"tcc", "-c", "a.c"}, "local", "", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runIn(t, t.TempDir(), "", nil, nil, append([]string{dccBin, "explain"}, tt.argv...)...)
			require.Equal(t, 0, got.exit, "%s", got.stderr)
			var out struct {
				Action, Reason, Family, Language, Source string
				Outputs                                  map[string]string
			}
			require.NoError(t, json.Unmarshal(got.stdout, &out), "%s", got.stdout)
			assert.Equal(t, tt.wantAction, out.Action, out.Reason)
			assert.NotEmpty(t, out.Reason)
			assert.Equal(t, tt.wantFamily, out.Family)
			assert.Equal(t, tt.wantLang, out.Language)
			assert.Equal(t, tt.wantSource, out.Source)
			assert.Equal(t, tt.wantObject, out.Outputs["object"])
			assert.Equal(t, tt.wantDeps, out.Outputs["deps"])
		})
	}
}
