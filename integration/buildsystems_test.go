package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildSystems is the matrix of TestBuildSystems: the same project
// (testdata/buildsys: a static library of three C sources and a C++ one,
// and a program) built by make, CMake with Ninja and with Unix Makefiles,
// meson with ninja, and autotools.
func buildSystems() []bsSystem {
	dccCC := `CC="` + dccBin + ` gcc" CXX="` + dccBin + ` g++"`
	cmake := func(generator string) func(bsWay) string {
		return func(way bsWay) string {
			c := `cmake -S . -B build -G "` + generator + `" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON`
			switch way {
			case bsPrefix:
				c += " -DCMAKE_C_COMPILER_LAUNCHER=" + dccBin + " -DCMAKE_CXX_COMPILER_LAUNCHER=" + dccBin
			case bsCcacheLauncher:
				c += " -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
			}
			return c
		}
	}
	cmakeBuild := func(bsWay) string { return "cmake --build build -j4" }
	return []bsSystem{
		{
			name: "make", tools: []string{"make"}, prefixName: "prefix",
			configure: func(bsWay) string { return "" },
			build: func(way bsWay) string {
				if way == bsPrefix {
					return "make -j4 " + dccCC
				}
				return "make -j4" // make's own CC, cc, and CXX, g++
			},
			reset: "make clean", clean: "make clean", out: ".",
		},
		{
			name: "cmake-ninja", tools: []string{"cmake", "ninja"}, prefixName: "launcher",
			configure: cmake("Ninja"), build: cmakeBuild, reset: "rm -rf build", clean: "cmake --build build --target clean", out: "build",
			configured: cmakeNinjaConfigured, ninjaDeps: true, ccacheLauncher: true, host: true, compileCommands: true,
		},
		{
			name: "cmake-make", tools: []string{"cmake", "make"}, prefixName: "launcher",
			configure: cmake("Unix Makefiles"), build: cmakeBuild, reset: "rm -rf build", clean: "cmake --build build --target clean", out: "build",
		},
		{
			name: "meson", tools: []string{"meson", "ninja"}, masqueradeTools: []string{"ccache"}, prefixName: "prefix",
			configure: func(bsWay) string { return "meson setup build" },
			build:     func(bsWay) string { return "ninja -C build" },
			reset:     "rm -rf build", clean: "ninja -C build clean", out: "build",
			env: func(way bsWay) []string {
				if way == bsPrefix {
					return []string{"CC=" + dccBin + " gcc", "CXX=" + dccBin + " g++"}
				}
				return nil
			},
			configured: mesonConfigured, ninjaDeps: true,
		},
		{
			name: "autotools", tools: []string{"autoreconf", "autoconf", "automake", "make"}, prefixName: "prefix",
			prepare: "autoreconf -i",
			configure: func(way bsWay) string {
				c := "mkdir build && cd build && ../configure -q"
				if way == bsPrefix {
					c += " " + dccCC
				}
				return c
			},
			build: func(bsWay) string { return "make -C build -j4" },
			reset: "rm -rf build", clean: "make -C build clean", out: "build",
		},
	}
}

// mesonConfigured checks who meson put in front of the compiles: with
// ccache installed, ccache (the link to dcc) in the masquerade way, and
// dcc itself, from CC, in the prefix way.
func mesonConfigured(t *testing.T, p *bsProject, way bsWay) {
	t.Helper()
	ninja := string(readFile(t, filepath.Join(p.dir, "build", "build.ninja")))
	switch way {
	case bsMasquerade:
		require.Contains(t, ninja, "command = ccache cc ", "meson put ccache (the link to dcc, first in PATH) in front of the compiles")
	case bsPrefix:
		require.Contains(t, ninja, dccBin+" gcc", "meson took CC")
		require.NotContains(t, ninja, "ccache", "meson adds no ccache to a CC of its user's")
	}
}

// cmakeNinjaConfigured checks that the ccache launcher row's compiles run
// "ccache" (the link to dcc) in front of the compiler dcc's link, cc.
func cmakeNinjaConfigured(t *testing.T, p *bsProject, way bsWay) {
	t.Helper()
	if way == bsCcacheLauncher {
		rules := string(readFile(t, filepath.Join(p.dir, "build", "CMakeFiles", "rules.ninja")))
		require.Contains(t, rules, "command = ccache "+filepath.Join(p.links, "cc")+" ", "ccache in front of the compiles")
	}
}

