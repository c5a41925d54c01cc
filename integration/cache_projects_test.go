package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// projectRecipe says how to build one real project from its Debian source
// tree, the same way for a plain build, a build through dcc and one through
// ccache: only PATH (and the cache's own variables) differ between them.
type projectRecipe struct {
	// pkg is the Debian source package (scripts/fetch-project.sh PKG).
	pkg string
	// tools are the programs the build needs besides the compilers.
	tools []string
	// setup prepares a fresh copy of the tree (configure, generated files)
	// with the plain compilers, so that no cache sees its probes.
	setup func(tb testing.TB, tree string)
	// build is the shell command of a full build at -j4 (the same -j for
	// every variant); it finds gcc and g++ in PATH.
	build string
	// objects are the name extensions of the files a build compiles: each
	// such file in the built tree is one compile.
	objects []string
	// check runs the project's own tests on a built tree with env added.
	check func(tb testing.TB, tree string, env []string)
	// debugInfo: the build compiles with -g.
	debugInfo bool
}

// compilerLinks are the compiler names the projects call, and so the names of
// the masquerade links put first in PATH.
var compilerLinks = []string{"gcc", "g++", "cc", "c++"}

// projectClean empties a built tree of everything a build compiles: the
// project's own "make clean", then every object, libtool object and archive
// it may have left (lua's clean keeps .lo files and .libs), so that a build
// after it has to produce every object again.
const projectClean = `make clean >/dev/null 2>&1 && find . -type f \( -name '*.o' -o -name '*.lo' -o -name '*.a' \) -delete`

// zlibRecipe builds zlib as its README says: ./configure, make, make test.
// Every C file is compiled twice (static .o and PIC .lo), plus the examples.
func zlibRecipe() projectRecipe {
	return projectRecipe{
		pkg:   "zlib",
		tools: []string{"make"},
		setup: func(tb testing.TB, tree string) {
			shell(tb, tree, []string{"CC=gcc"}, "./configure")
		},
		build:   "make -j4",
		objects: []string{".o", ".lo"},
		check: func(tb testing.TB, tree string, env []string) {
			out := shell(tb, tree, env, "make test 2>&1")
			for _, want := range []string{"*** zlib test OK ***", "*** zlib shared test OK ***", "*** zlib 64-bit test OK ***"} {
				assert.Contains(tb, out, want)
			}
		},
	}
}

// luaFlags evaluates dpkg-buildflags once per build, in src/ as the
// Makefile does (its -ffile-prefix-map names that directory), into shell
// variables that luaMakeVars passes to make: src/Makefile's own
// $(shell dpkg-buildflags ...) runs the Perl script six times per compile,
// half the CPU of a warm rebuild, which would drown the caches' own cost.
// The flags, and so the objects, are the same.
const luaFlags = `cd src && CF="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" && ` +
	`CXF="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)" && ` +
	`LF="$(dpkg-buildflags --get LDFLAGS)" && cd .. && `

// luaMakeVars are the variables Debian's lua5.4 build gets from
// debian/rules (minus readline): its src/Makefile compiles every .c with
// libtool, as C with gcc and as C++ with g++, with dpkg-buildflags' flags
// (-g -O2 -ffile-prefix-map=... -D_FORTIFY_SOURCE=2 ...). The system libtool
// (libtool-bin) stands in for the one debian/rules generates with autoreconf.
const luaMakeVars = `MYCFLAGS="$CF" MYCXXFLAGS="$CXF" MYLDFLAGS="$LF" LIBTOOL="libtool --quiet" CC="gcc -std=gnu99" CXX=g++`

// luaScript exercises the built interpreter: it prints values it computes.
const luaScript = `local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 10 do t[#t + 1] = fib(i) end
print(table.concat(t, ","), string.format("%.4f", math.sqrt(2)), ("dcc"):rep(2):upper(), 7 // 2, 2 ^ 10, utf8.char(955))
`

// luaScriptOutput is what luaScript prints.
const luaScriptOutput = "1,1,2,3,5,8,13,21,34,55\t1.4142\tDCCDCC\t3\t1024.0\tλ\n"

