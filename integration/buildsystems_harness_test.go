package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bsUnits is the number of compile units of testdata/buildsys: four C
// sources and one C++ source.
const bsUnits = 5

// bsProgramOutput is what the project's program prints.
const bsProgramOutput = "calc 162 (fmt.c)\n"

// bsNinjaDeps names the dependencies ninja kept among a build's outputs.
const bsNinjaDeps = "(ninja -t deps)"

// ninjaDepsMtime matches the time in a line of "ninja -t deps", which
// differs between builds.
var ninjaDepsMtime = regexp.MustCompile(`, deps mtime \d+`)

// bsWay is how a build of the matrix reaches dcc.
type bsWay int

const (
	// bsPlain builds without dcc: the reference build.
	bsPlain bsWay = iota
	// bsMasquerade puts a directory of links made by "dcc install-links"
	// first in PATH.
	bsMasquerade
	// bsPrefix names dcc in the build's compiler: CC="dcc gcc", or CMake's
	// compiler launcher.
	bsPrefix
	// bsCcacheLauncher is a CMake project that sets ccache as its
	// compiler launcher, built with the masquerade directory (where
	// ccache is dcc) first in PATH.
	bsCcacheLauncher
)

// bsSystem is one build system of the matrix. Its commands are shell
// scripts run in the project's directory.
type bsSystem struct {
	name string
	// tools must be in PATH for the system's rows.
	tools []string
	// masqueradeTools must be in PATH for the masquerade row (ccache,
	// which meson puts in front of compiles).
	masqueradeTools []string
	// prefixName names the subtest of the prefix way ("launcher" for CMake).
	prefixName string
	// prepare runs once in the fresh copy of the project (autoreconf -i).
	prepare string
	// configure returns the command that sets up a build ("" for none).
	configure func(way bsWay) string
	// build returns the command that builds.
	build func(way bsWay) string
	// reset removes the build directory, or for make what it built, before
	// a configure.
	reset string
	// clean is the build's own clean target: the warm rebuild follows it,
	// with no new configure.
	clean string
	// out is the directory of the objects and the program, relative to the
	// project.
	out string
	// env returns extra environment for a way's commands (nil: none).
	env func(way bsWay) []string
	// configured, when set, checks a build the way just configured.
	configured func(t *testing.T, p *bsProject, way bsWay)
	// ccacheLauncher adds the row of bsCcacheLauncher.
	ccacheLauncher bool
	// host sends the prefix way's compiles to a real dcc-server.
	host bool
	// ninjaDeps: ninja reads and removes the dependency files; the
	// dependencies it kept ("ninja -t deps") are compared instead.
	ninjaDeps bool
	// compileCommands also replays the compile_commands.json of the plain
	// configuration through dcc (CMake's CMAKE_EXPORT_COMPILE_COMMANDS).
	compileCommands bool
}

// bsProject is one system's copy of testdata/buildsys, where every build
// of its rows runs, one after the other, at the same paths: objects with
// debug information record them, so the comparison with the plain build
// is byte for byte.
type bsProject struct {
	sys bsSystem
	// dir is the project's directory.
	dir string
	// links is the masquerade directory made by "dcc install-links".
	links string
	// want are the plain build's objects and dependency files.
	want map[string][]byte
}

// newBSProject copies the test project for sys, prepares it, and builds
// it without dcc, keeping the outputs as the reference.
func newBSProject(t *testing.T, sys bsSystem, links string) *bsProject {
	t.Helper()
	p := &bsProject{sys: sys, dir: filepath.Join(t.TempDir(), "calc"), links: links}
	require.NoError(t, os.CopyFS(p.dir, os.DirFS(filepath.Join(repoRoot, "integration", "testdata", "buildsys"))))
	if sys.prepare != "" {
		shell(t, p.dir, nil, sys.prepare)
	}
	start := time.Now()
	_, p.want = p.pass(t, bsPlain, p.wayEnv(bsPlain, nil), nil, true)
	require.Len(t, objectsOf(p.want), bsUnits, "the plain build's objects: %v", keysOf(p.want))
	p.checkProgram(t)
	t.Logf("plain build: %v", time.Since(start).Round(time.Millisecond))
	return p
}

// wayEnv is the environment of a way's commands: the daemon's (none for
// the plain build), the masquerade directory first in PATH, the system's.
func (p *bsProject) wayEnv(way bsWay, d *projectDaemon) []string {
	// A real ccache (meson puts it in front of the plain build) keeps out
	// of the user's cache; in the plain build it runs the compiler, caching
	// nothing.
	env := []string{"CCACHE_DIR=" + filepath.Join(filepath.Dir(p.dir), "ccache")}
	if way == bsPlain {
		env = append(env, "CCACHE_DISABLE=1")
	}
	if d != nil {
		env = append(env, d.env...)
	}
	if way == bsMasquerade || way == bsCcacheLauncher {
		env = append(env, "PATH="+withPath(p.links))
	}
	if p.sys.env != nil {
		env = append(env, p.sys.env(way)...)
	}
	return env
}

