package integration

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mmdUnits is how many sources the -MMD project compiles; mmdPlain of them
// (the last ones) without debug information.
const (
	mmdUnits = 24
	mmdPlain = 4
)

// mmdProject writes a project built by a hand-written Makefile the way many
// are: each object compiled with -MF .depend/NAME.o.d -MQ NAME.o -MMD -MP,
// the dependency files included by the Makefile. The headers exercise what
// -MMD leaves out: the C library's, a vendor library's in an -isystem
// directory (and the header it includes from its own directory), a project
// header the vendor header includes before the sources do, and project
// headers included from the sources' and the include directory's own
// directories.
func mmdProject(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"Makefile": "CC ?= gcc\nCFLAGS = -g -O2\nCPPFLAGS = -Iinclude -isystem vendor\n" +
			"SRCS = $(wildcard src/*.c)\nOBJS = $(SRCS:src/%.c=obj/%.o)\n\n" +
			"all: prog\n\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n" +
			"obj/%.o: src/%.c\n\t@mkdir -p obj/.depend\n" +
			"\t$(CC) -MF obj/.depend/$*.o.d -MQ $@ -MMD -MP $(CFLAGS) $(CPPFLAGS) -c $< -o $@\n\n" +
			// The last units are compiled without debug information.
			nodebugRule() +
			"clean:\n\trm -rf obj prog\n\n-include $(wildcard obj/.depend/*.d)\n",
		"vendor/vendor.h":          "#ifndef VENDOR_H\n#define VENDOR_H\n#include <stdlib.h>\n#include \"vendor_impl.h\"\n#include <project_config.h>\n#define VENDOR_CALL(x) (vendor_base + (x))\n#endif\n",
		"vendor/vendor_impl.h":     "static const int vendor_base = 40;\n",
		"include/project_config.h": "#ifndef PROJECT_CONFIG_H\n#define PROJECT_CONFIG_H\n#define PROJECT_LIMIT 64\n#endif\n",
		"include/util.h":           "#ifndef UTIL_H\n#define UTIL_H\n#include \"util/detail.h\"\n#include <string.h>\nint unit_value(int i);\n#endif\n",
		"include/util/detail.h":    "#define UTIL_DETAIL(a, b) \\\n  ((a) * 10 + (b))\n",
	}
	main := "#include <stdio.h>\n#include \"util.h\"\n"
	var calls []string
	for i := range mmdUnits {
		name := fmt.Sprintf("src/unit%02d.c", i)
		files[name] = fmt.Sprintf("#include <stdio.h>\n#include <vendor.h>\n#include \"local%02d.h\"\n#include <project_config.h>\n#include \"util.h\"\n"+
			"int unit%02d(void) {\n  char s[PROJECT_LIMIT];\n  snprintf(s, sizeof s, \"%%s\", __FILE__);\n"+
			"  return UTIL_DETAIL(LOCAL%02d,\n    VENDOR_CALL(%d)) + (int)strlen(s);\n}\n", i, i, i, i)
		files[fmt.Sprintf("src/local%02d.h", i)] = fmt.Sprintf("#define LOCAL%02d %d\n", i, i)
		main += fmt.Sprintf("int unit%02d(void);\n", i)
		calls = append(calls, fmt.Sprintf("unit%02d()", i))
	}
	files["src/main.c"] = main + "int main(void) {\n  printf(\"%d\\n\", " + strings.Join(calls, " +\n    ") + ");\n  return 0;\n}\n"
	writeFiles(t, dir, files)
}

// nodebugRule compiles the last mmdPlain units without -g.
func nodebugRule() string {
	var objs []string
	for i := mmdUnits - mmdPlain; i < mmdUnits; i++ {
		objs = append(objs, fmt.Sprintf("obj/unit%02d.o", i))
	}
	return strings.Join(objs, " ") + ": CFLAGS = -O2\n\n"
}

// TestRemoteMMDMakefile builds the -MMD project at -j8 through a host with
// dcc in front of gcc (masquerade): the units, those with -g too, go to the
// host with their sources, and every object and dependency file is byte for
// byte the one plain gcc writes in the same directory.
func TestRemoteMMDMakefile(t *testing.T) {
	requireTool(t, "gcc")
	requireTool(t, "make")
	h := startHost(t, "127.0.0.2", 8)
	dir := filepath.Join(t.TempDir(), "proj")
	mmdProject(t, dir)

	shell(t, dir, []string{"CC=gcc"}, "make -j8 >/dev/null")
	want := collectOutputs(t, filepath.Join(dir, "obj"))
	shell(t, dir, nil, "make clean >/dev/null")

	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	env := append([]string{"CC=gcc", "PATH=" + withPath(masqueradeDir(t, "gcc", "cc"))}, d.env...)
	env = append(env, hostsEnv(8, h)...)
	shell(t, dir, env, "make -j8 >/dev/null")
	got := collectOutputs(t, filepath.Join(dir, "obj"))

	st := d.stats(t)
	t.Logf("-MMD project: %v; per host %v", st, hostCounts(t, d))
	assert.Zero(t, st["errors"], "daemon.log:\n%s", d.logTail(30))
	assert.Zero(t, st["fallbacks"], "daemon.log:\n%s", d.logTail(30))
	assert.Equal(t, st["remote"], st["remote_sources"], "every remote compile went with its sources")
	// Units compiled with -g are all but mmdPlain: more than mmdPlain sent
	// means -g units went too.
	units := mmdUnits + 1
	assert.Greater(t, st["remote_sources"], int64(mmdPlain), "-g units went to the host; daemon.log:\n%s", d.logTail(30))
	assert.GreaterOrEqual(t, st["remote_sources"], int64(units*3/4), "most of the %d units went to the host", units)

	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	require.Len(t, names, 2*units, "an object and a dependency file per unit: %v", names)
	assert.Equal(t, len(want), len(got), "the same outputs")
	for _, name := range names {
		if strings.HasSuffix(name, ".d") {
			assert.Equal(t, string(want[name]), string(got[name]), "%s differs from gcc's", name)
		} else {
			assert.Equal(t, want[name], got[name], "%s differs from gcc's", name)
		}
	}
	// gcc's own -MMD list, for the record: no system header, and not the
	// project header the vendor header read first.
	d0 := string(want[filepath.Join(".depend", "unit00.o.d")])
	assert.NotContains(t, d0, "/usr/include")
	assert.NotContains(t, d0, "vendor")
	assert.NotContains(t, d0, "project_config.h")
	assert.Contains(t, d0, "include/util/detail.h")

	// A second build after a header changes: make reads the dependency files.
	writeFiles(t, dir, map[string]string{"include/util/detail.h": "#define UTIL_DETAIL(a, b) \\\n  ((a) * 100 + (b))\n"})
	shell(t, dir, env, "make -j8 >/dev/null")
	after := d.stats(t)
	assert.Equal(t, st["misses"]+int64(units), after["misses"], "every unit that includes the header was compiled again")
}
