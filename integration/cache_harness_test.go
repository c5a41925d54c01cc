package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// raceGuardWait is how long a test waits after writing sources before a
// compile whose result it expects to be served in direct mode later: dcc keeps
// files changed less than ~150 ms before a compile out of direct-mode
// manifests.
const raceGuardWait = 200 * time.Millisecond

// waitRaceGuard lets the files just written age past dcc's race guard.
func waitRaceGuard() { time.Sleep(raceGuardWait) }

// behaviourCompiler is a compiler family the behaviour tests run against.
type behaviourCompiler struct {
	// name is the family, and the subtest's name.
	name string
	// cc and cxx are the C and C++ drivers.
	cc, cxx string
}

// behaviourCompilers are the real compilers every behaviour runs against,
// where it applies.
var behaviourCompilers = []behaviourCompiler{
	{name: "gcc", cc: "gcc", cxx: "g++"},
	{name: "clang", cc: "clang", cxx: "clang++"},
}

// eachCompiler runs fn as a subtest for each of behaviourCompilers, at the
// same time (see leaves), each with an environment (a dcc directory, a
// daemon) of its own started with the extra variables env.
func eachCompiler(t *testing.T, fn func(t *testing.T, e *behaviourEnv, c behaviourCompiler), env ...string) {
	t.Helper()
	var tests []subtest
	for _, c := range behaviourCompilers {
		tests = append(tests, subtest{c.name, func(t *testing.T) {
			requireTool(t, c.cc)
			requireTool(t, c.cxx)
			fn(t, newBehaviourEnv(t, env...), c)
		}})
	}
	leaves(t, tests)
}

// subtest is a named test function.
type subtest struct {
	name string
	fn   func(t *testing.T)
}

// behaviourSlots bounds the behaviour subtests that run at once across the
// suite. They spend most of their time waiting (on the race guard, on a
// daemon starting, on compiler processes), so more of them run at once than
// go test's -parallel default (GOMAXPROCS) would let run.
var behaviourSlots = make(chan struct{}, 6)

// leaves runs each test as a subtest of t, each in a goroutine of its own
// once it gets one of behaviourSlots, and returns when all are done. A leaf
// must not call leaves or group itself.
func leaves(t *testing.T, tests []subtest) {
	t.Helper()
	concurrently(t, tests, true)
}

// group runs each test as a subtest of t, all at once; they may call leaves.
func group(t *testing.T, tests []subtest) {
	t.Helper()
	concurrently(t, tests, false)
}

// concurrently runs tests as subtests of t from goroutines of their own.
func concurrently(t *testing.T, tests []subtest, slot bool) {
	t.Helper()
	var wg sync.WaitGroup
	for _, st := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if slot {
				behaviourSlots <- struct{}{}
				defer func() { <-behaviourSlots }()
			}
			t.Run(st.name, st.fn)
		}()
	}
	wg.Wait()
}

// behaviourEnv is one test's dcc: a DCC_DIR of its own (so a daemon, a cache
// and counters of its own), a work directory for sources and outputs, and the
// environment every run gets.
type behaviourEnv struct {
	t *testing.T
	// dir is DCC_DIR: short, because the daemon's socket lives in it.
	dir string
	// work is where the test writes its sources.
	work string
	// env is added to this process's environment for every run: DCC_DIR,
	// DCC_IDLE_TIMEOUT (a leaked daemon exits by itself) and the test's own.
	env []string
	// path is PATH for every run; empty inherits this process's.
	path string
}

// newBehaviourEnv makes a fresh dcc directory and work directory. The daemon
// it will start is stopped, by its own pid, when the test ends.
func newBehaviourEnv(t *testing.T, env ...string) *behaviourEnv {
	t.Helper()
	dir, err := os.MkdirTemp("", "dcc")
	require.NoError(t, err)
	e := &behaviourEnv{
		t:    t,
		dir:  dir,
		work: t.TempDir(),
		env:  append([]string{"DCC_DIR=" + dir, "DCC_IDLE_TIMEOUT=60s"}, env...),
	}
	t.Cleanup(func() {
		e.stopDaemon()
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "daemon.log")); err == nil && len(log) > 0 {
				t.Logf("daemon.log:\n%s", log[max(0, len(log)-4000):])
			}
		}
		_ = os.RemoveAll(dir)
	})
	return e
}

