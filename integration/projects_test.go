package integration

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fetchProject returns the unpacked Debian source tree of pkg, fetching it with
// scripts/fetch-project.sh; a failure skips, or fails when DCC_REQUIRE_REAL
// is true (see requireReal).
func fetchProject(t testing.TB, pkg string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "scripts", "fetch-project.sh"), pkg).Output()
	if err != nil {
		if requireReal(t) {
			t.Fatalf("fetch %s: %v", pkg, err)
		}
		t.Skipf("fetch %s: %v", pkg, err)
	}
	return strings.TrimSpace(string(out))
}

// copyTree copies a source tree (cp -a keeps modes and times).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	out, err := exec.Command("cp", "-a", src, dst).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// shell runs a shell command in dir with extra environment and fails the test on error.
func shell(t testing.TB, dir string, env []string, script string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s:\n%s", script, out)
	return string(out)
}

// buildProducts lists the objects and libraries under dir, relative to it.
func buildProducts(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".o", ".lo", ".a", ".obj":
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	}))
	return out
}

// logEntry is one line of DCC_LOG.
type logEntry struct {
	Compiler string `json:"compiler"`
	Action   string `json:"action"`
	Reason   string `json:"reason"`
	Source   string `json:"source"`
	Object   string `json:"object"`
}

// readLog parses a DCC_LOG file.
func readLog(t testing.TB, path string) []logEntry {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var entries []logEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e logEntry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), sc.Text())
		entries = append(entries, e)
	}
	return entries
}

// requireIdenticalProducts compares every product of the plain build with the dcc build's.
func requireIdenticalProducts(t testing.TB, plain, viaDcc string) int {
	t.Helper()
	products := buildProducts(t, plain)
	require.NotEmpty(t, products)
	assert.ElementsMatch(t, products, buildProducts(t, viaDcc))
	for _, p := range products {
		assert.Equal(t, readFile(t, filepath.Join(plain, p)), readFile(t, filepath.Join(viaDcc, p)), "%s differs", p)
	}
	return len(products)
}

func TestZlibThroughMasqueradeIsIdentical(t *testing.T) {
	requireTool(t, "gcc")
	requireTool(t, "make")
	src := fetchProject(t, "zlib")
	work := t.TempDir()
	plain, viaDcc := filepath.Join(work, "plain"), filepath.Join(work, "dcc")
	copyTree(t, src, plain)
	copyTree(t, src, viaDcc)
	links := masqueradeDir(t, "gcc", "cc")
	logPath := filepath.Join(work, "dcc.log")

	shell(t, plain, []string{"CC=gcc"}, "./configure >/dev/null && make -j4 >/dev/null 2>&1")
	dccEnv := []string{"CC=gcc", "PATH=" + withPath(links), "DCC_LOG=" + logPath}
	shell(t, viaDcc, dccEnv, "./configure >/dev/null && make -j4 >/dev/null 2>&1")
	out := shell(t, viaDcc, dccEnv, "make test 2>&1")
	assert.Contains(t, out, "*** zlib test OK ***")
	assert.Contains(t, out, "*** zlib shared test OK ***")

	n := requireIdenticalProducts(t, plain, viaDcc)
	t.Logf("zlib: %d objects and libraries identical", n)

	// Every object of the library was built by a compile dcc would distribute.
	remote := map[string]bool{}
	counts := map[string]int{}
	for _, e := range readLog(t, logPath) {
		counts[e.Action]++
		if e.Action == "remote" {
			remote[e.Object] = true
		}
	}
	t.Logf("zlib through dcc: compiles by action %v", counts)
	for _, obj := range []string{"adler32.o", "deflate.o", "inflate.o", "objs/adler32.o", "objs/deflate.o", "objs/inflate.o"} {
		assert.True(t, remote[obj], "%s should be classified remote", obj)
	}
}

func TestCMakeLauncher(t *testing.T) {
	requireTool(t, "cmake")
	requireTool(t, "gcc")
	requireTool(t, "g++")
	project := t.TempDir()
	writeFiles(t, project, map[string]string{
		"CMakeLists.txt": "cmake_minimum_required(VERSION 3.13)\nproject(demo C CXX)\n" +
			"add_library(demo STATIC src/one.c src/two.cpp)\ntarget_include_directories(demo PRIVATE include)\n" +
			"target_compile_definitions(demo PRIVATE ANSWER=42)\n",
		"include/demo.h": "int one(void);\n",
		"src/one.c":      "#include \"demo.h\"\nint one(void) { return ANSWER; }\n",
		"src/two.cpp":    "#include <vector>\nextern \"C\" int one(void);\nint two() { std::vector<int> v{one(), 2}; return v[0] + v[1]; }\n",
	})
	logPath := filepath.Join(t.TempDir(), "dcc.log")
	build := func(dir string, launcher bool) {
		args := "-S " + project + " -B " + dir + " -DCMAKE_BUILD_TYPE=Release"
		if launcher {
			args += " -DCMAKE_C_COMPILER_LAUNCHER=" + dccBin + " -DCMAKE_CXX_COMPILER_LAUNCHER=" + dccBin
		}
		shell(t, project, []string{"DCC_LOG=" + logPath}, "cmake "+args+" >/dev/null && cmake --build "+dir+" >/dev/null")
	}
	plain, viaDcc := filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "b")
	build(plain, false)
	build(viaDcc, true)
	requireIdenticalProducts(t, plain, viaDcc)

	entries := readLog(t, logPath)
	require.Len(t, entries, 2, "one log line per compile through the launcher")
	for _, e := range entries {
		assert.True(t, filepath.IsAbs(e.Compiler), "CMake passes the compiler's full path: %s", e.Compiler)
		assert.Equal(t, "remote", e.Action, "%s: %s", e.Source, e.Reason)
	}
}
