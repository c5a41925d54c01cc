package compile

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIncludedFiles(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []includedFile
	}{
		{"gcc markers", "# 0 \"a.c\"\n# 0 \"<built-in>\"\n# 0 \"<command-line>\"\n# 1 \"/usr/include/stdc-predef.h\" 1 3 4\n# 0 \"<command-line>\" 2\n# 1 \"a.c\"\n# 1 \"inc/x.h\" 1\n# 1 \"inc/sub/y.h\" 1\nint y;\n# 2 \"inc/x.h\" 2\nint x;\n# 2 \"a.c\" 2\n# 1 \"z.h\" 1\n",
			[]includedFile{{"a.c", ""}, {"/usr/include/stdc-predef.h", "<command-line>"}, {"inc/x.h", "a.c"}, {"inc/sub/y.h", "inc/x.h"}, {"z.h", "a.c"}}},
		{"gcc working directory marker", "# 0 \"a.c\"\n# 1 \"/tmp/w//\"\n# 0 \"<built-in>\"\n# 1 \"a.c\"\n# 1 \"h.h\" 1\n",
			[]includedFile{{"a.c", ""}, {"h.h", "a.c"}}},
		{"clang markers", "# 1 \"a.c\"\n# 1 \"<built-in>\" 1\n# 1 \"<built-in>\" 3\n# 1 \"<command line>\" 1\n# 1 \"pre.h\" 1\n# 2 \"<command line>\" 2\n# 1 \"<built-in>\" 2\n# 1 \"a.c\" 2\n# 1 \"./h.h\" 1\n",
			[]includedFile{{"a.c", ""}, {"pre.h", "<command line>"}, {"./h.h", "a.c"}}},
		{"msvc #line", "#line 1 \"m.c\"\n#line 1 \"./inc\\\\defs.h\"\nint y;\n#line 3 \"m.c\"\n", []includedFile{{"m.c", ""}, {"./inc\\defs.h", ""}}},
		{"escaped quote", "# 1 \"we\\\"ird.h\" 1\n", []includedFile{{"we\"ird.h", ""}}},
		{"octal escape", "# 1 \"caf\\303\\251.h\"\n", []includedFile{{"café.h", ""}}},
		{"not markers", "#pragma once\n#define X 1\n# define Y\n#  \n#1\nint z; # 1 \"no.h\"\n", nil},
		{"no newline at end", "# 7 \"last.h\"", []includedFile{{"last.h", ""}}},
		{"unterminated", "# 1 \"open.h\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, includedFiles([]byte(tt.text)))
		})
	}
}

