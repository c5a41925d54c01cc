package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchPhase bounds one phase of a project benchmark: at least min and at
// most max rounds (both odd, so that a median is one of the runs), and no new
// pair of rounds once the rounds so far, extrapolated by two more, would pass
// budget.
type benchPhase struct {
	min, max int
	budget   time.Duration
}

// projectBenchPhases are the cold and warm phases of each project's
// benchmark, chosen to keep "make bench" within about five minutes on two
// cores: a cold lua5.4 build (136 compiles with -g) takes 13-25 s.
var projectBenchPhases = map[string]struct{ cold, warm benchPhase }{
	"zlib":     {cold: benchPhase{3, 7, 60 * time.Second}, warm: benchPhase{3, 7, 15 * time.Second}},
	"lua5.4":   {cold: benchPhase{3, 5, 120 * time.Second}, warm: benchPhase{3, 7, 40 * time.Second}},
	"zlib-mmd": {cold: benchPhase{3, 7, 60 * time.Second}, warm: benchPhase{3, 7, 15 * time.Second}},
}

// benchProject is one row of BenchmarkProjectBuilds: a recipe under a name
// of its own (the same Debian source can be built more than one way).
type benchProject struct {
	name   string
	recipe projectRecipe
	// sameFiles is a directory whose files every variant's build must write
	// identically (dependency files), checked after every round against
	// plain gcc's (a warm round's hits must write them too: the build
	// starts without them).
	sameFiles string
}

// zlibMMDFlags are the compile flags of zlibMMDRecipe, for CFLAGS (static
// objects) and SFLAGS (PIC objects): debug information, and a dependency
// file per target in .depend/ as Makefiles that include them write it, with
// -MMD, so that the files leave the system headers out.
const zlibMMDFlags = `-MF .depend/$@.d -MQ $@ -MMD -MP -g -O2 -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN`

// zlibMMDRecipe builds zlib as zlibRecipe does, with the dependency options
// of a project whose Makefile compiles with
// "-MF dir/.depend/x.o.d -MQ x.o -MMD -MP -g -O2": each compile writes a
// dependency file of the user's headers only. Before depend mode served
// -MMD, every cold miss of such a unit preprocessed first. Each build starts
// without the dependency files of the last one.
func zlibMMDRecipe() projectRecipe {
	p := zlibRecipe()
	p.build = `rm -rf .depend && mkdir .depend && make -j4 CFLAGS='` + zlibMMDFlags + `' SFLAGS='-fPIC ` + zlibMMDFlags + `'`
	p.debugInfo = true
	return p
}

// benchProjects are the rows of BenchmarkProjectBuilds.
func benchProjects() []benchProject {
	return []benchProject{
		{name: "zlib", recipe: zlibRecipe()},
		{name: "lua5.4", recipe: luaRecipe()},
		{name: "zlib-mmd", recipe: zlibMMDRecipe(), sameFiles: ".depend"},
	}
}

// run calls round(i) for i = 0, 1, ... within the phase's bounds and returns
// how many rounds ran.
func (ph benchPhase) run(round func(i int)) int {
	start := time.Now()
	n := 0
	for n < ph.max {
		if n >= ph.min && (n-ph.min)%2 == 0 {
			spent := time.Since(start)
			if spent+2*spent/time.Duration(n) > ph.budget {
				break
			}
		}
		round(n)
		n++
	}
	return n
}

// benchVariant is one way of building a project: plain gcc, through ccache
// or through dcc, each in a source tree of its own.
type benchVariant struct {
	name string
	// tree is the variant's copy of the source tree.
	tree string
	// path is PATH for its builds: its masquerade links first (none for gcc).
	path string
	// env is the environment of its cache for the current round.
	env []string
	// fresh gives the variant an empty cache (nil: no cache).
	fresh func(tb testing.TB, v *benchVariant)
	// cold and warm are the times of its builds.
	cold, warm []time.Duration
}

// run runs a shell command in the variant's tree with its PATH and cache, and
// returns how long it took.
func (v *benchVariant) run(tb testing.TB, script string) time.Duration {
	tb.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = v.tree
	cmd.Env = append(append(os.Environ(), "PATH="+v.path), v.env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	require.NoError(tb, err, "%s: %s:\n%s", v.name, script, out)
	return d
}

// linkDir makes a directory of links to target named names (a masquerade
// directory for a tool other than dcc).
func linkDir(tb testing.TB, target string, names ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, n := range names {
		require.NoError(tb, os.Symlink(target, filepath.Join(dir, n)))
	}
	return dir
}

// ccacheCounter returns one counter of "ccache --print-stats".
func ccacheCounter(tb testing.TB, env []string, name string) int64 {
	tb.Helper()
	cmd := exec.Command("ccache", "--print-stats")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	require.NoError(tb, err, "ccache --print-stats")
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "\t"); ok && k == name {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(tb, err, "%s", sc.Text())
			return n
		}
	}
	tb.Fatalf("ccache --print-stats has no %s:\n%s", name, out)
	return 0
}

