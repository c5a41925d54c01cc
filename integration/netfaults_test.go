package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// netFault is one fault injected into a build through two namespaced
// hosts.
type netFault struct {
	name string
	// before runs before the build, and returns its undoing (or nil), and
	// the host list to use ("" for the direct one).
	before func(t *testing.T) (undo func(), hosts string)
	// setup runs before the build with the build's daemon, not yet started.
	setup func(t *testing.T, d *projectDaemon)
	// during runs once the build has written 3 objects, with the build's
	// daemon; after, when the build ended, undoes or checks it.
	during func(t *testing.T, d *projectDaemon) (after func())
	// bounded: the daemon must notice the fault on the first host within
	// maxLost (its log says when). Build times are printed, not asserted:
	// on a shared machine they vary more than the faults cost.
	bounded bool
	// storeFails: the fault leaves the client's cache unwritable, so the
	// units it could not store count as errors (their objects are still
	// written and compared); there must be some.
	storeFails bool
}

// TestNetworkFaultsDuringBuild builds 219 units of libtomcrypt (Debian's
// source, tomcryptPartRecipe) at -j8 through two hosts, each in a network
// namespace of its own, once without a fault (the baseline) and once per
// fault. (A warm-up build before the baseline, which the zlib version of
// this test needed to fill the hosts' file stores, made no difference here:
// after the first unit on each host, a unit sends only its own .c.)
// On the hosts: one host partitioned (every packet dropped) mid-build and
// healed 3 s later; 200 ms each way of latency (a delaying proxy) with 5% packet loss
// each way (iptables' statistic match) on one host for the whole build; one
// host stopped (SIGSTOP) and resumed 3 s later; one host killed (SIGKILL)
// and restarted on the same address; both hosts' /dev/shm and workdir file
// systems filled up. On the client (clientFaults): its daemon SIGKILLed, its
// DCC_DIR removed, its cache file system filled up. Every build succeeds
// with every product identical to a plain build's; a dead, partitioned or
// stopped host is noticed within maxLost; the log prints each build's time
// against the fault-free one.
func TestNetworkFaultsDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("nine builds of libtomcrypt's units: not in -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("network fault tests need root: they create network namespaces, veth pairs and iptables rules")
	}
	for _, tool := range []string{"ip", "iptables", "make", "gcc"} {
		requireTool(t, tool)
	}
	if err := exec.Command("ip", "netns", "list").Run(); err != nil {
		t.Skipf("network namespaces are not available: %v", err)
	}
	t.Parallel()
	p := tomcryptPartRecipe()
	src := fetchProject(t, p.pkg)
	work := t.TempDir()
	plain := filepath.Join(work, "plain")
	prepareTree(t, p, src, plain)
	start := time.Now()
	shell(t, plain, nil, strings.ReplaceAll(p.build, "-j4", "-j8"))
	plainTook := time.Since(start)
	units := countObjects(t, plain, p.objects)

	h1, h2 := newNetHost(t, 1), newNetHost(t, 2)
	direct := h1.h.hostArg(4) + " " + h2.h.hostArg(4)
	faults := append(append([]netFault{{name: "none"}}, hostFaults(h1, h2)...), clientFaults()...)
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
			dir := filepath.Join(work, fmt.Sprint("b", i))
			took, faultAt, log := netBuild(t, p, src, plain, dir, hosts, fmt.Sprint("faults-", os.Getpid(), "-", i), f)
			if i == 0 {
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
		if i == 0 && !ok {
			t.FailNow()
		}
	}
	t.Logf("%s (%d units) at -j8 through two namespaced hosts, per fault (plain make -j8: %.1f s):\n%s",
		p.pkg, units, plainTook.Seconds(), strings.Join(report, "\n"))
}

// hostFaults are the faults of the hosts' side: h1 partitioned, h2 slow and
// lossy, h1 stopped, h1 killed and restarted, both hosts' disks full.
func hostFaults(h1, h2 *netHost) []netFault {
	return []netFault{
		{name: "partition, healed after 3 s", bounded: true, during: func(t *testing.T, _ *projectDaemon) func() {
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
		{name: "SIGSTOP, SIGCONT after 3 s", bounded: true, during: func(t *testing.T, _ *projectDaemon) func() {
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
		{name: "SIGKILL, restarted", bounded: true, during: func(t *testing.T, _ *projectDaemon) func() {
			h1.h.kill(syscall.SIGKILL)
			time.Sleep(time.Second)
			h1.start(t)
			return nil
		}},
		{name: "host file systems full", during: func(t *testing.T, _ *projectDaemon) func() {
			undo1, undo2 := h1.fill(t), h2.fill(t)
			return func() { undo1(); undo2() }
		}},
	}
}

// netBuild builds the project in a fresh tree at dir through hosts, with a
// daemon of its own and a project name of its own in the hosts' shared
// cache (so no build reuses another's results), injecting f (if it has a
// fault) once 3 objects are written. It checks every product against
// plain's and returns the build's time.
func netBuild(t *testing.T, p projectRecipe, src, plain, dir, hosts, project string, f netFault) (took time.Duration, faultAt time.Time, log string) {
	t.Helper()
	prepareTree(t, p, src, dir)
	d := newProjectDaemon(t, "60s")
	defer d.stop(t)
	if f.setup != nil {
		f.setup(t, d)
	}
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
	if f.during != nil {
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
		after = f.during(t, d)
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
	if f.storeFails {
		assert.Positive(t, st["errors"], "units the full cache could not store")
	} else {
		assert.Zero(t, st["errors"])
	}
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
