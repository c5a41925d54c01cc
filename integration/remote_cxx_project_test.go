package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// yamlCppUnits is how many C++ units a yaml-cpp build compiles: the
// library's 29 sources, its two contrib ones and the three tools of util/
// (its tests, which need googletest, are not built).
const yamlCppUnits = 34

// yamlCppConfigure configures a CMake build of the yaml-cpp tree src in
// build with clang++ at Debug (-g: DWARF 5 line tables with an MD5 sum of
// every file), with launcher as CMAKE_CXX_COMPILER_LAUNCHER (none when
// empty, also in a build directory configured before with one). Debug
// information records the build directory, so that a plain build and a
// build through dcc are compared in the same one.
func yamlCppConfigure(tb testing.TB, src, build, launcher string) {
	tb.Helper()
	shell(tb, src, nil, fmt.Sprintf("cmake -S %s -B %s -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ "+
		"-DYAML_CPP_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=%s >/dev/null", src, build, launcher))
}

// yamlCppTree copies Debian's yaml-cpp sources (scripts/fetch-project.sh
// yaml-cpp) into a fresh directory and returns it, after letting its files
// age past dcc's race guard.
func yamlCppTree(tb testing.TB) string {
	tb.Helper()
	for _, tool := range []string{"cmake", "clang++", "make"} {
		requireTool(tb, tool)
	}
	src := filepath.Join(tb.TempDir(), "yaml-cpp")
	copyTree(tb, fetchProject(tb, "yaml-cpp"), src)
	time.Sleep(200 * time.Millisecond)
	return src
}

// warnedUnits counts the units whose compile printed warnings in a build's
// output (make's --output-sync keeps each compile's lines together): clang
// ends each such unit's diagnostics with "N warning(s) generated." on a
// line of its own.
func warnedUnits(out string) int {
	return len(regexp.MustCompile(`(?m)^[0-9]+ warnings? generated\.$`).FindAllString(out, -1))
}

// TestRemoteCxxProjectClangDebug builds yaml-cpp, a real C++ project from
// Debian's sources (34 units of templates and the C++ library's headers),
// with clang++ -g: plainly first, then in the same build directory with
// dcc as CMake's compiler launcher through two hosts. Every unit goes to a
// host with its sources (clang's own include directories, the C++
// library's headers under /usr/bin/../lib/gcc/...), both hosts compile,
// and every object and dependency file is byte for byte the plain
// build's, DWARF 5 line tables and their MD5 sums included.
func TestRemoteCxxProjectClangDebug(t *testing.T) {
	src := yamlCppTree(t)
	h1, h2 := startHost(t, "127.0.0.2", 4), startHost(t, "127.0.0.3", 4)
	build := filepath.Join(t.TempDir(), "build")

	yamlCppConfigure(t, src, build, "")
	warned := warnedUnits(shell(t, src, nil, "cmake --build "+build+" -j8 -- --output-sync=target 2>&1"))
	want := collectOutputs(t, build)
	require.NoError(t, os.RemoveAll(build))

	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	env := append(append([]string{}, d.env...), hostsEnv(4, h1, h2)...)
	yamlCppConfigure(t, src, build, dccBin)
	gotWarned := warnedUnits(shell(t, src, env, "cmake --build "+build+" -j8 -- --output-sync=target 2>&1"))
	got := collectOutputs(t, build)

	st := d.stats(t)
	hosts := hostCounts(t, d)
	t.Logf("yaml-cpp with clang++ -g: %v; per host %v", st, hosts)
	assert.Zero(t, st["errors"], "daemon.log:\n%s", d.logTail(30))
	assert.Zero(t, st["fallbacks"], "daemon.log:\n%s", d.logTail(30))
	// A unit whose compile prints warnings (yaml-cpp builds with -Wshadow,
	// and three of its units shadow a name) goes to a host with its
	// sources too, and is compiled again here for the local compiler's
	// words: it counts in remote_reruns, not in remote_sources.
	require.Positive(t, warned, "the plain build printed clang's warnings")
	assert.Equal(t, warned, gotWarned, "the build through dcc printed the same warnings")
	assert.Equal(t, int64(warned), st["remote_reruns"], "the units that warn were compiled again here; daemon.log:\n%s", d.logTail(30))
	assert.Equal(t, int64(yamlCppUnits-warned), st["remote_sources"], "every other unit went to a host with its sources; daemon.log:\n%s", d.logTail(30))
	assert.Equal(t, st["remote"], st["remote_sources"], "every remote compile went with its sources")
	assert.Len(t, hosts, 2, "both hosts compiled")
	objects := 0
	for name := range want {
		if strings.HasSuffix(name, ".o") {
			objects++
		}
	}
	require.Equal(t, yamlCppUnits, objects, "the plain build's objects")
	require.Len(t, want, 2*yamlCppUnits, "an object and a dependency file per unit")
	assert.Equal(t, len(want), len(got), "the same outputs")
	same := 0
	for name, b := range want {
		var ok bool
		if strings.HasSuffix(name, ".d") {
			ok = assert.Equal(t, string(b), string(got[name]), "%s differs from the plain build's", name)
		} else {
			ok = assertSameBytes(t, b, got[name], "%s differs from the plain build's", name)
		}
		if ok {
			same++
		}
	}
	t.Logf("%d of %d objects and dependency files identical to the plain build's", same, len(want))
}
