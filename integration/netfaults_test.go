package integration

import (
	"fmt"
	"net"
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

	"github.com/dcc-build/dcc/server"
)

// netHost is a dcc-server in a network namespace of its own, joined to
// this one by a veth pair, with its /dev/shm and workdir on tmpfs file
// systems of its own (mounted in the server's mount namespace only), so
// that the test can cut its network, delay it and fill its disks.
type netHost struct {
	ns, ip, addr string
	// dir holds the server's DCC_DIR (kept across restarts) and workdir.
	dir string
	h   *compileHost
	// tb is the test that owns the host: its cleanup stops every server
	// started, restarts included.
	tb testing.TB
}

// runCmd runs a command, failing the test with its output.
func runCmd(tb testing.TB, argv ...string) {
	tb.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	require.NoError(tb, err, "%s: %s", strings.Join(argv, " "), out)
}

// newNetHost makes namespace i (10.231.i.2, this side 10.231.i.1) and
// starts a server there with 2 slots. The test's cleanup stops the server
// and removes the namespace and its veth pair.
func newNetHost(tb testing.TB, i int) *netHost {
	tb.Helper()
	tag := fmt.Sprint(os.Getpid() % 100000)
	n := &netHost{ns: fmt.Sprintf("dccf%s-%d", tag, i), ip: fmt.Sprintf("10.231.%d.2", i), dir: tb.TempDir(), tb: tb}
	n.addr = n.ip + ":9693"
	outer, inner := fmt.Sprintf("dfo%s%d", tag, i), fmt.Sprintf("dfi%s%d", tag, i)
	runCmd(tb, "ip", "netns", "add", n.ns)
	tb.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.ns).Run() // takes its end of the pair, and so the pair
		_ = exec.Command("ip", "link", "del", outer).Run()
	})
	runCmd(tb, "ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", n.ns)
	runCmd(tb, "ip", "addr", "add", fmt.Sprintf("10.231.%d.1/24", i), "dev", outer)
	runCmd(tb, "ip", "link", "set", outer, "up")
	runCmd(tb, "ip", "netns", "exec", n.ns, "ip", "addr", "add", n.ip+"/24", "dev", inner)
	runCmd(tb, "ip", "netns", "exec", n.ns, "ip", "link", "set", inner, "up")
	runCmd(tb, "ip", "netns", "exec", n.ns, "ip", "link", "set", "lo", "up")
	require.NoError(tb, os.MkdirAll(filepath.Join(n.dir, "work"), 0o700))
	n.start(tb)
	return n
}

// start starts the server (again: a restart keeps its address and DCC_DIR,
// and, like a reboot, starts with empty tmpfs file systems).
func (n *netHost) start(tb testing.TB) {
	tb.Helper()
	requireServerBinary(tb)
	h := &compileHost{addr: n.addr, dir: n.dir}
	var err error
	h.log, err = os.OpenFile(filepath.Join(n.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(tb, err)
	work := filepath.Join(n.dir, "work")
	h.cmd = exec.Command("ip", "netns", "exec", n.ns, "sh", "-c",
		`mount -t tmpfs -o size=256m,mode=1777 tmpfs /dev/shm && mount -t tmpfs -o size=256m,mode=0700 tmpfs "$0" && exec "$@"`,
		work, serverBin, "--listen", n.addr, "--jobs", "2", "--token", testToken, "--workdir", work, "-v")
	h.cmd.Env = append(os.Environ(), "DCC_DIR="+filepath.Join(n.dir, "dcc"))
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	require.NoError(tb, h.cmd.Start())
	n.tb.Cleanup(func() { h.kill(syscall.SIGTERM) })
	n.h = h
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", n.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			// It made its TLS key (kept across restarts) before listening.
			key, err := server.LoadHostKey(filepath.Join(n.dir, "dcc", server.TLSFileName), "")
			require.NoError(tb, err)
			h.fingerprint = key.Fingerprint
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("dcc-server in %s did not start: %v\n%s", n.ns, err, h.output())
		}
	}
}

// iptables runs iptables in the host's namespace.
func (n *netHost) iptables(tb testing.TB, args ...string) {
	tb.Helper()
	runCmd(tb, append([]string{"ip", "netns", "exec", n.ns, "iptables"}, args...)...)
}

// partition drops every packet in and out of the host; heal undoes it.
func (n *netHost) partition(tb testing.TB) {
	n.iptables(tb, "-I", "INPUT", "-j", "DROP")
	n.iptables(tb, "-I", "OUTPUT", "-j", "DROP")
}

func (n *netHost) heal(tb testing.TB) {
	n.iptables(tb, "-D", "INPUT", "-j", "DROP")
	n.iptables(tb, "-D", "OUTPUT", "-j", "DROP")
}

