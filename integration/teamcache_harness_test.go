package integration

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// teamUnits are the translation units of teamProject, and teamPathUnits
// those whose object records where the checkout is (__FILE__).
const (
	teamUnits     = 6
	teamPathUnits = 1
)

// teamProject writes a small CMake project under dir, a git checkout (its
// project root): a C and C++ library with public headers and a program,
// every source and include directory named by CMake by its absolute path,
// and one unit whose object records its own path (__FILE__).
func teamProject(t testing.TB, dir string) {
	t.Helper()
	writeFiles(t, dir, map[string]string{
		".git/HEAD": "ref: refs/heads/main\n",
		"CMakeLists.txt": "cmake_minimum_required(VERSION 3.13)\nproject(team C CXX)\n" +
			"add_library(core STATIC core/parse.c core/table.c core/format.cpp core/where.c)\n" +
			"target_include_directories(core PUBLIC ${PROJECT_SOURCE_DIR}/include)\n" +
			"add_executable(tool tool/main.c tool/opts.c)\ntarget_link_libraries(tool core)\n" +
			// MIDBUILD runs between the library and the program.
			"if(MIDBUILD)\n  separate_arguments(cmd UNIX_COMMAND \"${MIDBUILD}\")\n" +
			"  add_custom_target(midbuild COMMAND ${cmd})\n  add_dependencies(midbuild core)\n  add_dependencies(tool midbuild)\nendif()\n",
		"include/core.h": "#ifndef CORE_H\n#define CORE_H\n#include <stddef.h>\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n" +
			"int core_parse(const char *);\nint core_lookup(int);\nsize_t core_format(char *, size_t, int);\nconst char *core_where(void);\n" +
			"int tool_opts(int, char **);\n#ifdef __cplusplus\n}\n#endif\n#endif\n",
		"core/parse.c":    "#include <stdlib.h>\n#include <ctype.h>\n#include \"core.h\"\nint core_parse(const char *s) {\n  while (isspace((unsigned char)*s)) s++;\n  return atoi(s);\n}\n",
		"core/table.c":    "#include \"core.h\"\nstatic const int table[] = {1, 1, 2, 3, 5, 8, 13, 21};\nint core_lookup(int i) { return table[i & 7]; }\n",
		"core/format.cpp": "#include <string>\n#include <cstring>\n#include \"core.h\"\nsize_t core_format(char *buf, size_t n, int v) {\n  std::string s = \"value \" + std::to_string(v);\n  std::strncpy(buf, s.c_str(), n);\n  return s.size();\n}\n",
		"core/where.c":    "#include \"core.h\"\nconst char *core_where(void) { return __FILE__; }\n",
		"tool/opts.c":     "#include <string.h>\n#include \"core.h\"\nint tool_opts(int argc, char **argv) {\n  int n = 0;\n  for (int i = 1; i < argc; i++) n += strlen(argv[i]) > 0;\n  return n;\n}\n",
		"tool/main.c":     "#include <stdio.h>\n#include \"core.h\"\nint main(int argc, char **argv) {\n  char buf[64];\n  core_format(buf, sizeof buf, core_lookup(core_parse(\"4\")) + tool_opts(argc, argv));\n  printf(\"%s %s\\n\", buf, core_where());\n  return 0;\n}\n",
	})
}

// teamCheckouts are two checkouts of teamProject at different places (at
// different depths), with what a plain build of each writes.
type teamCheckouts struct {
	a, b         string
	wantA, wantB map[string][]byte
	// cflags are added to CMAKE_C_FLAGS and CMAKE_CXX_FLAGS, with ROOT
	// replaced by the checkout's directory.
	buildType, cflags string
	// midbuild is a command the next build runs once the library is
	// built, before the program's units (then it is cleared); jobs is
	// the build's parallelism (default 4).
	midbuild string
	jobs     int
}

// newTeamCheckouts lays out the two checkouts and builds each plainly.
func newTeamCheckouts(t *testing.T, buildType, cflags string) *teamCheckouts {
	t.Helper()
	for _, tool := range []string{"cmake", "gcc", "g++", "make"} {
		requireTool(t, tool)
	}
	root := t.TempDir()
	c := &teamCheckouts{a: filepath.Join(root, "alice", "team"), b: filepath.Join(root, "bob", "src", "team"),
		buildType: buildType, cflags: cflags}
	teamProject(t, c.a)
	teamProject(t, c.b)
	c.wantA = c.build(t, c.a, nil, nil)
	c.wantB = c.build(t, c.b, nil, nil)
	return c
}

// build configures and builds the checkout at dir in dir/build, through
// dcc as the compiler launcher when d is set (its counters zeroed after
// the configure step), and returns the objects and dependency files
// written; the build directory is removed after.
func (c *teamCheckouts) build(t *testing.T, dir string, d *projectDaemon, env []string) map[string][]byte {
	t.Helper()
	build := filepath.Join(dir, "build")
	flags := strings.ReplaceAll(c.cflags, "ROOT", dir)
	args := []string{"-S", dir, "-B", build, "-DCMAKE_BUILD_TYPE=" + c.buildType, "-DCMAKE_C_COMPILER=gcc", "-DCMAKE_CXX_COMPILER=g++",
		"-DCMAKE_C_FLAGS=" + flags, "-DCMAKE_CXX_FLAGS=" + flags}
	if c.midbuild != "" {
		args = append(args, "-DMIDBUILD="+c.midbuild)
		c.midbuild = ""
	}
	if d != nil {
		args = append(args, "-DCMAKE_C_COMPILER_LAUNCHER="+dccBin, "-DCMAKE_CXX_COMPILER_LAUNCHER="+dccBin)
		env = append(append([]string{}, d.env...), env...)
	}
	run := func(argv ...string) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s:\n%s", strings.Join(argv, " "), out)
	}
	run(append([]string{"cmake"}, args...)...)
	if d != nil {
		run(dccBin, "stats", "--zero")
	}
	run("cmake", "--build", build, fmt.Sprintf("-j%d", cmp.Or(c.jobs, 4)))
	out := collectOutputs(t, build)
	require.Len(t, objectsOf(out), teamUnits)
	require.NoError(t, os.RemoveAll(build))
	return out
}

// objectsOf keeps the objects of outputs.
func objectsOf(outputs map[string][]byte) []string {
	var out []string
	for name := range outputs {
		if strings.HasSuffix(name, ".o") {
			out = append(out, name)
		}
	}
	return out
}

// prometheus returns the unlabelled metrics of "dcc stats --prometheus",
// read with Prometheus's own parser.
func (d *projectDaemon) prometheus(tb testing.TB) map[string]float64 {
	tb.Helper()
	cmd := exec.Command(dccBin, "stats", "--prometheus")
	cmd.Env = append(os.Environ(), d.env...)
	out, err := cmd.Output()
	require.NoError(tb, err, "dcc stats --prometheus")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(out))
	require.NoError(tb, err, "dcc stats --prometheus printed %s", out)
	values := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) == 0 {
				values[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return values
}
