package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMasqueradeNeverRecurses(t *testing.T) {
	requireTool(t, "gcc")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.c": "int a(void) { return 1; }\n"})
	masq1 := masqueradeDir(t, "gcc", "cc")
	masq2 := masqueradeDir(t, "gcc", "cc")
	// A shell wrapper named gcc that calls "gcc" again, between the links and
	// the real compiler: dcc must pass through it once and then find /usr/bin/gcc.
	wrapDir := t.TempDir()
	writeFiles(t, wrapDir, map[string]string{"gcc": "#!/bin/sh\necho wrapped >&2\nexec gcc \"$@\"\n"})
	require.NoError(t, os.Chmod(filepath.Join(wrapDir, "gcc"), 0o755))

	tests := []struct {
		name       string
		path       string
		argv       []string
		wantStderr string
	}{
		{"two link dirs first in PATH", withPath(masq1, masq2), []string{"gcc", "-c", "a.c"}, ""},
		{"prefix with links in PATH", withPath(masq1), []string{dccBin, "gcc", "-c", "a.c"}, ""},
		{"prefix naming a link", withPath(masq1), []string{dccBin, filepath.Join(masq2, "cc"), "-c", "a.c"}, ""},
		{"wrapper script calling gcc", withPath(masq1, wrapDir, masq2), []string{"gcc", "-c", "a.c"}, "wrapped\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runIn(t, dir, tt.path, nil, nil, tt.argv...)
			assert.Equal(t, 0, got.exit, "%s", got.stderr)
			assert.Equal(t, tt.wantStderr, string(got.stderr))
			assert.FileExists(t, filepath.Join(dir, "a.o"))
			require.NoError(t, os.Remove(filepath.Join(dir, "a.o")))
		})
	}
}

func TestLoopGuardStopsRunawayChain(t *testing.T) {
	masq := masqueradeDir(t, "gcc")
	chain := strings.Repeat("/somewhere/gcc:", 8)
	got := runIn(t, t.TempDir(), withPath(masq), []string{"DCC_CHAIN=" + chain}, nil, "gcc", "-c", "a.c")
	assert.Equal(t, 126, got.exit)
	assert.Contains(t, string(got.stderr), "dcc: dcc keeps calling itself")
	assert.Equal(t, 1, strings.Count(string(got.stderr), "\n"), "one-line error: %q", got.stderr)
}

func TestCompilerNotFound(t *testing.T) {
	masq := masqueradeDir(t, "x86_64-none-gcc-99")
	for _, argv := range [][]string{
		{"x86_64-none-gcc-99", "-c", "a.c"},
		{dccBin, "no-such-cc", "-c", "a.c"},
		{dccBin, "/no/such/dir/gcc", "-c", "a.c"},
	} {
		got := runIn(t, t.TempDir(), withPath(masq), nil, nil, argv...)
		assert.Equal(t, 127, got.exit, "%v", argv)
		assert.True(t, strings.HasPrefix(string(got.stderr), "dcc: "), "%q", got.stderr)
		assert.Equal(t, 1, strings.Count(string(got.stderr), "\n"), "one-line error: %q", got.stderr)
	}
}

func TestInstallLinksFromRealPath(t *testing.T) {
	requireTool(t, "gcc")
	requireTool(t, "clang")
	links := filepath.Join(t.TempDir(), "links")
	got := runIn(t, t.TempDir(), "", nil, nil, dccBin, "install-links", links)
	require.Equal(t, 0, got.exit, "%s", got.stderr)
	for _, name := range []string{"gcc", "g++", "cc", "c++", "clang", "clang++", "clang-14"} {
		target, err := os.Readlink(filepath.Join(links, name))
		if assert.NoError(t, err, name) {
			assert.Equal(t, dccBin, target, name)
		}
		assert.Contains(t, string(got.stdout), name+" -> dcc")
	}
	_, err := os.Lstat(filepath.Join(links, "make"))
	assert.True(t, os.IsNotExist(err), "make is not a compiler")

	// The links work: a compile through them, and again with the links first in PATH.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.c": "int a(void) { return 2; }\n"})
	for _, c := range []string{"gcc", "clang-14"} {
		r := runIn(t, dir, withPath(links), nil, nil, c, "-c", "a.c")
		assert.Equal(t, 0, r.exit, "%s: %s", c, r.stderr)
	}
	again := runIn(t, t.TempDir(), withPath(links), nil, nil, dccBin, "install-links", links)
	assert.Equal(t, 0, again.exit, "%s", again.stderr)
}