// pass builds the way: after a reset and a configure when fresh, else
// after the build's clean target. It returns what the build alone
// (configure left out) added to the daemon's counters (none without d) and
// the build's outputs.
func (p *bsProject) pass(t *testing.T, way bsWay, env []string, d *projectDaemon, fresh bool) (map[string]int64, map[string][]byte) {
	t.Helper()
	if fresh {
		shell(t, p.dir, env, p.sys.reset)
		if c := p.sys.configure(way); c != "" {
			shell(t, p.dir, env, c)
		}
		if p.sys.configured != nil {
			p.sys.configured(t, p, way)
		}
	} else {
		shell(t, p.dir, env, p.sys.clean)
		require.Empty(t, objectsOf(bsOutputs(t, filepath.Join(p.dir, p.sys.out))), "%s removed the objects", p.sys.clean)
	}
	var before map[string]int64
	if d != nil {
		before = d.stats(t)
	}
	shell(t, p.dir, env, p.sys.build(way))
	out := bsOutputs(t, filepath.Join(p.dir, p.sys.out))
	if p.sys.ninjaDeps {
		// ninja reads the dependency files into its log and removes them:
		// what it kept of them stands in for them.
		out[bsNinjaDeps] = ninjaDeps(t, filepath.Join(p.dir, p.sys.out))
	}
	if d == nil {
		return nil, out
	}
	return statsDelta(d.stats(t), before), out
}

// checkProgram runs the program the build linked.
func (p *bsProject) checkProgram(t *testing.T) {
	t.Helper()
	out, err := exec.Command(filepath.Join(p.dir, p.sys.out, "calc")).CombinedOutput()
	require.NoError(t, err, "the program: %s", out)
	assert.Equal(t, bsProgramOutput, string(out), "the program's output")
}

// row builds the project the way, twice with a fresh daemon and cache of
// its own: configured anew and cold (every unit a miss), then after the
// build's clean target (every unit a hit). Both builds write the plain
// build's objects and dependency files, byte for byte. extra is added to
// the environment of the daemon and of every command (compile hosts).
func (p *bsProject) row(t *testing.T, way bsWay, extra ...string) (cold, warm map[string]int64, d *projectDaemon) {
	t.Helper()
	d = newProjectDaemon(t, "60s")
	d.env = append(d.env, extra...)
	t.Cleanup(func() { d.stop(t) })
	env := p.wayEnv(way, d)

	start := time.Now()
	cold, got := p.pass(t, way, env, d, true)
	coldTime := time.Since(start)
	assertSameOutputs(t, p.want, got)
	p.checkProgram(t)
	assert.Equal(t, int64(bsUnits), cold["misses"], "the cold build compiles every unit through dcc: %v; daemon.log:\n%s", cold, d.logTail(20))
	assert.Zero(t, cold["hits"], "cold build: %v", cold)

	start = time.Now()
	warm, got = p.pass(t, way, env, d, false)
	warmTime := time.Since(start)
	assertSameOutputs(t, p.want, got)
	p.checkProgram(t)
	assert.Equal(t, int64(bsUnits), warm["hits"], "the warm build is served from the cache: %v; daemon.log:\n%s", warm, d.logTail(20))
	assert.Zero(t, warm["misses"], "warm build: %v", warm)

	assert.Zero(t, d.stats(t)["errors"], "no error inside dcc, configure included; daemon.log:\n%s", d.logTail(20))
	t.Logf("cold %v (%d misses), warm %v (%d hits, %d direct): %d objects and dependency files identical to the plain build's",
		coldTime.Round(time.Millisecond), cold["misses"], warmTime.Round(time.Millisecond), warm["hits"], warm["direct_hits"], len(p.want))
	return cold, warm, d
}

// bsOutputs reads every object and dependency file (.o, .d, and
// automake's .Po) under dir, by relative name, leaving out CMake's
// compiler identification and configure checks.
func bsOutputs(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if e.IsDir() {
			if e.Name() == "CMakeScratch" || strings.HasPrefix(rel, filepath.Join("CMakeFiles", "3.")) {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".o", ".d", ".Po":
			out[rel] = readFile(t, p)
		}
		return nil
	}))
	return out
}

// ninjaDeps is what "ninja -t deps" says ninja kept of a build's
// dependency files in dir: one record per target, in the order of their
// names (ninja lists them in the order they were built), without the time.
func ninjaDeps(t *testing.T, dir string) []byte {
	t.Helper()
	out := shell(t, dir, nil, "ninja -t deps")
	records := strings.Split(strings.TrimSpace(ninjaDepsMtime.ReplaceAllString(out, "")), "\n\n")
	sort.Strings(records)
	return []byte(strings.Join(records, "\n\n") + "\n")
}

// statsDelta is after minus before, counter by counter.
func statsDelta(after, before map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if v != before[k] {
			out[k] = v - before[k]
		}
	}
	return out
}

// objectsIn keeps the objects of outputs.
func objectsIn(outputs map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, name := range objectsOf(outputs) {
		out[name] = outputs[name]
	}
	return out
}

// keysOf lists a map's names, for messages.
func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
