package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Soak settings: DCC_SOAK_TIME (a Go duration) is how long clients start
// builds; unset, the test runs its short version, which `make test` runs.
const (
	soakShort       = 30 * time.Second
	soakHosts       = 3
	soakClients     = 3
	soakHostJobs    = 2
	soakBuildLimit  = 10 * time.Minute
	soakFaultPause  = 8 * time.Second // between two faults, at most
	soakIdleSettle  = 20 * time.Second
	soakGoroutineUp = 3 // goroutines an idle server may have beyond its start
)

// TestSoak builds zlib over and over from several clients (each a real dcc
// daemon with a DCC_DIR of its own, in a copy of the tree) through several
// real dcc-servers on distinct loopback addresses, while faults strike at
// random: a host stopped (SIGSTOP) then resumed, a host killed (SIGKILL) and
// restarted on the same address, a client's daemon killed mid-build. Each
// build passes a define of its own (unused by the code), so that every unit
// misses the caches and is compiled again, and every object must equal the
// plain gcc build's. No build may fail, and every server, once its clients
// are gone, must be back to the goroutines it had at the start (file
// descriptors and resident memory are reported). `make soak` runs it for
// SOAK_TIME; make test runs a short version.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: not in -short")
	}
	t.Parallel()
	length := soakShort
	if v := os.Getenv("DCC_SOAK_TIME"); v != "" {
		var err error
		length, err = time.ParseDuration(v)
		require.NoError(t, err, "DCC_SOAK_TIME=%q", v)
	}
	for _, tool := range []string{"gcc", "make"} {
		requireTool(t, tool)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("DCC_SOAK_SEED"); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "DCC_SOAK_SEED")
	}
	t.Logf("soak: %s, %d hosts, %d clients, seed %d (DCC_SOAK_SEED)", length, soakHosts, soakClients, seed)

	p := zlibRecipe()
	work := t.TempDir()
	base := filepath.Join(work, "base")
	prepareTree(t, p, fetchProject(t, p.pkg), base)
	plain := filepath.Join(work, "plain")
	copyTree(t, base, plain)
	var report soakReport
	start := time.Now()
	shell(t, plain, nil, strings.ReplaceAll(p.build, "-j4", "-j8"))
	report.plain = time.Since(start)
	flags := zlibFlags(t, base)

	farm := newSoakFarm(t)
	var clients []*soakClient
	for i := range soakClients {
		c := &soakClient{id: i, tree: filepath.Join(work, fmt.Sprintf("client%d", i)), d: newProjectDaemon(t, "60s"),
			remote: map[string]int64{}}
		copyTree(t, base, c.tree)
		c.env = append(append([]string{"PATH=" + withPath(masqueradeDir(t, compilerLinks...))}, c.d.env...),
			farm.hostsEnv()...)
		t.Cleanup(func() { c.d.stop(t) })
		clients = append(clients, c)
	}

	ctx, cancel := context.WithTimeout(context.Background(), length)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	round := 0
	for _, c := range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				round++
				n := round
				mu.Unlock()
				r := c.build(t, p, plain, flags, n)
				mu.Lock()
				report.add(r)
				mu.Unlock()
			}
		})
	}
	faults := farm.injectFaults(t, ctx, rand.New(rand.NewPCG(seed, seed>>1)), clients)
	wg.Wait()
	<-faults

	for _, c := range clients {
		c.d.stop(t)
	}
	farm.settle(t)
	t.Log(report.String())
	t.Log(farm.String())
	assert.Zero(t, report.failed, "failed builds")
	assert.Zero(t, report.wrong, "objects that differ from the plain build's")
	assert.Positive(t, report.builds)
	for _, h := range farm.hosts {
		assert.LessOrEqual(t, h.end.goroutines, h.start.goroutines+soakGoroutineUp,
			"%s: goroutines of an idle server after the soak (a leak)", h.addr)
	}
}