// loadAverage returns the one-minute load average, which says how far
// other work on the machine may have blurred the figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b) + " unknown")[0]
}

// seconds formats build times for a log line.
func seconds(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = strconv.FormatFloat(d.Seconds(), 'f', 2, 64)
	}
	return "[" + strings.Join(parts, " ") + "]s"
}

// daemonMemory is a daemon's memory, in KiB: the peak resident set as the
// kernel keeps it (VmHWM, which counts mapped files such as Badger's value
// log) and the largest anonymous resident memory (RssAnon) seen by sampling.
type daemonMemory struct {
	hwm, anon int64
}

// max returns the larger of each figure.
func (m daemonMemory) max(o daemonMemory) daemonMemory {
	return daemonMemory{hwm: max(m.hwm, o.hwm), anon: max(m.anon, o.anon)}
}

// readDaemonMemory reads VmHWM and RssAnon from /proc/PID/status.
func readDaemonMemory(pid int) (daemonMemory, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return daemonMemory{}, false
	}
	var m daemonMemory
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			m.hwm = n
		case "RssAnon":
			m.anon = n
		}
	}
	return m, true
}

// memorySampleInterval is how often the daemon's memory is read during a
// build. VmHWM is the kernel's own high-water mark, exact whenever it is
// read; only RssAnon depends on the sampling. Reading /proc every 10 ms
// woke the benchmark process 100 times a second on the machine doing the
// build and measured 1.4% slower dcc builds of zlib (1.066 of gcc against
// 1.052 without the reader), so the sampling stays rare.
const memorySampleInterval = 250 * time.Millisecond

// watchDaemonMemory samples the memory of d's daemon (once it has started)
// every memorySampleInterval until the returned function is called, which
// returns the peaks.
func watchDaemonMemory(d *projectDaemon) func() daemonMemory {
	done := make(chan struct{})
	result := make(chan daemonMemory)
	go func() {
		var peak daemonMemory
		pid := 0
		sample := func() {
			if pid == 0 {
				pid = d.pid()
			}
			if m, ok := readDaemonMemory(pid); pid > 0 && ok {
				peak = peak.max(m)
			}
		}
		tick := time.NewTicker(memorySampleInterval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				sample()
			case <-done:
				sample()
				result <- peak
				return
			}
		}
	}()
	return func() daemonMemory {
		close(done)
		return <-result
	}
}

// BenchmarkProjectBuilds builds zlib and lua5.4 from Debian's sources, and
// zlib again with -MMD dependency files, with plain gcc, through ccache and
// through dcc (masquerade links first in PATH, each cache in a directory of
// its own, -j4 for all), in interleaved rounds: cold builds into empty
// caches, then warm rebuilds after a clean. It reports ratios of medians and
// the dcc daemon's peak memory. The rounds are bounded by projectBenchPhases,
// not by b.N.
func BenchmarkProjectBuilds(b *testing.B) {
	for _, bp := range benchProjects() {
		b.Run(bp.name, func(b *testing.B) { benchProjectBuilds(b, bp) })
	}
}