// daemonPID is the pid the daemon wrote into $DCC_DIR/daemon.pid, or 0.
func (e *behaviourEnv) daemonPID() int {
	b, err := os.ReadFile(filepath.Join(e.dir, "daemon.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// stopDaemon runs "dcc daemon stop", then makes sure the daemon's process is
// gone, killing it (and failing the test) if it is not.
func (e *behaviourEnv) stopDaemon() {
	e.t.Helper()
	pid := e.daemonPID()
	stop := exec.Command(dccBin, "daemon", "stop")
	stop.Env = append(os.Environ(), e.env...)
	out, err := stop.CombinedOutput()
	if err != nil {
		e.t.Errorf("dcc daemon stop: %v: %s", err, out)
	}
	if pid == 0 {
		return
	}
	for deadline := time.Now().Add(5 * time.Second); daemonAlive(pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if daemonAlive(pid) {
		e.t.Errorf("daemon (pid %d) still runs after dcc daemon stop: killed", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// daemonAlive reports whether pid is a running process (a zombie, exited but
// not yet reaped by whoever adopted it, is not).
func daemonAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil && !os.IsNotExist(err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	state := b[i+2]
	return state != 'Z' && state != 'X'
}

// run runs argv in dir with the environment's PATH and variables, plus env.
func (e *behaviourEnv) run(dir string, env []string, argv ...string) result {
	e.t.Helper()
	return e.runStdin(dir, env, nil, argv...)
}

// runStdin is run with stdin (nil: none).
func (e *behaviourEnv) runStdin(dir string, env []string, stdin []byte, argv ...string) result {
	e.t.Helper()
	return runIn(e.t, dir, e.path, append(append([]string(nil), e.env...), env...), stdin, argv...)
}

// dcc runs "dcc ARGS..." in dir: a compile in prefix mode ("dcc gcc -c
// x.c"), or a dcc subcommand.
func (e *behaviourEnv) dcc(dir string, args ...string) result {
	e.t.Helper()
	return e.run(dir, nil, append([]string{dccBin}, args...)...)
}

// statCounters are the figures of "dcc stats --json" (numbers only).
type statCounters map[string]int64

// stats returns the daemon's counters.
func (e *behaviourEnv) stats() statCounters {
	e.t.Helper()
	r := e.dcc(e.work, "stats", "--json")
	require.Equal(e.t, 0, r.exit, "dcc stats --json: %s", r.stderr)
	dec := json.NewDecoder(bytes.NewReader(r.stdout))
	dec.UseNumber()
	var raw map[string]any
	require.NoError(e.t, dec.Decode(&raw), "dcc stats --json printed %s", r.stdout)
	out := statCounters{}
	for k, v := range raw {
		if n, ok := v.(json.Number); ok {
			i, err := n.Int64()
			require.NoError(e.t, err, "%s: %s", k, n)
			out[k] = i
		}
	}
	return out
}

// wantStats asserts the named counters (and only those) and returns them all.
func (e *behaviourEnv) wantStats(want statCounters) statCounters {
	e.t.Helper()
	got := e.stats()
	sub := statCounters{}
	for k := range want {
		sub[k] = got[k]
	}
	assert.Equal(e.t, want, sub, "dcc stats --json (all: %v)", got)
	return got
}

// plainRun is what the compiler itself did for one command: its result and
// the contents of its output files.
type plainRun struct {
	argv  []string
	stdin []byte
	res   result
	files map[string][]byte
}

// reference runs argv (the real compiler first) in dir with env, keeps its
// result and the named output files (relative to dir), and removes those, so
// that a dcc run that follows starts from the same state and must reproduce
// them. It requires the compile to succeed.
func (e *behaviourEnv) reference(dir string, env []string, argv []string, outputs ...string) plainRun {
	e.t.Helper()
	ref := e.referenceAnyExit(dir, env, argv, outputs...)
	require.Equal(e.t, 0, ref.res.exit, "%s failed: %s", shortCommand(argv), ref.res.stderr)
	return ref
}

// referenceAnyExit is reference for a command that may fail. The outputs are
// removed before the compiler runs; one it does not write is recorded as
// absent (nil).
func (e *behaviourEnv) referenceAnyExit(dir string, env []string, argv []string, outputs ...string) plainRun {
	e.t.Helper()
	return e.referenceStdin(dir, env, nil, argv, outputs...)
}

// referenceStdin is referenceAnyExit with stdin for the compiler (and for
// the dcc runs of rerun).
func (e *behaviourEnv) referenceStdin(dir string, env []string, stdin []byte, argv []string, outputs ...string) plainRun {
	e.t.Helper()
	for _, o := range outputs {
		if err := os.Remove(filepath.Join(dir, o)); err != nil && !os.IsNotExist(err) {
			require.NoError(e.t, err)
		}
	}
	ref := plainRun{argv: argv, stdin: stdin, res: e.runStdin(dir, env, stdin, argv...), files: map[string][]byte{}}
	for _, o := range outputs {
		p := filepath.Join(dir, o)
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			ref.files[o] = nil
			continue
		}
		require.NoError(e.t, err)
		ref.files[o] = b
		require.NoError(e.t, os.Remove(p))
	}
	return ref
}

// requireMatch requires a dcc run to have done what the compiler did: the
// same exit code, stdout and stderr, and every output byte for byte (an
// output the compiler did not write must not exist).
func (e *behaviourEnv) requireMatch(dir string, ref plainRun, got result) {
	e.t.Helper()
	cmd := shortCommand(ref.argv)
	require.Equal(e.t, ref.res.exit, got.exit, "exit code of %s through dcc (stderr: %s)", cmd, got.stderr)
	assert.Equal(e.t, string(ref.res.stdout), string(got.stdout), "stdout of %s through dcc", cmd)
	assert.Equal(e.t, string(ref.res.stderr), string(got.stderr), "stderr of %s through dcc", cmd)
	for name, want := range ref.files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if want == nil {
			assert.True(e.t, os.IsNotExist(err), "%s exists after %s through dcc; the compiler does not write it", name, cmd)
			continue
		}
		if !assert.NoError(e.t, err, "%s after %s through dcc", name, cmd) {
			continue
		}
		assertSameBytes(e.t, want, b, "%s after %s through dcc", name, cmd)
	}
}

// shortCommand is a command line for messages, shortened when very long.
func shortCommand(argv []string) string {
	s := strings.Join(argv, " ")
	if len(s) > 300 {
		s = s[:150] + fmt.Sprintf(" ...(%d arguments)... ", len(argv)) + s[len(s)-100:]
	}
	return s
}

// rerun runs the command of ref through dcc again, its outputs removed first,
// and requires the same results as the compiler's own.
func (e *behaviourEnv) rerun(dir string, env []string, ref plainRun) result {
	e.t.Helper()
	for name := range ref.files {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			require.NoError(e.t, err)
		}
	}
	got := e.runStdin(dir, env, ref.stdin, append([]string{dccBin}, ref.argv...)...)
	e.requireMatch(dir, ref, got)
	return got
}

// compile runs argv (a compiler command line) plainly and then through dcc
// (prefix mode) in dir with env, requires both to do the same, and returns
// what the compiler did. dcc's outputs are left in place.
func (e *behaviourEnv) compile(dir string, env []string, argv []string, outputs ...string) plainRun {
	e.t.Helper()
	ref := e.reference(dir, env, argv, outputs...)
	got := e.run(dir, env, append([]string{dccBin}, argv...)...)
	e.requireMatch(dir, ref, got)
	return ref
}

// assertSameBytes compares two files' contents without dumping them.
func assertSameBytes(t *testing.T, want, got []byte, msgAndArgs ...any) bool {
	t.Helper()
	if bytes.Equal(want, got) {
		return true
	}
	at := 0
	for at < len(want) && at < len(got) && want[at] == got[at] {
		at++
	}
	msg := fmt.Sprintf("contents differ: want %d bytes, got %d, first difference at byte %d", len(want), len(got), at)
	if len(want) < 4096 && len(got) < 4096 && looksLikeText(want) && looksLikeText(got) {
		msg += fmt.Sprintf("\nwant: %q\ngot:  %q", want, got)
	}
	return assert.Fail(t, msg, msgAndArgs...)
}

// looksLikeText reports whether b looks like text (no NUL bytes).
func looksLikeText(b []byte) bool { return bytes.IndexByte(b, 0) < 0 }

// copyTreeFS copies a directory tree of regular files (and directories).
func copyTreeFS(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
}

// writeExecutable writes a program (a script) at path. Its file is
// created, written and closed with syscall.ForkLock held for reading, so
// that no process this test binary forks meanwhile (another test's
// compiler, daemon or server) inherits the file open for writing: the
// kernel refuses to run a file open for writing anywhere ("text file
// busy"), and such a child holds the descriptor until its own exec.
func writeExecutable(path, program string) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	return os.WriteFile(path, []byte(program), 0o755)
}

// programDir makes a directory holding executables: name -> a symlink target
// (when the value starts with "->") or a shell script body.
func programDir(t *testing.T, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range entries {
		p := filepath.Join(dir, name)
		if target, ok := strings.CutPrefix(v, "->"); ok {
			require.NoError(t, os.Symlink(target, p))
			continue
		}
		require.NoError(t, writeExecutable(p, v))
	}
	return dir
}

// pseudoRandom returns n pseudo-random bytes, different for each seed.
func pseudoRandom(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x6463632d74657374))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// dataArraySource is a C source whose object holds data, incompressible when data
// is random, in an array called name.
func dataArraySource(name string, data []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "const unsigned char %s[%d] = {", name, len(data))
	for i, c := range data {
		if i%32 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%d,", c)
	}
	fmt.Fprintf(&b, "\n};\nconst unsigned char *get_%s(void) { return %s; }\n", name, name)
	return b.String()
}

// leftoverTemps lists files dcc's atomic writes leave behind if they fail to
// rename (".dcc-" temporaries) under dir.
func leftoverTemps(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(d.Name(), ".dcc-") {
			out = append(out, p)
		}
		return nil
	}))
	return out
}

