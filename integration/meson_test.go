package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mesonProject writes a small meson project (C and C++) under dir.
func mesonProject(t *testing.T, dir string) {
	t.Helper()
	writeFiles(t, dir, map[string]string{
		"meson.build": "project('m', 'c', 'cpp')\nexecutable('app', 'main.c', 'util.c', 'names.cpp')\n",
		"util.h":      "int util_twice(int);\nint names_count(void);\n",
		"util.c":      "#include \"util.h\"\nint util_twice(int v) { return 2 * v; }\n",
		"names.cpp":   "#include <string>\nextern \"C\" {\n#include \"util.h\"\n}\nextern \"C\" int names_count(void) { return (int)std::string(\"abc\").size(); }\n",
		"main.c":      "#include <stdio.h>\n#include \"util.h\"\nint main(void) { printf(\"%d\\n\", util_twice(names_count())); return 0; }\n",
	})
}

// With ccache installed, meson puts it in front of every compile. Through
// a masquerade directory made by "dcc install-links", which links ccache
// to dcc too, meson's "ccache cc -c ..." is dcc: a cold build misses, the
// same build again in a new build directory at the same place is all
// hits, and every object is the one a plain build writes.
func TestMesonWithCcacheInstalled(t *testing.T) {
	for _, tool := range []string{"meson", "ninja", "ccache", "gcc", "g++"} {
		requireTool(t, tool)
	}
	project := t.TempDir()
	mesonProject(t, project)
	build := filepath.Join(project, "build")
	run := func(env []string, argv ...string) string {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir, cmd.Env = project, append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s:\n%s", strings.Join(argv, " "), out)
		return string(out)
	}
	meson := func(env ...string) map[string][]byte {
		require.NoError(t, os.RemoveAll(build))
		run(env, "meson", "setup", build)
		ninja, err := os.ReadFile(filepath.Join(build, "build.ninja"))
		require.NoError(t, err)
		require.Contains(t, string(ninja), "ccache", "meson put ccache in front of the compiles")
		run(env, "ninja", "-C", build)
		return collectOutputs(t, build)
	}
	want := meson("CCACHE_DISABLE=1")
	require.NotEmpty(t, objectsOf(want))

	links := t.TempDir()
	out := run(nil, dccBin, "install-links", links)
	assert.Contains(t, out, "ccache -> dcc (in place of ")
	d := newProjectDaemon(t, "60s")
	defer d.stop(t)
	env := append([]string{"PATH=" + withPath(links)}, d.env...)

	assertSameOutputs(t, want, meson(env...))
	st := d.stats(t)
	units := int64(len(objectsOf(want)))
	assert.Equal(t, units, st["misses"], "daemon.log:\n%s", d.logTail(20))

	assertSameOutputs(t, want, meson(env...))
	st = d.stats(t)
	assert.Equal(t, units, st["hits"], "the second build is served by dcc; daemon.log:\n%s", d.logTail(20))
	assert.Zero(t, st["errors"])
}