// lossRule is a random drop of p of the packets of one chain.
func lossRule(op, chain string, p float64) []string {
	return []string{op, chain, "-m", "statistic", "--mode", "random", "--probability", fmt.Sprint(p), "-j", "DROP"}
}

// fill writes into the host's /dev/shm and workdir, as the server sees
// them, until each is full; the returned func removes what it wrote.
func (n *netHost) fill(tb testing.TB) func() {
	tb.Helper()
	root := fmt.Sprintf("/proc/%d/root", n.h.cmd.Process.Pid)
	var files []string
	for _, dir := range []string{"/dev/shm", filepath.Join(n.dir, "work")} {
		name := filepath.Join(root, dir, "filler")
		f, err := os.Create(name)
		require.NoError(tb, err)
		chunk := make([]byte, 1<<20)
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
		f.Close()
		files = append(files, name)
	}
	return func() {
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
}

// startDelayProxy forwards connections on a loopback address to target,
// holding every byte for delay in each direction; the test's cleanup stops
// it.
func startDelayProxy(tb testing.TB, target string, delay time.Duration) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, d)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); delayPipe(d, c, delay) }()
			go func() { defer wg.Done(); delayPipe(c, d, delay) }()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// delayPipe copies src to dst, each chunk delay after it was read, in order.
func delayPipe(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		due time.Time
		b   []byte
	}
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	src.Close()
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	for range ch { // the reader ends with src closed
	}
}

// netFault is one fault injected into a build through two namespaced
// hosts.
type netFault struct {
	name string
	// before runs before the build, and returns its undoing (or nil), and
	// the host list to use ("" for the direct one).
	before func(t *testing.T) (undo func(), hosts string)
	// during runs once the build has written 3 objects; after, when the
	// build ended, undoes it.
	during func(t *testing.T) (after func())
	// bounded: the daemon must notice the fault on the first host within
	// maxLost (its log says when). Build times are printed, not asserted:
	// on a shared machine they vary more than the faults cost.
	bounded bool
}

// TestNetworkFaultsDuringBuild builds zlib (Debian's source) at -j8
// through two hosts, each in a network namespace of its own, twice without
// a fault (a warm-up that fills the hosts' file stores, then the baseline)
// and once per fault: one host partitioned (every packet dropped)
// mid-build and healed 3 s later; 200 ms each way of latency (a delaying
// proxy) with 5% packet loss each way (iptables' statistic match) on one
// host for the whole build; one host stopped (SIGSTOP) and resumed 3 s
// later; one host killed (SIGKILL) and restarted on the same address; both
// hosts' /dev/shm and workdir file systems filled up. Every build succeeds
// with every product identical to a plain build's; a dead, partitioned or
// stopped host is noticed within maxLost; the log prints each build's time
// against the fault-free one.
func TestNetworkFaultsDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("seven builds of zlib: not in -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("network fault tests need root: they create network namespaces, veth pairs and iptables rules")
	}
	for _, tool := range []string{"ip", "iptables", "make"} {
		requireTool(t, tool)
	}
	if err := exec.Command("ip", "netns", "list").Run(); err != nil {
		t.Skipf("network namespaces are not available: %v", err)
	}
	t.Parallel()
	p := zlibRecipe()
	src := fetchProject(t, p.pkg)
	work := t.TempDir()
	plain := filepath.Join(work, "plain")
	prepareTree(t, p, src, plain)
	shell(t, plain, nil, strings.ReplaceAll(p.build, "-j4", "-j8"))

	h1, h2 := newNetHost(t, 1), newNetHost(t, 2)
	direct := h1.h.hostArg(4) + " " + h2.h.hostArg(4)
	faults := []netFault{
		// The first build fills the hosts' stores of source files (later
		// builds send most files by digest): a warm-up, then the baseline.
		{name: "none, warm-up"},
		{name: "none"},
		{name: "partition, healed after 3 s", bounded: true, during: func(t *testing.T) func() {
			h1.partition(t)
			healed := make(chan struct{})
			timer := time.AfterFunc(3*time.Second, func() { h1.heal(t); close(healed) })
			return func() {
				if timer.Stop() {
					h1.heal(t)
				} else {
					<-healed
				}
			}
		}},
		{name: "200 ms latency, 5% loss", before: func(t *testing.T) (func(), string) {
			proxy := startDelayProxy(t, h2.addr, 200*time.Millisecond)
			h2.iptables(t, lossRule("-A", "INPUT", 0.05)...)
			h2.iptables(t, lossRule("-A", "OUTPUT", 0.05)...)
			return func() {
				h2.iptables(t, lossRule("-D", "INPUT", 0.05)...)
				h2.iptables(t, lossRule("-D", "OUTPUT", 0.05)...)
			}, h1.h.hostArg(4) + " " + proxy + "/4,fingerprint=" + h2.h.fingerprint
		}},
		{name: "SIGSTOP, SIGCONT after 3 s", bounded: true, during: func(t *testing.T) func() {
			require.NoError(t, h1.h.cmd.Process.Signal(syscall.SIGSTOP))
			resumed := make(chan struct{})
			timer := time.AfterFunc(3*time.Second, func() { _ = h1.h.cmd.Process.Signal(syscall.SIGCONT); close(resumed) })
			return func() {
				if timer.Stop() {
					_ = h1.h.cmd.Process.Signal(syscall.SIGCONT)
				} else {
					<-resumed
				}
			}
		}},
		{name: "SIGKILL, restarted", bounded: true, during: func(t *testing.T) func() {
			h1.h.kill(syscall.SIGKILL)
			time.Sleep(time.Second)
			h1.start(t)
			return nil
		}},
		{name: "host file systems full", during: func(t *testing.T) func() {
			undo1, undo2 := h1.fill(t), h2.fill(t)
			return func() { undo1(); undo2() }
		}},
	}
	var base time.Duration
	var report []string
	for i, f := range faults {
		ok := t.Run(f.name, func(t *testing.T) {
			hosts := direct
			if f.before != nil {
				undo, list := f.before(t)
				if undo != nil {
					defer undo()
				}
				if list != "" {
					hosts = list
				}
			}
			took, faultAt, log := netBuild(t, p, src, plain, filepath.Join(work, fmt.Sprint("b", i)), hosts, fmt.Sprint("faults-", os.Getpid(), "-", i), f.during)
			if i <= 1 {
				base = took
			}
			noticed := ""
			if f.bounded {
				at, ok := hostDropped(log, h1.addr, faultAt)
				if assert.True(t, ok, "the daemon noticed the fault on %s:\n%s", h1.addr, log) {
					noticed = fmt.Sprintf(", noticed after %.2f s", at.Sub(faultAt).Seconds())
					// The log's clock has millisecond steps.
					assert.LessOrEqual(t, at.Sub(faultAt), maxLost, "a silent or dead host is noticed within %s", maxLost)
				}
			}
			line := fmt.Sprintf("%-28s %6.1f s  (fault-free %.1f s, %+.1f s%s)", f.name, took.Seconds(), base.Seconds(), (took - base).Seconds(), noticed)
			report = append(report, line)
			t.Log(line)
		})
		if i <= 1 && !ok {
			t.FailNow()
		}
	}
	t.Logf("zlib at -j8 through two namespaced hosts, per fault:\n%s", strings.Join(report, "\n"))
}