// zlibFlags returns the CFLAGS and SFLAGS lines of zlib's configured
// Makefile, which each soak build extends with a define of its own.
func zlibFlags(t *testing.T, tree string) map[string]string {
	t.Helper()
	b := readFile(t, filepath.Join(tree, "Makefile"))
	flags := map[string]string{}
	for _, name := range []string{"CFLAGS", "SFLAGS"} {
		m := regexp.MustCompile(`(?m)^` + name + `=(.*)$`).FindSubmatch(b)
		require.NotNil(t, m, "no %s in zlib's Makefile", name)
		flags[name] = string(m[1])
	}
	return flags
}

// soakClient is one client of the soak: a tree and a daemon of its own.
type soakClient struct {
	id   int
	tree string
	d    *projectDaemon
	env  []string
	// building is set while a build runs, so that a fault can kill the
	// daemon mid-build.
	building sync.Mutex
	// remote and fallbacks are the daemon's counts after the last build:
	// units compiled on each host, and units that came back here.
	remote    map[string]int64
	fallbacks int64
}

// soakResult is what one build did.
type soakResult struct {
	failed            bool
	units, wrong      int
	remote, fallbacks int64
	took              time.Duration
}

// build cleans the client's tree and builds it at -j8 with -DDCC_SOAK_ROUND=n,
// then compares every product with the plain build's.
func (c *soakClient) build(t *testing.T, p projectRecipe, plain string, flags map[string]string, n int) soakResult {
	shell(t, c.tree, nil, projectClean)
	define := fmt.Sprintf(" -DDCC_SOAK_ROUND=%d", n)
	ctx, cancel := context.WithTimeout(context.Background(), soakBuildLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-j8", "CFLAGS="+flags["CFLAGS"]+define, "SFLAGS="+flags["SFLAGS"]+define)
	cmd.Dir = c.tree
	cmd.Env = append(os.Environ(), c.env...)
	c.building.Lock()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	c.building.Unlock()
	if err != nil {
		t.Logf("client %d, build %d failed after %s: %v\n%s\ndaemon.log:\n%s", c.id, n, took.Round(time.Millisecond), err,
			tail(string(out), 30), c.d.logTail(30))
		return soakResult{failed: true, took: took}
	}
	r := soakResult{took: took}
	after := c.d.stats(t)
	for k, v := range hostCounts(t, c.d) {
		r.remote += v - c.remote[k] // the counts of a daemon that was killed start over
		if v < c.remote[k] {
			r.remote += c.remote[k]
		}
		c.remote[k] = v
	}
	r.fallbacks = max(0, after["fallbacks"]-c.fallbacks)
	c.fallbacks = after["fallbacks"]
	for _, rel := range buildProducts(t, plain) {
		if ext := filepath.Ext(rel); ext == ".o" || ext == ".lo" {
			r.units++
		}
		got, err := os.ReadFile(filepath.Join(c.tree, rel))
		if err != nil || string(got) != string(readFile(t, filepath.Join(plain, rel))) {
			t.Logf("client %d, build %d: %s differs from the plain build's (%v)", c.id, n, rel, err)
			r.wrong++
		}
	}
	return r
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// soakReport sums the builds.
type soakReport struct {
	builds, failed, units, wrong int
	remote, fallbacks            int64
	slowest, total               time.Duration
	plain                        time.Duration
}

func (r *soakReport) add(b soakResult) {
	r.builds++
	r.units += b.units
	r.remote += b.remote
	r.fallbacks += b.fallbacks
	r.wrong += b.wrong
	r.total += b.took
	r.slowest = max(r.slowest, b.took)
	if b.failed {
		r.failed++
	}
}

func (r *soakReport) String() string {
	mean := time.Duration(0)
	if r.builds > 0 {
		mean = r.total / time.Duration(r.builds)
	}
	return fmt.Sprintf("soak: %d builds, %d units compiled (%d on the hosts, %d fell back here), %d wrong objects, %d failed builds; "+
		"build time mean %s, slowest %s (a plain build: %s)", r.builds, r.units, r.remote, r.fallbacks, r.wrong, r.failed,
		mean.Round(100*time.Millisecond), r.slowest.Round(100*time.Millisecond), r.plain.Round(100*time.Millisecond))
}