// sdeShimSource is a library that, preloaded (LD_PRELOAD), makes a compiler
// that ignores SOURCE_DATE_EPOCH expand __DATE__ and __TIME__ from it, as gcc
// and clang from version 16 do. clang 14 (Debian 12's) computes them from
// time() and localtime() (clang/lib/Lex/PPMacroExpansion.cpp); with
// SOURCE_DATE_EPOCH set, the library's time() returns it and its
// localtime() is gmtime(), which is what clang 16 does with the variable.
// Without the variable both behave as the C library's.
const sdeShimSource = `#include <stdlib.h>
#include <time.h>

static int epoch(time_t *t) {
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;
	if (s == NULL || *s == '\0')
		return 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return 0;
	*t = (time_t)v;
	return 1;
}

time_t time(time_t *out) {
	time_t t;
	struct timespec ts;
	if (!epoch(&t)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		t = ts.tv_sec;
	}
	if (out != NULL)
		*out = t;
	return t;
}

struct tm *localtime(const time_t *t) {
	static struct tm tm;
	time_t e;
	if (epoch(&e))
		return gmtime_r(t, &tm);
	return localtime_r(t, &tm);
}
`

// sdeShim is sdeShimSource built once per run, next to dcc.
var sdeShim struct {
	once sync.Once
	path string
	err  error
}

