package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRemoteCMakeClangDebug builds the CMake project of
// TestRemoteCMakeRelWithDebInfo with clang and clang++ at Debug (-g: DWARF
// 5, whose line tables carry an MD5 sum of every file) with dcc as the
// compiler launcher through two hosts: the units go to the hosts with their
// sources (clang's own directories spelled as its driver spells them, its
// C++ library headers under /usr/bin/../lib/gcc/..., and the
// extern "C" ones), and every object and dependency file is byte for byte
// the one a plain build in the same build directory writes.
func TestRemoteCMakeClangDebug(t *testing.T) {
	for _, tool := range []string{"cmake", "clang", "clang++", "make"} {
		requireTool(t, tool)
	}
	h1, h2 := startHost(t, "127.0.0.2", 4), startHost(t, "127.0.0.3", 4)
	project := filepath.Join(t.TempDir(), "demo")
	cmakeProject(t, project)
	build := filepath.Join(t.TempDir(), "build")
	configure := func(launcher bool) {
		args := fmt.Sprintf("cmake -S %s -B %s -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++", project, build)
		if launcher {
			args += " -DCMAKE_C_COMPILER_LAUNCHER=" + dccBin + " -DCMAKE_CXX_COMPILER_LAUNCHER=" + dccBin
		}
		shell(t, project, nil, args+" >/dev/null")
	}
	configure(false)
	shell(t, project, nil, "cmake --build "+build+" -j8 >/dev/null")
	want := collectOutputs(t, build)
	require.NoError(t, os.RemoveAll(build))

	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	env := append(append([]string{}, d.env...), hostsEnv(4, h1, h2)...)
	configure(true)
	shell(t, project, env, "cmake --build "+build+" -j8 >/dev/null")
	got := collectOutputs(t, build)

	st := d.stats(t)
	hosts := hostCounts(t, d)
	t.Logf("cmake Debug with clang: %v; per host %v", st, hosts)
	assert.Zero(t, st["errors"], "daemon.log:\n%s", d.logTail(30))
	assert.Zero(t, st["fallbacks"], "daemon.log:\n%s", d.logTail(30))
	units := 0
	for name := range want {
		if strings.HasSuffix(name, ".o") {
			units++
		}
	}
	assert.Equal(t, int64(units), st["remote_sources"], "every unit went to a host with its sources; daemon.log:\n%s", d.logTail(30))
	assert.Len(t, hosts, 2, "both hosts compiled")
	require.NotEmpty(t, want)
	assert.Equal(t, len(want), len(got), "the same outputs")
	for name, b := range want {
		assert.Equal(t, b, got[name], "%s differs from the plain build's", name)
	}
	t.Logf("%d objects and dependency files identical to the plain build's", len(want))
}

// TestRemoteMMDMakefileClang builds the -MMD project of TestRemoteMMDMakefile
// (but see below) with clang at -j8 through a host (masquerade): the units, those with -g
// too, go to the host with their sources, and every object and dependency
// file (clang's -MMD keeps other headers than gcc's) is byte for byte the
// one plain clang writes in the same directory.
func TestRemoteMMDMakefileClang(t *testing.T) {
	requireTool(t, "clang")
	requireTool(t, "make")
	h := startHost(t, "127.0.0.2", 8)
	dir := filepath.Join(t.TempDir(), "proj")
	mmdProject(t, dir)
	// Without the vendor header's include of a project header that the
	// sources include too: clang's -MMD lists such a header where its
	// first inclusion from a user header is, which dcc does not model, so
	// a unit that has one falls back to a local compile after its host
	// compiled it (objects and dependency files still identical).
	writeFiles(t, dir, map[string]string{"vendor/vendor.h": "#ifndef VENDOR_H\n#define VENDOR_H\n#include <stdlib.h>\n" +
		"#include \"vendor_impl.h\"\n#define VENDOR_CALL(x) (vendor_base + (x))\n#endif\n"})

	shell(t, dir, []string{"CC=clang"}, "make -j8 >/dev/null")
	want := collectOutputs(t, filepath.Join(dir, "obj"))
	shell(t, dir, nil, "make clean >/dev/null")

	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	env := append([]string{"CC=clang", "PATH=" + withPath(masqueradeDir(t, "clang", "cc"))}, d.env...)
	env = append(env, hostsEnv(8, h)...)
	shell(t, dir, env, "make -j8 >/dev/null")
	got := collectOutputs(t, filepath.Join(dir, "obj"))

	st := d.stats(t)
	t.Logf("-MMD project with clang: %v; per host %v", st, hostCounts(t, d))
	assert.Zero(t, st["errors"], "daemon.log:\n%s", d.logTail(30))
	assert.Zero(t, st["fallbacks"], "daemon.log:\n%s", d.logTail(30))
	assert.Equal(t, st["remote"], st["remote_sources"], "every remote compile went with its sources")
	units := mmdUnits + 1
	assert.Greater(t, st["remote_sources"], int64(mmdPlain), "-g units went to the host; daemon.log:\n%s", d.logTail(30))
	assert.GreaterOrEqual(t, st["remote_sources"], int64(units*3/4), "most of the %d units went to the host", units)
	require.Len(t, want, 2*units, "an object and a dependency file per unit")
	assert.Equal(t, len(want), len(got), "the same outputs")
	for name, b := range want {
		if strings.HasSuffix(name, ".d") {
			assert.Equal(t, string(b), string(got[name]), "%s differs from clang's", name)
		} else {
			assert.Equal(t, b, got[name], "%s differs from clang's", name)
		}
	}
	d0 := string(want[filepath.Join(".depend", "unit00.o.d")])
	assert.NotContains(t, d0, "/usr/include", "clang's -MMD list leaves the C library out")
	assert.Contains(t, d0, "include/util/detail.h")
}
