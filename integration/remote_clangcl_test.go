package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clangCLProject writes units that include headers as MSVC's rules find
// them: sub/inner.h includes "top.h", which is not beside it but beside the
// source that includes sub/inner.h (a quoted name is looked for in the
// directory of every file on the include stack), and headers of an /I
// directory.
func clangCLProject(t *testing.T, dir string, units int) {
	t.Helper()
	files := map[string]string{
		"top.h":        "#pragma once\n#include <stddef.h>\n#define TOP(x) \\\n  ((x) * 3 + (int)sizeof(size_t))\n",
		"sub/inner.h":  "#pragma once\n#include \"top.h\"\nstatic inline int inner(int v) { return TOP(v); }\n",
		"inc/vendor.h": "#ifndef VENDOR_H\n#define VENDOR_H\n#include <stdarg.h>\nint vendor_call(int, ...);\n#endif\n",
		"out/.keep":    "",
	}
	for i := range units {
		files[fmt.Sprintf("unit%d.c", i)] = fmt.Sprintf("#include \"sub/inner.h\"\n#include <vendor.h>\n"+
			"int unit%d(int v) {\n  return inner(v) +\n    vendor_call(%d, __LINE__);\n}\n", i, i)
	}
	writeFiles(t, dir, files)
}

// TestRemoteClangCLReplay compiles clang-cl units with /Z7 (CodeView that
// records clang's own cc1 command line and the client's paths), /Brepro and
// /showIncludes through dcc with a host that serves clang-cl: every unit
// goes to the host with its sources and is replayed there under the
// client's paths, and every object and every /showIncludes listing is byte
// for byte what the local compile gives. A second run is served from the
// cache, /showIncludes lines and the warning of the Microsoft search rule
// included; and a header that appears where clang-cl would now find it
// first (beside the including header, before the source's directory that
// served it) makes the next compiles miss.
func TestRemoteClangCLReplay(t *testing.T) {
	cl := requireTool(t, "clang-cl-14")
	h := startHostServing(t, "127.0.0.2", 4, cl)
	dir := filepath.Join(t.TempDir(), "proj")
	const units = 4
	clangCLProject(t, dir, units)
	args := func(i int) []string {
		return []string{"/c", "/Z7", "/Brepro", "/showIncludes", "/O2", "/Iinc", fmt.Sprintf("unit%d.c", i), fmt.Sprintf("/Foout/unit%d.obj", i)}
	}
	type result struct {
		obj            []byte
		stdout, stderr string
	}
	want := map[int]result{}
	for i := range units {
		r := runIn(t, dir, "", nil, nil, append([]string{cl}, args(i)...)...)
		require.Zero(t, r.exit, "%s", r.stderr)
		want[i] = result{readFile(t, filepath.Join(dir, "out", fmt.Sprintf("unit%d.obj", i))), string(r.stdout), string(r.stderr)}
		require.NoError(t, os.Remove(filepath.Join(dir, "out", fmt.Sprintf("unit%d.obj", i))))
	}
	require.Contains(t, want[0].stdout, "top.h", "clang-cl found top.h beside the source")
	require.Contains(t, want[0].stderr, "Microsoft search rules", "and warned that it did")

	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	env := append(append([]string{}, d.env...), hostsEnv(4, h)...)
	env = append(env, "DCC_LOCAL_THRESHOLD=0")
	for round := range 2 {
		for i := range units {
			r := runIn(t, dir, "", env, nil, append([]string{dccBin, cl}, args(i)...)...)
			require.Zero(t, r.exit, "%s", r.stderr)
			name := filepath.Join(dir, "out", fmt.Sprintf("unit%d.obj", i))
			assert.Equal(t, want[i].obj, readFile(t, name), "round %d: unit%d.obj differs from the local compile's", round, i)
			assert.Equal(t, want[i].stdout, string(r.stdout), "round %d: /showIncludes of unit%d", round, i)
			assert.Equal(t, want[i].stderr, string(r.stderr), "round %d: the warnings of unit%d", round, i)
			require.NoError(t, os.Remove(name))
		}
		st := d.stats(t)
		t.Logf("clang-cl round %d: %v; per host %v", round, st, hostCounts(t, d))
		assert.Zero(t, st["errors"], "daemon.log:\n%s", d.logTail(30))
		assert.Zero(t, st["fallbacks"], "daemon.log:\n%s", d.logTail(30))
		assert.Equal(t, int64(units), st["remote_sources"], "every unit was replayed on the host; daemon.log:\n%s", d.logTail(30))
		if round == 1 {
			assert.Equal(t, int64(units), st["hits"], "the second run came from the cache")
		}
	}

	// A top.h beside sub/inner.h is found before the one beside the
	// source, as clang-cl looks in the including file's own directory
	// first: the next compiles miss and give clang-cl's new objects.
	writeFiles(t, dir, map[string]string{"sub/top.h": "#pragma once\n#define TOP(x) ((x) * 5)\n"})
	before := d.stats(t)
	for i := range units {
		r := runIn(t, dir, "", nil, nil, append([]string{cl}, args(i)...)...)
		require.Zero(t, r.exit, "%s", r.stderr)
		name := filepath.Join(dir, "out", fmt.Sprintf("unit%d.obj", i))
		plain := readFile(t, name)
		require.NoError(t, os.Remove(name))
		require.NotEqual(t, want[i].obj, plain, "the new header changes the object")
		r = runIn(t, dir, "", env, nil, append([]string{dccBin, cl}, args(i)...)...)
		require.Zero(t, r.exit, "%s", r.stderr)
		assert.Equal(t, plain, readFile(t, name), "unit%d.obj after sub/top.h appeared", i)
		require.NoError(t, os.Remove(name))
	}
	after := d.stats(t)
	assert.Equal(t, before["hits"], after["hits"], "no hit once sub/top.h shadows top.h")
}

// TestClangCLIncludeStackShadowLocal: without hosts, a clang-cl compile
// served from the cache misses once a header appears where clang-cl would
// now find it first (beside the including header, before the directory of
// the source that served it), and gives clang-cl's new object.
func TestClangCLIncludeStackShadowLocal(t *testing.T) {
	cl := requireTool(t, "clang-cl-14")
	dir := filepath.Join(t.TempDir(), "proj")
	clangCLProject(t, dir, 1)
	args := []string{"/c", "/Brepro", "/Iinc", "unit0.c", "/Foout/unit0.obj"}
	name := filepath.Join(dir, "out", "unit0.obj")
	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	for range 2 {
		r := runIn(t, dir, "", d.env, nil, append([]string{dccBin, cl}, args...)...)
		require.Zero(t, r.exit, "%s", r.stderr)
	}
	require.Equal(t, int64(1), d.stats(t)["hits"], "the second compile was a hit")
	writeFiles(t, dir, map[string]string{"sub/top.h": "#pragma once\n#define TOP(x) ((x) * 5)\n"})
	r := runIn(t, dir, "", nil, nil, append([]string{cl}, args...)...)
	require.Zero(t, r.exit, "%s", r.stderr)
	plain := readFile(t, name)
	r = runIn(t, dir, "", d.env, nil, append([]string{dccBin, cl}, args...)...)
	require.Zero(t, r.exit, "%s", r.stderr)
	assert.Equal(t, plain, readFile(t, name), "the object after sub/top.h appeared")
	assert.Equal(t, int64(1), d.stats(t)["hits"], "no hit once sub/top.h shadows top.h")
}