// sdeEnv remembers, per compiler, what sourceDateEpochEnv found.
var sdeEnv sync.Map

// sdeResult is what sourceDateEpochEnv found for one compiler.
type sdeResult struct {
	env []string
	ok  bool
	why string
}

// sourceDateEpochEnv returns the environment compiler cc needs, besides
// SOURCE_DATE_EPOCH itself, for __DATE__ and __TIME__ to expand to the time
// that variable gives: nothing for a compiler that reads it (gcc; clang from
// version 16), and for one that does not (clang 14) sdeShimSource preloaded.
// Each is tried, by preprocessing the macros. It skips the test when neither
// works (a compiler linked statically, say), saying why.
func sourceDateEpochEnv(t *testing.T, cc string) []string {
	t.Helper()
	v, ok := sdeEnv.Load(cc)
	if !ok {
		v, _ = sdeEnv.LoadOrStore(cc, findSourceDateEpochEnv(t, cc))
	}
	r := v.(sdeResult)
	if !r.ok {
		t.Skipf("%s cannot take __DATE__ and __TIME__ from SOURCE_DATE_EPOCH: %s", cc, r.why)
	}
	return r.env
}

// findSourceDateEpochEnv tries cc as it is, then with the shim preloaded.
func findSourceDateEpochEnv(t *testing.T, cc string) sdeResult {
	t.Helper()
	expands := func(env []string) bool {
		cmd := exec.Command(cc, "-E", "-x", "c", "-")
		cmd.Env = append(os.Environ(), append([]string{"SOURCE_DATE_EPOCH=0"}, env...)...)
		cmd.Stdin = strings.NewReader("__TIME__ __DATE__\n")
		out, err := cmd.Output()
		require.NoError(t, err, "%s -E", cc)
		return bytes.Contains(out, []byte(`"00:00:00" "Jan  1 1970"`))
	}
	if expands(nil) {
		return sdeResult{ok: true}
	}
	sdeShim.once.Do(func() {
		dir := filepath.Dir(dccBin)
		src := filepath.Join(dir, "sde-shim.c")
		sdeShim.path = filepath.Join(dir, "sde-shim.so")
		if sdeShim.err = os.WriteFile(src, []byte(sdeShimSource), 0o644); sdeShim.err != nil {
			return
		}
		out, err := exec.Command("gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", sdeShim.path, src).CombinedOutput()
		if err != nil {
			sdeShim.err = fmt.Errorf("building the shim: %v: %s", err, out)
		}
	})
	if sdeShim.err != nil {
		return sdeResult{why: sdeShim.err.Error()}
	}
	env := []string{"LD_PRELOAD=" + sdeShim.path}
	if !expands(env) {
		return sdeResult{why: "it ignores the variable, also with " + env[0]}
	}
	return sdeResult{env: env, ok: true}
}