// netBuild builds the project in a fresh tree at dir through hosts, with a
// daemon of its own and a project name of its own in the hosts' shared
// cache (so no build reuses another's results), injecting during (if any)
// once 3 objects are written. It checks every product against plain's and
// returns the build's time.
func netBuild(t *testing.T, p projectRecipe, src, plain, dir, hosts, project string, during func(*testing.T) func()) (took time.Duration, faultAt time.Time, log string) {
	t.Helper()
	prepareTree(t, p, src, dir)
	d := newProjectDaemon(t, "60s")
	defer d.stop(t)
	env := append(append([]string{"PATH=" + withPath(masqueradeDir(t, compilerLinks...))}, d.env...),
		"DCC_HOSTS="+hosts, "DCC_TOKEN="+testToken, "DCC_PROJECT="+project, "DCC_LOG_LEVEL=info")
	cmd := exec.Command("sh", "-c", strings.ReplaceAll(p.build, "-j4", "-j8"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	require.NoError(t, cmd.Start())
	built := make(chan struct{})
	var buildErr error
	go func() { buildErr = cmd.Wait(); close(built) }()
	var after func()
	if during != nil {
	wait:
		for countObjects(t, dir, p.objects) < 3 {
			select {
			case <-built:
				t.Errorf("the build ended before the fault")
				break wait
			case <-time.After(5 * time.Millisecond):
			}
		}
		faultAt = time.Now()
		after = during(t)
	}
	<-built
	took = time.Since(start)
	if after != nil {
		after()
	}
	require.NoError(t, buildErr, "%s", out)
	st := d.stats(t)
	t.Logf("stats %v; per host %v", st, hostCounts(t, d))
	log = d.logTail(5000)
	assert.Zero(t, st["errors"])
	requireIdenticalProducts(t, plain, dir)
	return took, faultAt, log
}

// hostDropped returns when the daemon's log (log_level info) first shows
// addr's session lost or a job there failed, at or after since.
func hostDropped(log, addr string, since time.Time) (time.Time, bool) {
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "host="+addr+" ") {
			continue
		}
		if !strings.Contains(l, "remote compile failed") && !strings.Contains(l, "session with host closed") &&
			!strings.Contains(l, "host backed off") {
			continue
		}
		stamp, _, _ := strings.Cut(strings.TrimPrefix(l, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if err == nil && !at.Before(since.Add(-time.Millisecond)) {
			return at, true
		}
	}
	return time.Time{}, false
}
