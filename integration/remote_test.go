package integration

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// remoteRecipes are the projects built through compile hosts: zlib as it
// comes, zlib with debug information, and lua5.4 with Debian's flags (-g
// -O2 -ffile-prefix-map=...). Units go to the hosts with their sources
// (remote_sources = all, the default): the host compiles the original
// source, so the objects are identical to a plain build's, debug
// information included. zlib also goes as preprocessed text
// (remote_sources = off), the way of units the scan cannot follow.
func remoteRecipes() map[string]remoteRecipe {
	zlibG := zlibRecipe()
	zlibG.setup = func(tb testing.TB, tree string) {
		// The prefix map makes the plain and the dcc tree record one
		// directory, as Debian's flags do for lua.
		shell(tb, tree, []string{"CC=gcc"}, `CFLAGS="-O2 -g -ffile-prefix-map=$PWD=." ./configure`)
	}
	return map[string]remoteRecipe{"zlib": {zlibRecipe(), nil, true}, "zlib-g": {zlibG, nil, true},
		"lua5.4": {luaRecipe(), nil, true}, "zlib-preprocessed": {zlibRecipe(), []string{"DCC_REMOTE_SOURCES=off"}, false}}
}

// remoteRecipe is a project, the client's extra environment, and whether
// its units go with their sources.
type remoteRecipe struct {
	p       projectRecipe
	env     []string
	sources bool
}

// remoteBuild is one project tree built through dcc with compile hosts.
type remoteBuild struct {
	p      projectRecipe
	plain  string
	viaDcc string
	d      *projectDaemon
	env    []string
}

// newRemoteBuild prepares a plain tree (built at once) and a tree for dcc
// with its own daemon whose environment sends compiles to hosts.
func newRemoteBuild(t *testing.T, p projectRecipe, hostEnv []string) *remoteBuild {
	t.Helper()
	for _, tool := range append([]string{"gcc", "g++"}, p.tools...) {
		requireTool(t, tool)
	}
	src := fetchProject(t, p.pkg)
	work := t.TempDir()
	b := &remoteBuild{p: p, plain: filepath.Join(work, "plain"), viaDcc: filepath.Join(work, "dcc")}
	prepareTree(t, p, src, b.plain)
	prepareTree(t, p, src, b.viaDcc)
	shell(t, b.plain, nil, p.build)
	b.d = newProjectDaemon(t, "60s")
	t.Cleanup(func() { b.d.stop(t) })
	b.env = append(append([]string{"PATH=" + withPath(masqueradeDir(t, compilerLinks...))}, b.d.env...), hostEnv...)
	return b
}

// build runs the project's build through dcc at -j8.
func (b *remoteBuild) build(t *testing.T) {
	t.Helper()
	shell(t, b.viaDcc, b.env, strings.ReplaceAll(b.p.build, "-j4", "-j8"))
}

// checkIdentical compares every product with the plain build's.
func (b *remoteBuild) checkIdentical(t *testing.T) {
	t.Helper()
	n := requireIdenticalProducts(t, b.plain, b.viaDcc)
	t.Logf("%s: %d products identical to the plain build's", b.p.pkg, n)
}

// hostCounts returns the per-host compile counts of the stats.
func hostCounts(t *testing.T, d *projectDaemon) map[string]int64 {
	t.Helper()
	cmd := exec.Command(dccBin, "stats", "--json")
	cmd.Env = append(os.Environ(), d.env...)
	out, err := cmd.Output()
	require.NoError(t, err)
	var raw struct {
		Hosts map[string]int64 `json:"remote_hosts"`
	}
	require.NoError(t, json.Unmarshal(out, &raw), "%s", out)
	return raw.Hosts
}

// TestRemoteProjectsThroughTwoHosts builds zlib (with and without -g) and
// lua5.4 (-g) through two dcc-servers on distinct loopback addresses: the
// hosts compile, and every object is identical to a plain build's.
func TestRemoteProjectsThroughTwoHosts(t *testing.T) {
	h1, h2 := startHost(t, "127.0.0.2", 2), startHost(t, "127.0.0.3", 2)
	for name, r := range remoteRecipes() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newRemoteBuild(t, r.p, append(hostsEnv(2, h1, h2), r.env...))
			b.build(t)
			st := b.d.stats(t)
			hosts := hostCounts(t, b.d)
			t.Logf("%s: %v; per host %v", name, st, hosts)
			assert.Zero(t, st["errors"], "daemon.log:\n%s", b.d.logTail(20))
			assert.Positive(t, st["remote"], "compiles went to the hosts; daemon.log:\n%s", b.d.logTail(20))
			if r.sources {
				assert.Equal(t, st["remote"], st["remote_sources"], "every remote compile went with its sources")
			} else {
				assert.Zero(t, st["remote_sources"], "units go as preprocessed text")
			}
			assert.Len(t, hosts, 2, "both hosts compiled")
			var sum int64
			for _, n := range hosts {
				sum += n
			}
			assert.Equal(t, st["remote"], sum, "per-host counts add up")
			b.checkIdentical(t)
			b.p.check(t, b.viaDcc, b.env)
		})
	}
}