// startDaemon starts the environment's daemon with "dcc daemon start" run
// through prefix (a command that changes how the daemon runs: setpriv,
// unshare; none: as the test runs) and returns its pid. The daemon keeps
// what prefix gave it, and the test's compiles, run as usual, reach it
// through its socket; a compile that started another daemon would not, so
// a test relying on it checks at its end that this pid still serves.
func (e *behaviourEnv) startDaemon(prefix ...string) int {
	e.t.Helper()
	argv := append(append([]string(nil), prefix...), dccBin, "daemon", "start")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), e.env...)
	out, err := cmd.CombinedOutput()
	require.NoError(e.t, err, "%s: %s", strings.Join(argv, " "), out)
	pid := e.daemonPID()
	require.NotZero(e.t, pid, "%s: %s", strings.Join(argv, " "), out)
	return pid
}

// inDaemonMounts is path as the daemon sees it, through its mount
// namespace (/proc/PID/root): what the test reads and writes there lands in
// a tmpfs that only the daemon's namespace has (see tmpfsDaemon).
func (e *behaviourEnv) inDaemonMounts(path string) string {
	e.t.Helper()
	pid := e.daemonPID()
	require.NotZero(e.t, pid, "no daemon runs")
	return fmt.Sprintf("/proc/%d/root%s", pid, path)
}