func TestDepTarget(t *testing.T) {
	tests := []struct {
		name   string
		argv   []string
		want   string
		wantOK bool
	}{
		{"explicit -MQ added for -o", []string{"gcc", "-MD", "-MF", "o/x.d", "-MQ", "o/x.o", "-E", "a.c"}, "o/x.o", true},
		{"-MT as given", []string{"gcc", "-MMD", "-MT", "foo", "-MT", "$bar", "-MF", "d.d", "-E", "a.c"}, "foo $bar", true},
		{"-MQ quoted", []string{"gcc", "-MD", "-MQ", "$x y#", "-E", "a.c"}, "$$x\\ y\\#", true},
		{"glued", []string{"gcc", "-MD", "-MTt1", "-MQt$2", "-E", "a.c"}, "t1 t$$2", true},
		{"no target", []string{"gcc", "-Wp,-MD,.a.d", "-E", "a.c"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := depTarget(&toolchain.Analysis{PreprocessCommand: tt.argv})
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRewriteDepTarget(t *testing.T) {
	deps := []byte("obj/a.o: a.c inc/x.h \\\n /usr/include/stdio.h\ninc/x.h:\n")
	got, ok := rewriteDepTarget(deps, "obj/a.o", "out/b.o")
	require.True(t, ok)
	assert.Equal(t, "out/b.o: a.c inc/x.h \\\n /usr/include/stdio.h\ninc/x.h:\n", string(got))
	same, ok := rewriteDepTarget(deps, "obj/a.o", "obj/a.o")
	require.True(t, ok)
	assert.Equal(t, deps, same)
	_, ok = rewriteDepTarget(deps, "a.o", "b.o")
	assert.False(t, ok, "a target that is not the file's start is not rewritten")
	_, ok = rewriteDepTarget(deps, "obj/a", "b")
	assert.False(t, ok, "a prefix of the target is not the target")
}

func TestKeysSeparateFields(t *testing.T) {
	a := newKey("k").strs([]string{"ab", "c"}).sum()
	b := newKey("k").strs([]string{"a", "bc"}).sum()
	c := newKey("k").strs([]string{"ab"}).str("c").sum()
	d := newKey("other").strs([]string{"ab", "c"}).sum()
	assert.NotEqual(t, a, b)
	assert.NotEqual(t, a, c)
	assert.NotEqual(t, a, d)
	assert.Equal(t, a, newKey("k").strs([]string{"ab", "c"}).sum())
}

func TestEnvValues(t *testing.T) {
	env := []string{"PATH=/bin", "LANG=C", "CPATH=/x", "LANG=de_DE.UTF-8", "HOME=/h"}
	assert.Equal(t, []string{"CPATH=/x", "LANG=de_DE.UTF-8"}, envValues(env, keyEnv))
	_, set := lookupEnv(env, "DEPENDENCIES_OUTPUT")
	assert.False(t, set)
}

func TestShadowCandidates(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"src/a.c", "inc1/only1.h", "inc2/x.h", "inc2/sub/y.h", "inc1/sub/z.h", "inc2/sub/z.h", "sys/s.h", "sys/sys/t.h", "inc1/sys/u.h"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
	req := reqIn(dir)
	req.Env = []string{"CPATH=cp", "C_INCLUDE_PATH=" + dir + "/cip"}
	j := &job{req: req, a: &toolchain.Analysis{Source: "src/a.c", Language: "c", PreprocessCommand: []string{"gcc", "-E", "src/a.c"},
		PreprocessorArgs: []string{"-Iinc1", "-I", "inc2", "-DX", "-isystem", "sys", "-idirafter", "late"}}}
	assert.Equal(t, []string{"inc1", "inc2", "cp", "sys", dir + "/cip", "/usr/include", "late"}, j.searchDirs([]string{"/usr/include"}))
	j.includers = map[string]string{"src/a.c": "", "inc1/only1.h": "src/a.c", "inc2/x.h": "src/a.c",
		"inc2/sub/y.h": "inc2/x.h", "/usr/include/stdio.h": "src/a.c", "late/l.h": "<command-line>",
		"/usr/include/sys/types.h": "/usr/include/stdio.h"}
	j.mainFile = "src/a.c"
	absent, ok := j.shadowCandidates([]cache.FileDigest{
		{Path: "src/a.c"}, {Path: "inc1/only1.h"}, {Path: "inc2/x.h"}, {Path: "inc2/sub/y.h"}, {Path: "/usr/include/stdio.h"},
		{Path: "/usr/include/sys/types.h"}, {Path: "late/l.h"},
	}, []string{"/usr/include"})
	require.True(t, ok)
	assert.Equal(t, []string{
		"src/only1.h",
		"src/x.h", "inc1/x.h",
		// y.h was included by inc2/x.h: found next to it (first place for a
		// quoted include) or as sub/y.h under inc2 (for an angled one).
		"inc1/sub/y.h",
		// Headers in the compiler's own directories: only the places before
		// those are watched; a missing directory stands for what is under it.
		"src/stdio.h", "inc1/stdio.h", "inc2/stdio.h", "cp", "sys/stdio.h", dir + "/cip",
		"inc1/sys/types.h", "inc2/sys", "sys/sys/types.h",
		"l.h", "inc1/l.h", "inc2/l.h", "sys/l.h",
		// Precompiled forms of the headers the source and -include name.
		"inc1/only1.h.gch", "inc1/only1.h.pch", "inc2/x.h.gch", "inc2/x.h.pch", "late/l.h.gch", "late/l.h.pch",
	}, absent)

	// Preprocessed input: the compile searches no directory.
	j.a.PreprocessCommand = nil
	absent, ok = j.shadowCandidates([]cache.FileDigest{{Path: "src/a.c"}, {Path: "inc1/only1.h"}}, nil)
	assert.True(t, ok)
	assert.Empty(t, absent)
}

func TestDepFlags(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-MD", "-MF", "a.d", "-MT", "x", "-MQ", "y"}, []string{"-MD"}},
		{[]string{"-MMD", "-MP", "-MFa.d", "-MTx"}, []string{"-MMD", "-MP"}},
		{[]string{"-Wp,-MD,.a.d"}, []string{"-Wp", "-MD"}},
		{[]string{"/showIncludes"}, []string{"/showIncludes"}},
		{nil, nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, depFlags(tt.args), "%v", tt.args)
	}
}

// hashIncluded says whether every file the preprocessed text names was
// hashed unchanged since before the compile started and free of time macros:
// an object compiled from that text then needs no second hashing.
func TestHashIncludedTextSafe(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.c": "int a;\n", "old.h": "int o;\n", "time.h2": "const char *t = __TIME__;\n"})
	settle(t, dir)
	writeTree(t, dir, map[string]string{"new.h": "int n;\n"})
	// "Just now" whenever the subtests run, however slow the machine.
	soon := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "new.h"), soon, soon))
	text := func(files ...string) []byte {
		var b strings.Builder
		b.WriteString("# 1 \"a.c\"\n")
		for _, f := range files {
			fmt.Fprintf(&b, "# 1 \"%s\" 1\nint x;\n# 2 \"a.c\" 2\n", f)
		}
		return []byte(b.String())
	}
	tests := []struct {
		name  string
		text  []byte
		safe  bool
		files int
	}{
		{"old files", text("old.h"), true, 2},
		{"a file changed just now", text("old.h", "new.h"), false, 3},
		{"a file using __TIME__", text("time.h2"), false, 2},
		{"a file that is not there", text("gone.h"), false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Service{opts: Options{Memo: filehash.NewMemo(100)}, log: slog.New(slog.DiscardHandler)}
			j := &job{s: s, req: daemon.CompileRequest{Dir: dir}, a: &toolchain.Analysis{Source: "a.c"}, start: time.Now()}
			got := j.hashIncluded(tc.text)
			assert.Len(t, got, tc.files)
			assert.Equal(t, tc.safe, j.textSafe)
		})
	}
}