// TestRemoteHostKilledMidBuild kills one of two hosts with SIGKILL while it
// compiles a unit of a running build: the build succeeds, with objects
// identical to a plain build's, the unit in flight on the dead host having
// been compiled here or on the other host instead. So that the host dies in the middle of a
// compile, not between two, the test waits for a compile to start on it and
// stops that compile's processes (SIGSTOP) until the kill. Before the kill
// the host's own load shows the compile running and the build is still
// going; after it, the host has left that compile's job directory (a
// compile removes its own when it ends), the build went on to compile more,
// and the client counts a fallback from that host.
func TestRemoteHostKilledMidBuild(t *testing.T) {
	t.Parallel()
	h1, h2 := startHost(t, "127.0.0.2", 1), startHost(t, "127.0.0.3", 1)
	b := newRemoteBuild(t, zlibRecipe(), hostsEnv(2, h1, h2))
	cmd := exec.Command("sh", "-c", "make -j8")
	cmd.Dir = b.viaDcc
	cmd.Env = append(os.Environ(), b.env...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	built := make(chan struct{})
	var buildErr error
	go func() { buildErr = cmd.Wait(); close(built) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // when the test failed before the build ended
		<-built
	})

	// Some way into the build, the next compile on h1 is held.
	for deadline := time.Now().Add(time.Minute); countObjects(t, b.viaDcc, b.p.objects) < 4; time.Sleep(10 * time.Millisecond) {
		select {
		case <-built:
			require.FailNow(t, "the build ended before it wrote 4 objects", "%s", out)
		default:
		}
		require.True(t, time.Now().Before(deadline), "the build wrote less than 4 objects in a minute")
	}
	frozen := h1.freezeCompile(t, built)
	load := h1.load(t)
	assert.GreaterOrEqual(t, load.Running, 1, "the host's load shows the compile in flight: %+v", load)
	select {
	case <-built:
		t.Errorf("the build ended before the host was killed:\n%s", out)
	default:
	}
	objectsAtKill := countObjects(t, b.viaDcc, b.p.objects)
	h1.kill(syscall.SIGKILL)
	// The slot's sandbox dies with the host and takes the stopped compile
	// with it, sooner or later: the group may be gone already.
	if err := syscall.Kill(-frozen, syscall.SIGKILL); !errors.Is(err, syscall.ESRCH) {
		require.NoError(t, err, "the host's stopped compile")
	}
	assert.NotEmpty(t, h1.leftJobs(t), "the host died inside a compile, leaving its job directory")

	<-built
	require.NoError(t, buildErr, "the build fails when a host dies:\n%s", out)
	st := b.d.stats(t)
	hosts := hostCounts(t, b.d)
	t.Logf("after the kill: %v; per host %v; %d objects at the kill", st, hosts, objectsAtKill)
	assert.Zero(t, st["errors"])
	// The unit in flight on the dead host was compiled here, or sent to
	// the other host when it had a free slot.
	fellBack, resent := 0, 0
	for _, line := range strings.Split(b.d.logTail(1000), "\n") {
		if strings.Contains(line, "failed: compiling here") && strings.Contains(line, "host="+h1.addr) {
			fellBack++
		}
		if strings.Contains(line, "sent to another") && strings.Contains(line, "host="+h1.addr) {
			resent++
		}
	}
	assert.Positive(t, fellBack+resent, "the daemon's log says a unit sent to %s was compiled here or on the other host:\n%s", h1.addr, b.d.logTail(20))
	if fellBack > 0 {
		assert.Positive(t, st["fallbacks"], "a unit compiled here counts as a fallback")
	}
	assert.Greater(t, countObjects(t, b.viaDcc, b.p.objects), objectsAtKill, "the build went on after the kill")
	b.checkIdentical(t)
	for deadline := time.Now().Add(10 * time.Second); len(h1.compiles(t)) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Empty(t, h1.compiles(t), "the dead host's compile is gone")
}