// benchProjectBuilds is BenchmarkProjectBuilds for one project.
func benchProjectBuilds(b *testing.B, bp benchProject) {
	p := bp.recipe
	for _, tool := range append([]string{"gcc", "g++", "ccache"}, p.tools...) {
		requireTool(b, tool)
	}
	src := fetchProject(b, p.pkg)
	work := b.TempDir()

	var daemon *projectDaemon // the dcc variant's current daemon
	b.Cleanup(func() {
		if daemon != nil {
			daemon.stop(b)
		}
	})
	gcc := &benchVariant{name: "gcc", path: os.Getenv("PATH")}
	ccache := &benchVariant{
		name: "ccache", path: withPath(linkDir(b, requireTool(b, "ccache"), compilerLinks...)),
		fresh: func(tb testing.TB, v *benchVariant) { v.env = []string{"CCACHE_DIR=" + tb.TempDir()} },
	}
	dcc := &benchVariant{
		name: "dcc", path: withPath(masqueradeDir(b, compilerLinks...)),
		fresh: func(tb testing.TB, v *benchVariant) {
			if daemon != nil {
				daemon.stop(tb)
			}
			daemon = newProjectDaemon(tb, "10m")
			v.env = daemon.env
		},
	}
	variants := []*benchVariant{gcc, ccache, dcc}
	for _, v := range variants {
		v.tree = filepath.Join(work, v.name)
		prepareTree(b, p, src, v.tree)
	}
	var mem daemonMemory
	// build cleans v's tree and times one build, watching dcc's daemon.
	build := func(v *benchVariant) time.Duration {
		v.run(b, projectClean)
		if v != dcc {
			return v.run(b, p.build)
		}
		stop := watchDaemonMemory(daemon)
		d := v.run(b, p.build)
		mem = mem.max(stop())
		return d
	}
	phases := projectBenchPhases[bp.name]
	loadBefore := loadAverage()

	// sameAsGCC checks the files of bp.sameFiles in v's tree.
	sameAsGCC := func(v *benchVariant) {
		if bp.sameFiles != "" {
			requireSameFiles(b, filepath.Join(gcc.tree, bp.sameFiles), filepath.Join(v.tree, bp.sameFiles), v.name)
		}
	}
	coldRounds := phases.cold.run(func(i int) {
		for j := range variants {
			v := variants[(i+j)%len(variants)] // rotate who goes first
			if v.fresh != nil {
				v.fresh(b, v)
			}
			v.cold = append(v.cold, build(v))
		}
		for _, v := range variants[1:] {
			sameAsGCC(v)
		}
	})
	compiles := int64(countObjects(b, dcc.tree, p.objects))
	warmRounds := phases.warm.run(func(i int) {
		order := []*benchVariant{ccache, dcc}
		if i%2 == 1 {
			order = []*benchVariant{dcc, ccache}
		}
		for _, v := range order {
			if v == dcc {
				before := daemon.stats(b)
				v.warm = append(v.warm, build(v))
				after := daemon.stats(b)
				require.Equal(b, before["misses"], after["misses"], "dcc's warm rebuild missed")
				require.Equal(b, compiles, after["hits"]-before["hits"], "dcc's warm rebuild: hits")
				sameAsGCC(v)
				continue
			}
			before := ccacheCounter(b, v.env, "cache_miss")
			v.warm = append(v.warm, build(v))
			require.Equal(b, before, ccacheCounter(b, v.env, "cache_miss"), "ccache's warm rebuild missed")
			sameAsGCC(v)
		}
	})
	daemon.stop(b)
	daemon = nil

	for b.Loop() {
		// The measurement above ran once; b.Loop only satisfies -benchtime.
	}
	gccCold, dccCold, ccCold := median(gcc.cold), median(dcc.cold), median(ccache.cold)
	dccWarm, ccWarm := median(dcc.warm), median(ccache.warm)
	ratio := func(a, b time.Duration) float64 { return float64(a) / float64(b) }
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	b.ReportMetric(ratio(dccWarm, ccWarm), "dcc-warm/ccache-warm")
	b.ReportMetric(ratio(dccCold, gccCold), "dcc-cold/gcc")
	b.ReportMetric(ratio(dccCold, ccCold), "dcc-cold/ccache-cold")
	b.ReportMetric(mib(mem.hwm), "daemon-peak-MiB")
	b.ReportMetric(mib(mem.anon), "daemon-anon-MiB")
	b.ReportMetric(dccWarm.Seconds(), "dcc-warm-s")
	b.ReportMetric(gccCold.Seconds(), "gcc-s")
	b.Logf("%s: %d compiles at -j4; medians of %d cold and %d warm interleaved rounds; load average %s before, %s after",
		bp.name, compiles, coldRounds, warmRounds, loadBefore, loadAverage())
	b.Logf("%s: warm rebuild: dcc %.2fs, ccache %.2fs: dcc-warm/ccache-warm %.3f",
		bp.name, dccWarm.Seconds(), ccWarm.Seconds(), ratio(dccWarm, ccWarm))
	b.Logf("%s: cold build: dcc %.2fs, plain gcc %.2fs: dcc-cold/gcc %.3f",
		bp.name, dccCold.Seconds(), gccCold.Seconds(), ratio(dccCold, gccCold))
	b.Logf("%s: cold build: dcc %.2fs, ccache %.2fs: dcc-cold/ccache-cold %.3f",
		bp.name, dccCold.Seconds(), ccCold.Seconds(), ratio(dccCold, ccCold))
	b.Logf("%s: every round, cold: gcc %s, ccache %s, dcc %s; warm: ccache %s, dcc %s", bp.name,
		seconds(gcc.cold), seconds(ccache.cold), seconds(dcc.cold), seconds(ccache.warm), seconds(dcc.warm))
	b.Logf("%s: daemon peak memory: %.1f MiB resident (VmHWM), %.1f MiB anonymous (RssAnon, sampled every %s)",
		bp.name, mib(mem.hwm), mib(mem.anon), memorySampleInterval)
}

// requireSameFiles fails unless the directories want and got hold the same
// files with the same bytes (the dependency files of a build, which name the
// headers relative to the tree and so are the same in every variant's).
func requireSameFiles(tb testing.TB, want, got, variant string) {
	tb.Helper()
	entries, err := os.ReadDir(want)
	require.NoError(tb, err)
	gotEntries, err := os.ReadDir(got)
	require.NoError(tb, err)
	require.Equal(tb, len(entries), len(gotEntries), "%s: files in %s", variant, got)
	require.NotEmpty(tb, entries, "no files in %s", want)
	for _, e := range entries {
		w, err := os.ReadFile(filepath.Join(want, e.Name()))
		require.NoError(tb, err)
		g, err := os.ReadFile(filepath.Join(got, e.Name()))
		require.NoError(tb, err, "%s: %s", variant, e.Name())
		require.Equal(tb, string(w), string(g), "%s: %s differs from plain gcc's", variant, e.Name())
	}
}