// TestBuildSystems builds one project with every build system, both
// through a masquerade directory made by "dcc install-links" (with ccache
// installed, as on most machines, meson puts ccache in front: the link to
// dcc) and by naming dcc in the compiler (CC="dcc gcc", CMake's compiler
// launcher). Each row builds cold, then again after a clean: the cold
// build misses on every unit, the warm one hits on every unit, and both
// write the objects and dependency files of a plain build at the same
// paths, byte for byte, debug information included. CMake with Ninja also
// sends the launcher row's compiles to a real dcc-server, builds with
// ccache as the project's launcher (the link to dcc in the masquerade
// directory), and replays its compile_commands.json through dcc.
func TestBuildSystems(t *testing.T) {
	requireTool(t, "gcc")
	requireTool(t, "g++")
	start := time.Now()
	t.Cleanup(func() { t.Logf("the matrix took %v", time.Since(start).Round(time.Millisecond)) })
	links := t.TempDir()
	out := shell(t, links, nil, dccBin+" install-links "+links)
	if _, err := exec.LookPath("ccache"); err == nil {
		assert.Contains(t, out, "ccache -> dcc (in place of ", "ccache is installed: install-links links it to dcc")
	}
	for _, sys := range buildSystems() {
		t.Run(sys.name, func(t *testing.T) {
			t.Parallel()
			for _, tool := range sys.tools {
				requireTool(t, tool)
			}
			p := newBSProject(t, sys, links)
			t.Run("masquerade", func(t *testing.T) {
				for _, tool := range sys.masqueradeTools {
					requireTool(t, tool)
				}
				p.row(t, bsMasquerade)
			})
			t.Run(sys.prefixName, func(t *testing.T) {
				var extra []string
				if sys.host {
					h := startHost(t, "127.0.0.2", 4)
					extra = append(hostsEnv(4, h), "DCC_LOCAL_THRESHOLD=0")
				}
				cold, _, d := p.row(t, bsPrefix, extra...)
				if sys.host {
					assert.Positive(t, cold["remote"], "the host compiled: %v", cold)
					assert.Zero(t, cold["fallbacks"], "%v", cold)
					t.Logf("cold build through a dcc-server: %d of %d units on the host %v", cold["remote"], bsUnits, hostCounts(t, d))
				}
			})
			if sys.ccacheLauncher {
				t.Run("ccache-launcher", func(t *testing.T) {
					requireTool(t, "ccache")
					p.row(t, bsCcacheLauncher)
				})
			}
			if sys.compileCommands {
				t.Run("compile-commands", func(t *testing.T) { p.replayCompileCommands(t) })
			}
		})
	}
}

// compileCommand is one entry of a compile_commands.json.
type compileCommand struct {
	Directory string   `json:"directory"`
	Command   string   `json:"command"`
	Arguments []string `json:"arguments"`
	File      string   `json:"file"`
}

// shellLine is the entry's command as a shell line.
func (c compileCommand) shellLine() string {
	if c.Command != "" {
		return c.Command
	}
	quoted := make([]string, len(c.Arguments))
	for i, a := range c.Arguments {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

// replayCompileCommands configures the plain build again (which writes
// compile_commands.json and compiles nothing), then runs each entry's
// command with dcc in front in its directory, twice with the objects
// removed in between: the first replay misses on every unit, the second
// hits on every unit, and both write the plain build's objects.
func (p *bsProject) replayCompileCommands(t *testing.T) {
	t.Helper()
	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	shell(t, p.dir, nil, p.sys.reset)
	shell(t, p.dir, nil, p.sys.configure(bsPlain))
	var entries []compileCommand
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(p.dir, p.sys.out, "compile_commands.json")), &entries))
	require.Len(t, entries, bsUnits, "one entry per unit")
	replay := func() (map[string]int64, time.Duration) {
		before := d.stats(t)
		start := time.Now()
		for _, e := range entries {
			shell(t, e.Directory, d.env, dccBin+" "+e.shellLine())
		}
		took := time.Since(start)
		assertSameOutputs(t, objectsIn(p.want), objectsIn(bsOutputs(t, filepath.Join(p.dir, p.sys.out))))
		return statsDelta(d.stats(t), before), took
	}
	first, firstTime := replay()
	assert.Equal(t, int64(bsUnits), first["misses"], "first replay: %v; daemon.log:\n%s", first, d.logTail(20))
	for name := range objectsIn(p.want) {
		require.NoError(t, os.Remove(filepath.Join(p.dir, p.sys.out, name)))
	}
	second, secondTime := replay()
	assert.Equal(t, int64(bsUnits), second["hits"], "second replay: %v; daemon.log:\n%s", second, d.logTail(20))
	assert.Zero(t, second["misses"], "second replay: %v", second)
	assert.Zero(t, d.stats(t)["errors"])
	t.Logf("replayed %d entries: first %v (%d misses), second %v (%d hits)",
		len(entries), firstTime.Round(time.Millisecond), first["misses"], secondTime.Round(time.Millisecond), second["hits"])
}