// TestRemoteSilentAndRefusingHosts: a host that accepts TCP but never
// answers, and a host that refuses the token, cost a timeout and a backoff,
// never the build; dcc hosts says why each is unusable.
func TestRemoteSilentAndRefusingHosts(t *testing.T) {
	t.Parallel()
	good := startHost(t, "127.0.0.3", 2)
	silent := silentHost(t, "127.0.0.4")
	other := launchHost(t, freeAddr(t, "127.0.0.5"), 2, "another-token-0123456789abcdef")
	env := []string{
		// The silent host never gets as far as showing a key: any pin will do.
		"DCC_HOSTS=" + silent + "/2,fingerprint=" + good.fingerprint + " " + other.hostArg(2) + " " + good.hostArg(2),
		"DCC_TOKEN=" + testToken, "DCC_CONNECT_TIMEOUT=500ms",
	}
	b := newRemoteBuild(t, zlibRecipe(), env)
	start := time.Now()
	b.build(t)
	t.Logf("build with a silent and a refusing host took %s", time.Since(start).Round(time.Millisecond))
	st := b.d.stats(t)
	assert.Zero(t, st["errors"])
	assert.Positive(t, st["remote"], "the good host still compiled")
	b.checkIdentical(t)

	cmd := exec.Command(dccBin, "hosts", "--json")
	cmd.Env = append(os.Environ(), b.env...)
	outb, err := cmd.Output()
	require.NoError(t, err)
	var report struct {
		Hosts []struct {
			Host          string `json:"host"`
			Authenticated bool   `json:"authenticated"`
			Error         string `json:"error"`
		} `json:"hosts"`
	}
	require.NoError(t, json.Unmarshal(outb, &report), "%s", outb)
	byHost := map[string]string{}
	for _, h := range report.Hosts {
		if !h.Authenticated {
			byHost[h.Host] = h.Error
		}
	}
	assert.Contains(t, byHost, silent, "the silent host is not usable: %s", outb)
	assert.Contains(t, byHost[other.addr], "token", "the refusing host says the token was refused: %s", outb)
	assert.NotContains(t, byHost, good.addr)
}

// TestRemoteThreeClients runs three clients (three daemons) at once, each
// building zlib at -j8 through the same two hosts.
func TestRemoteThreeClients(t *testing.T) {
	t.Parallel()
	h1, h2 := startHost(t, "127.0.0.2", 2), startHost(t, "127.0.0.3", 2)
	builds := make([]*remoteBuild, 3)
	for i := range builds {
		builds[i] = newRemoteBuild(t, zlibRecipe(), hostsEnv(2, h1, h2))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(builds))
	for i, b := range builds {
		wg.Go(func() {
			cmd := exec.Command("sh", "-c", "make -j8")
			cmd.Dir = b.viaDcc
			cmd.Env = append(os.Environ(), b.env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = err
				t.Logf("client %d:\n%s", i, out)
			}
		})
	}
	wg.Wait()
	var remote int64
	for i, b := range builds {
		require.NoError(t, errs[i], "client %d", i)
		st := b.d.stats(t)
		remote += st["remote"]
		assert.Zero(t, st["errors"], "client %d", i)
		b.checkIdentical(t)
	}
	assert.Positive(t, remote, "the hosts compiled for the clients")
}

// TestRemoteSharedCache: a second client with an empty local cache gets the
// first client's results from the shared cache; dcc clean --remote in the
// project empties that namespace.
func TestRemoteSharedCache(t *testing.T) {
	t.Parallel()
	h1, h2 := startHost(t, "127.0.0.2", 2), startHost(t, "127.0.0.3", 2)
	first := newRemoteBuild(t, zlibRecipe(), hostsEnv(2, h1, h2))
	first.build(t)
	require.Positive(t, first.d.stats(t)["remote"])
	// The shared cache is filled in the background after each compile.
	time.Sleep(500 * time.Millisecond)

	second := newRemoteBuild(t, zlibRecipe(), hostsEnv(2, h1, h2))
	second.build(t)
	st := second.d.stats(t)
	t.Logf("second client: %v", st)
	assert.Positive(t, st["remote_cache_hits"], "the second client hit the shared cache")
	second.checkIdentical(t)

	clean := exec.Command(dccBin, "clean", "--remote")
	clean.Dir = second.viaDcc
	clean.Env = append(os.Environ(), second.env...)
	out, err := clean.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("dcc clean --remote:\n%s", out)

	third := newRemoteBuild(t, zlibRecipe(), hostsEnv(2, h1, h2))
	third.build(t)
	assert.Zero(t, third.d.stats(t)["remote_cache_hits"], "the project's shared entries are gone")
	third.checkIdentical(t)
}