// luaRecipe builds Debian's lua5.4 as debian/rules does: the generated
// multiarch header, then "make linux" with libtool. The objects are built at
// -j4 first (ALL=o) and linked by a serial make, because the library rule
// names two targets and links both in each of its parallel runs.
func luaRecipe() projectRecipe {
	return projectRecipe{
		pkg:   "lua5.4",
		tools: []string{"make", "libtool", "dpkg-buildflags", "dpkg-architecture"},
		setup: func(tb testing.TB, tree string) {
			multiarch := strings.TrimSpace(shell(tb, tree, nil, "dpkg-architecture -qDEB_HOST_MULTIARCH"))
			writeFiles(tb, tree, map[string]string{"src/lua5.4-deb-multiarch.h": "#ifndef _LUA_DEB_MULTIARCH_\n" +
				"#define _LUA_DEB_MULTIARCH_\n#define DEB_HOST_MULTIARCH \"" + multiarch + "\"\n#endif\n"})
		},
		build:     luaFlags + "make -j4 linux ALL=o " + luaMakeVars + " && make linux " + luaMakeVars,
		objects:   []string{".o"},
		debugInfo: true,
		check: func(tb testing.TB, tree string, env []string) {
			assert.Contains(tb, shell(tb, tree, env, `make test LIBTOOL="libtool --quiet" 2>&1`), "Lua 5.4")
			writeFiles(tb, tree, map[string]string{"check.lua": luaScript})
			assert.Equal(tb, luaScriptOutput, shell(tb, tree, env, "src/lua5.4 check.lua"))
			assert.Equal(tb, luaScriptOutput, shell(tb, tree, env, "src/luac5.4 -o check.luac check.lua && src/lua5.4 check.luac"),
				"bytecode compiled by luac")
		},
	}
}

// tomcryptRecipe builds Debian's libtomcrypt with its own makefile: about
// 400 small C units, one per algorithm or mode, into libtomcrypt.a; no
// configure step. IGNORE_SPEED=1 is the makefile's own switch that leaves out
// its -O3 -funroll-loops (so gcc's default, -O0): the network fault test
// builds it ten times (a plain build and nine through dcc) on a 2-CPU
// machine. check builds its test program (make test) and runs it. It is not
// in projectRecipes.
func tomcryptRecipe() projectRecipe {
	return projectRecipe{
		pkg:     "libtomcrypt",
		tools:   []string{"make"},
		setup:   func(testing.TB, string) {},
		build:   "make -j4 IGNORE_SPEED=1 >/dev/null",
		objects: []string{".o"},
		check: func(tb testing.TB, tree string, env []string) {
			out := shell(tb, tree, env, "make -j4 IGNORE_SPEED=1 test >/dev/null && ./test 2>&1")
			assert.Regexp(tb, `SUCCESS: passed=[1-9][0-9]* failed=0`, out)
		},
	}
}

// tomcryptPartDirs are the parts of libtomcrypt the fault suite builds:
// 219 of its 412 units (MACs, modes, hashes, ciphers, stream ciphers,
// PRNGs and the misc functions), which keeps its ten builds within the
// test suite's time.
const tomcryptPartDirs = "src/mac src/modes src/misc src/hashes src/ciphers src/stream src/prngs"

// tomcryptPartRecipe builds tomcryptPartDirs' objects with libtomcrypt's
// own makefile, as tomcryptRecipe does (make names each object as a
// target). The library itself is not linked: check is nil.
func tomcryptPartRecipe() projectRecipe {
	p := tomcryptRecipe()
	p.build = "make -j4 IGNORE_SPEED=1 $(find " + tomcryptPartDirs + " -name '*.c' | sed 's/[.]c$/.o/' | sort) >/dev/null"
	p.check = nil
	return p
}

// projectRecipes are the projects built by the tests and benchmarks.
func projectRecipes() []projectRecipe {
	return []projectRecipe{zlibRecipe(), luaRecipe()}
}

// prepareTree copies the pristine source tree to dst and sets it up. It then
// lets the files setup wrote age past dcc's race guard (files changed just
// before a compile are kept out of direct-mode manifests).
func prepareTree(tb testing.TB, p projectRecipe, src, dst string) {
	tb.Helper()
	copyTree(tb, src, dst)
	p.setup(tb, dst)
	time.Sleep(200 * time.Millisecond)
}

// countObjects counts the files under dir whose names end in one of exts.
func countObjects(tb testing.TB, dir string, exts []string) int {
	tb.Helper()
	n := 0
	require.NoError(tb, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, e := range exts {
			if strings.HasSuffix(p, e) {
				n++
			}
		}
		return nil
	}))
	return n
}

// projectDaemon is the dcc of one project build: a DCC_DIR of its own (short,
// for the socket path), and so a daemon, a cache and counters of its own.
type projectDaemon struct {
	// dir is DCC_DIR.
	dir string
	// env goes into every command that may start or ask the daemon.
	env []string
}

// newProjectDaemon makes a fresh DCC_DIR whose daemon exits by itself after
// idle (should a test leave it behind).
func newProjectDaemon(tb testing.TB, idle string) *projectDaemon {
	tb.Helper()
	dir, err := os.MkdirTemp("", "dcc")
	require.NoError(tb, err)
	return &projectDaemon{dir: dir, env: []string{"DCC_DIR=" + dir, "DCC_IDLE_TIMEOUT=" + idle}}
}

