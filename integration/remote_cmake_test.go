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

// cmakeProject writes a small CMake project under dir: a C library and a
// program in subdirectories, a C++ file, public headers in include/, a
// header CMake generates into the build tree (configure_file, as most
// projects do), a macro call over two lines and __FILE__ (which debug
// information and the data record). CMake names every source and include
// directory by its absolute path.
func cmakeProject(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"CMakeLists.txt": "cmake_minimum_required(VERSION 3.13)\nproject(demo C CXX)\n" +
			"configure_file(config.h.in ${CMAKE_BINARY_DIR}/generated/config.h)\n" +
			"add_subdirectory(lib)\nadd_subdirectory(app)\n",
		"config.h.in":    "#define DEMO_VERSION \"1.2\"\n#define DEMO_SCALE 3\n",
		"include/demo.h": "#ifndef DEMO_H\n#define DEMO_H\n#include <stddef.h>\n#include \"config.h\"\n#define DEMO_MUL(a, b) \\\n  ((a) * (b) * DEMO_SCALE)\nint demo_unit(int);\nsize_t demo_name(char *, size_t);\n#endif\n",
		"lib/CMakeLists.txt": "add_library(demo STATIC " + strings.Join(cmakeUnits("lib", 6, ".c"), " ") + " names.cpp)\n" +
			"target_include_directories(demo PUBLIC ${PROJECT_SOURCE_DIR}/include ${CMAKE_BINARY_DIR}/generated)\n",
		"lib/names.cpp": "#include <string>\n#include <cstring>\nextern \"C\" {\n#include \"demo.h\"\n}\n" +
			"extern \"C\" size_t demo_name(char *buf, size_t n) {\n  std::string s = std::string(\"demo \") + DEMO_VERSION + \" \" + __FILE__;\n" +
			"  std::strncpy(buf, s.c_str(), n);\n  return s.size();\n}\n",
		"app/CMakeLists.txt": "add_executable(app main.c " + strings.Join(cmakeUnits("app", 4, ".c"), " ") + ")\ntarget_link_libraries(app demo)\n",
		"app/main.c": "#include <stdio.h>\n#include \"demo.h\"\nint app_unit0(int);\n" +
			"int main(void) {\n  char buf[256];\n  demo_name(buf, sizeof buf);\n  printf(\"%s %d %d\\n\", buf, demo_unit(2),\n    app_unit0(1));\n  return 0;\n}\n",
	}
	for i, name := range cmakeUnits("lib", 6, ".c") {
		files["lib/"+name] = fmt.Sprintf("#include <stdio.h>\n#include <string.h>\n#include \"demo.h\"\n"+
			"int lib_unit%d(int v) {\n  char s[32];\n  snprintf(s, sizeof s, \"%%d %%s\", v, __FILE__);\n  return DEMO_MUL(v,\n    %d) + (int)strlen(s);\n}\n", i, i+1)
	}
	files["lib/"+cmakeUnits("lib", 6, ".c")[0]] += "int demo_unit(int v) { return lib_unit0(v); }\n"
	for i, name := range cmakeUnits("app", 4, ".c") {
		files["app/"+name] = fmt.Sprintf("#include <stdio.h>\n#include \"demo.h\"\nint app_unit%d(int v) {\n  return DEMO_MUL(v, %d) +\n    printf(\"%%s\\n\", __FILE__);\n}\n", i, i+2)
	}
	writeFiles(t, dir, files)
}

// cmakeUnits names n sources of a directory.
func cmakeUnits(prefix string, n int, ext string) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s_unit%d%s", prefix, i, ext))
	}
	return out
}

// collectOutputs copies every object and dependency file under dir into a
// map by relative name.
func collectOutputs(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".o") || strings.HasSuffix(p, ".o.d") || strings.HasSuffix(p, ".d") {
			rel, _ := filepath.Rel(dir, p)
			out[rel] = readFile(t, p)
		}
		return nil
	}))
	return out
}

// TestRemoteCMakeRelWithDebInfo builds a CMake project at RelWithDebInfo
// (-O2 -g) with dcc as the compiler launcher through two hosts: CMake's
// absolute sources and include directories (in the source tree and in the
// build tree) go to the hosts with their sources, and every object and
// dependency file is byte for byte the one a plain CMake build in the same
// build directory writes, debug information (the client's absolute paths)
// included.
func TestRemoteCMakeRelWithDebInfo(t *testing.T) {
	for _, tool := range []string{"cmake", "gcc", "g++", "make"} {
		requireTool(t, tool)
	}
	h1, h2 := startHost(t, "127.0.0.2", 4), startHost(t, "127.0.0.3", 4)
	project := filepath.Join(t.TempDir(), "demo")
	cmakeProject(t, project)
	build := filepath.Join(t.TempDir(), "build")
	configure := func(launcher bool) {
		args := fmt.Sprintf("cmake -S %s -B %s -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++", project, build)
		if launcher {
			args += " -DCMAKE_C_COMPILER_LAUNCHER=" + dccBin + " -DCMAKE_CXX_COMPILER_LAUNCHER=" + dccBin
		}
		shell(t, project, nil, args+" >/dev/null")
	}

	// The plain build first, then the dcc build in the same directory: the
	// debug information records the build directory.
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
	t.Logf("cmake RelWithDebInfo: %v; per host %v", st, hosts)
	assert.Zero(t, st["errors"], "daemon.log:\n%s", d.logTail(30))
	assert.Zero(t, st["fallbacks"], "daemon.log:\n%s", d.logTail(30))
	assert.Positive(t, st["remote_sources"], "the -g units went to the hosts with their sources; daemon.log:\n%s", d.logTail(30))
	assert.Equal(t, st["remote"], st["remote_sources"], "every remote compile went with its sources")
	assert.Len(t, hosts, 2, "both hosts compiled")
	units := 0
	for name := range want {
		if strings.HasSuffix(name, ".o") {
			units++
		}
	}
	assert.GreaterOrEqual(t, st["remote_sources"], int64(units/2), "most of the %d units went to the hosts", units)

	require.NotEmpty(t, want)
	assert.Equal(t, len(want), len(got), "the same outputs")
	for name, b := range want {
		assert.Equal(t, b, got[name], "%s differs from the plain build's", name)
	}
	t.Logf("%d objects and dependency files identical to the plain build's", len(want))
}