// tmpfsDaemon starts the environment's daemon with a tmpfs of size bytes
// (read-only if ro) on its cache directory, $DCC_DIR/cache, mounted in a
// mount namespace of the daemon's own, inside a user namespace
// (unshare --user --map-root-user --mount): that needs no root, only a
// kernel that lets users make namespaces (most do), so the case runs the
// same way as root (CI) and as anyone else, and no mount is ever left on
// the machine, since the namespace goes when the daemon does. The test
// reaches into the tmpfs through inDaemonMounts, and must check at its end
// that the daemon (the pid returned) served every compile. It skips where
// the namespaces cannot be made.
func tmpfsDaemon(t *testing.T, e *behaviourEnv, size int64, ro bool) int {
	t.Helper()
	unshare := requireTool(t, "unshare")
	cache := filepath.Join(e.dir, "cache")
	require.NoError(t, os.MkdirAll(cache, 0o700))
	opts := fmt.Sprintf("size=%d,mode=0700", size)
	if ro {
		opts += ",ro"
	}
	probe := exec.Command(unshare, "--user", "--map-root-user", "--mount", "true")
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("cannot make a user and mount namespace here for a tmpfs of the daemon's own: %v: %s", err, out)
	}
	pid := e.startDaemon(unshare, "--user", "--map-root-user", "--mount",
		"sh", "-c", `mount -t tmpfs -o "$0" tmpfs "$1" && shift && exec "$@"`, opts, cache)
	mounts := readFile(t, fmt.Sprintf("/proc/%d/mountinfo", pid))
	require.Contains(t, string(mounts), " "+cache+" ", "the daemon sees the tmpfs on its cache directory")
	return pid
}

// bypassesPermissions reports whether this process writes into a directory
// whose mode forbids it, as root does (CAP_DAC_OVERRIDE), by trying.
func bypassesPermissions(t *testing.T) bool {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "read-only")
	require.NoError(t, os.Mkdir(dir, 0o500))
	require.NoError(t, os.Chmod(dir, 0o500))
	defer os.Chmod(dir, 0o700)
	err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o600)
	return err == nil
}

// unprivileged is the prefix (for startDaemon) that runs a program without
// the privileges that let root ignore file permissions: where this process
// has them, setpriv with every capability dropped (bounding, inheritable
// and ambient sets, so that none comes back when the program is executed,
// root or not), which leaves a program running as root what an ordinary
// user is to files of their own; elsewhere nothing.
func unprivileged(t *testing.T) []string {
	t.Helper()
	if !bypassesPermissions(t) {
		return nil
	}
	return []string{requireTool(t, "setpriv"), "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all"}
}

// capabilities returns the effective capabilities of process pid, in hex
// as /proc/PID/status shows them.
func capabilities(t *testing.T, pid int) string {
	t.Helper()
	for _, line := range strings.Split(string(readFile(t, fmt.Sprintf("/proc/%d/status", pid))), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no CapEff in /proc/%d/status", pid)
	return ""
}

// damageValueLog changes one byte in each of the cache's Badger value-log
// files where locate finds one (locate returns its offset, or -1), and
// reports how many files it changed. The daemon must be stopped.
func damageValueLog(t *testing.T, dccDir string, locate func(b []byte) int, change func(byte) byte) int {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dccDir, "cache", "*.vlog"))
	require.NoError(t, err)
	changed := 0
	for _, p := range logs {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		i := locate(b)
		if i < 0 {
			continue
		}
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte{change(b[i])}, int64(i))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		changed++
	}
	return changed
}

// command returns a command for argv in dir with the environment's PATH and
// variables, for goroutines that must not fail the test themselves.
func (e *behaviourEnv) command(dir string, argv ...string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), e.env...)
	if e.path != "" {
		cmd.Env = append(cmd.Env, "PATH="+e.path)
	}
	return cmd
}