// pid returns the pid in $DCC_DIR/daemon.pid, or 0 when there is none.
func (d *projectDaemon) pid() int {
	b, err := os.ReadFile(filepath.Join(d.dir, "daemon.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// logTail returns the last n lines of the daemon's log.
func (d *projectDaemon) logTail(n int) string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "daemon.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// stats returns the counters of "dcc stats --json".
func (d *projectDaemon) stats(tb testing.TB) map[string]int64 {
	tb.Helper()
	cmd := exec.Command(dccBin, "stats", "--json")
	cmd.Env = append(os.Environ(), d.env...)
	out, err := cmd.Output()
	require.NoError(tb, err, "dcc stats --json")
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var raw map[string]any
	require.NoError(tb, dec.Decode(&raw), "dcc stats --json printed %s", out)
	counters := map[string]int64{}
	for k, v := range raw {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				counters[k] = i
			}
		}
	}
	for _, k := range []string{"hits", "misses", "errors", "uncacheable"} {
		require.Contains(tb, counters, k, "dcc stats --json printed %s", out)
	}
	return counters
}

// stop runs "dcc daemon stop", makes sure the process whose pid the daemon
// wrote is gone (killing it, as an error of the test, if it is not), and
// removes DCC_DIR.
func (d *projectDaemon) stop(tb testing.TB) {
	tb.Helper()
	pid := d.pid()
	cmd := exec.Command(dccBin, "daemon", "stop")
	cmd.Env = append(os.Environ(), d.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Errorf("dcc daemon stop: %v: %s", err, out)
	}
	if pid > 0 {
		for deadline := time.Now().Add(5 * time.Second); processRuns(pid) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if processRuns(pid) {
			tb.Errorf("daemon (pid %d) still runs after dcc daemon stop: killed", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = os.RemoveAll(d.dir)
}

// processRuns reports whether pid is a live process; a zombie (exited, not
// yet reaped by whoever adopted it) is not.
func processRuns(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}

// TestProjectsWarmFromCache builds zlib and lua5.4 from Debian's sources
// through dcc's masquerade links, cold, then warm after a clean: the warm
// build must be served from the cache alone, every object must be identical
// to a plain gcc build's, and the project's own tests must pass.
func TestProjectsWarmFromCache(t *testing.T) {
	for _, p := range projectRecipes() {
		t.Run(p.pkg, func(t *testing.T) {
			t.Parallel()
			testProjectWarmFromCache(t, p)
		})
	}
}

// testProjectWarmFromCache is TestProjectsWarmFromCache for one project.
func testProjectWarmFromCache(t *testing.T, p projectRecipe) {
	for _, tool := range append([]string{"gcc", "g++"}, p.tools...) {
		requireTool(t, tool)
	}
	src := fetchProject(t, p.pkg)
	work := t.TempDir()
	plain, viaDcc := filepath.Join(work, "plain"), filepath.Join(work, "dcc")
	prepareTree(t, p, src, plain)
	prepareTree(t, p, src, viaDcc)
	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	env := append([]string{"PATH=" + withPath(masqueradeDir(t, compilerLinks...))}, d.env...)

	shell(t, plain, nil, p.build)
	shell(t, viaDcc, env, p.build)
	cold := d.stats(t)
	compiles := int64(countObjects(t, viaDcc, p.objects))
	require.Positive(t, compiles)
	require.Zero(t, cold["errors"], "cold build: compiles dcc failed to run through the cache; daemon.log ends:\n%s", d.logTail(10))
	require.Equal(t, compiles, cold["misses"], "cold build: every compile is a miss, and stored")
	require.Zero(t, cold["hits"], "cold build: nothing to hit in an empty cache")

	shell(t, viaDcc, env, projectClean)
	require.Zero(t, countObjects(t, viaDcc, p.objects), "the clean left objects behind")
	shell(t, viaDcc, env, p.build)
	warm := d.stats(t)
	assert.Equal(t, cold["misses"], warm["misses"], "warm build: misses")
	assert.Equal(t, compiles, warm["hits"]-cold["hits"], "warm build: every compile is a hit")
	assert.Equal(t, compiles, int64(countObjects(t, viaDcc, p.objects)), "warm build: objects")
	assert.Equal(t, cold["errors"], warm["errors"], "warm build: errors")
	assert.Equal(t, cold["uncacheable"], warm["uncacheable"], "warm build: uncacheable")
	t.Logf("%s: %d compiles, cold: %d misses; warm: %d hits (%d direct)", p.pkg, compiles,
		cold["misses"], warm["hits"]-cold["hits"], warm["direct_hits"]-cold["direct_hits"])

	n := requireIdenticalProducts(t, plain, viaDcc)
	t.Logf("%s: %d objects, libtool objects and archives identical to the plain build's", p.pkg, n)
	p.check(t, viaDcc, env)
}
