package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// distccHost is one distccd the benchmark started on a loopback address.
type distccHost struct {
	addr string
	cmd  *exec.Cmd
}

// startDistccd starts distccd in the foreground on ip with jobs slots; the
// benchmark stops it by its own pid.
func startDistccd(tb testing.TB, ip string, jobs int) *distccHost {
	tb.Helper()
	bin := requireTool(tb, "distccd")
	addr := freeAddr(tb, ip)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	h := &distccHost{addr: addr}
	h.cmd = exec.Command(bin, "--daemon", "--no-detach", "--listen", ip, "--port", port,
		"--allow", "127.0.0.0/8", "--jobs", strconv.Itoa(jobs), "--log-stderr", "--log-level", "error")
	if os.Geteuid() == 0 {
		h.cmd.Args = append(h.cmd.Args, "--user", "nobody")
	}
	log, err := os.Create(filepath.Join(tb.TempDir(), "distccd.log"))
	require.NoError(tb, err)
	h.cmd.Stdout, h.cmd.Stderr = log, log
	require.NoError(tb, h.cmd.Start())
	tb.Cleanup(func() {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = h.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = h.cmd.Process.Kill()
			<-done
		}
		log.Close()
	})
	waitTCP(tb, addr)
	return h
}

// waitTCP waits until addr accepts connections.
func waitTCP(tb testing.TB, addr string) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if acceptsTCP(addr) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s does not accept connections", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cpuOf returns the CPU time (user + system) a finished command and the
// children it waited for used.
func cpuOf(cmd *exec.Cmd) time.Duration {
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// procCPU returns a process's own CPU time plus that of its waited-for
// children. Its own is the sum of its threads' run time from
// /proc/PID/task/*/sched (to the microsecond); its children's comes from
// /proc/PID/stat in 10 ms ticks, whose rounding cancels out over a series of
// units, since nothing else adds to it in between.
func procCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(tb, err)
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var ticks int64
	for _, i := range []int{13, 14} { // cutime, cstime
		n, err := strconv.ParseInt(fields[i], 10, 64)
		require.NoError(tb, err)
		ticks += n
	}
	return threadsCPU(tb, pid) + time.Duration(ticks)*10*time.Millisecond
}

// threadsCPU sums se.sum_exec_runtime (milliseconds) over a process's threads.
func threadsCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	scheds, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/sched", pid))
	require.NoError(tb, err)
	var total time.Duration
	for _, path := range scheds {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.TrimSpace(k) != "se.sum_exec_runtime" {
				continue
			}
			ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			require.NoError(tb, err, line)
			total += time.Duration(ms * float64(time.Millisecond))
		}
	}
	require.NotZero(tb, total, "no run time in /proc/%d/task/*/sched", pid)
	return total
}

// BenchmarkRemoteVsDistcc compares sending compiles to hosts with dcc and
// with distcc, side by side on the same machine and loopback hosts:
//
//   - client CPU per remotely compiled unit, as a ratio of a local compile's
//     CPU: zlib's deflate.c made unique each round (so no cache answers),
//     compiled at -O2 by plain gcc, by "distcc gcc" to one distccd, and
//     through dcc to one dcc-server; for dcc the wrapper's CPU and the
//     daemon's (its own and its preprocessing runs') count; means over the
//     units, since the daemon's share is only known as a sum;
//   - wall time of a cold zlib build at -j8 with two hosts of two slots and
//     two local slots each (distcc: localhost/2 plus the hosts), against
//     plain gcc.
//
// Interleaved rounds (wall times: medians); b.N only satisfies -benchtime.
func BenchmarkRemoteVsDistcc(b *testing.B) {
	requireTool(b, "distcc")
	requireTool(b, "gcc")
	src := fetchProject(b, "zlib")
	dh1, dh2 := startDistccd(b, "127.0.0.2", 2), startDistccd(b, "127.0.0.3", 2)
	h1, h2 := startHost(b, "127.0.0.2", 2), startHost(b, "127.0.0.3", 2)

	// Client CPU per unit.
	unitDir := b.TempDir()
	deflate, err := os.ReadFile(filepath.Join(src, "deflate.c"))
	require.NoError(b, err)
	for _, h := range []string{"deflate.h", "zutil.h", "zlib.h", "zconf.h"} {
		data, err := os.ReadFile(filepath.Join(src, h))
		require.NoError(b, err)
		require.NoError(b, os.WriteFile(filepath.Join(unitDir, h), data, 0o644))
	}
	masq := masqueradeDir(b, compilerLinks...)
	dccGCC := filepath.Join(masq, "gcc")
	// Two dcc clients, each with its own daemon: one sends the sources
	// (remote_sources = all, the default), one preprocessed text
	// (remote_sources = off).
	type dccClient struct {
		name             string
		d                *projectDaemon
		env              []string
		wrapper          []time.Duration
		daemon, ownTotal time.Duration
	}
	var clients []*dccClient
	for _, c := range []struct{ name, sources string }{{"dcc", "all"}, {"dcc-cpp", "off"}} {
		d := newProjectDaemon(b, "10m")
		b.Cleanup(func() { d.stop(b) })
		env := append(append([]string{"PATH=" + withPath(masq)}, d.env...),
			"DCC_HOSTS="+h1.hostArg(2), "DCC_TOKEN="+testToken, "DCC_PROJECT=bench-units", "DCC_REMOTE_SOURCES="+c.sources)
		clients = append(clients, &dccClient{name: c.name, d: d, env: env})
	}
	distccEnv := []string{"DISTCC_HOSTS=" + dh1.addr + "/2", "DISTCC_FALLBACK=0", "DISTCC_DIR=" + b.TempDir()}
	flags := []string{"-O2", "-D_LARGEFILE64_SOURCE=1", "-DHAVE_HIDDEN", "-c"}
	run := func(env []string, argv ...string) *exec.Cmd {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = unitDir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(b, err, "%v: %s", argv, out)
		return cmd
	}
	// A first unit starts each daemon and has it identify the compiler;
	// the measured units find it running.
	for _, c := range clients {
		name := "warmup-" + c.name + ".c"
		warmup := append(append([]byte{}, deflate...), "\nint bench_warmup;\n"...)
		require.NoError(b, os.WriteFile(filepath.Join(unitDir, name), warmup, 0o644))
		run(c.env, append(append([]string{dccGCC}, flags...), name, "-o", name+".o")...)
	}
	const units = 60
	var local, distcc []time.Duration
	for i := range units {
		kinds := []string{"local", "distcc", "dcc", "dcc-cpp"}
		for j := range kinds {
			v := kinds[(i+j)%len(kinds)] // rotate who goes first, and who follows whom
			name := fmt.Sprintf("u%s%d.c", v, i)
			unit := append(append([]byte{}, deflate...), fmt.Sprintf("\nint bench_unit_%d_%d = %d;\n", j, i, i)...)
			require.NoError(b, os.WriteFile(filepath.Join(unitDir, name), unit, 0o644))
			args := append(append([]string{}, flags...), name, "-o", name+".o")
			switch v {
			case "local":
				local = append(local, cpuOf(run(nil, append([]string{"gcc"}, args...)...)))
			case "distcc":
				distcc = append(distcc, cpuOf(run(distccEnv, append([]string{"distcc", "gcc"}, args...)...)))
			default:
				c := clients[0]
				if v == "dcc-cpp" {
					c = clients[1]
				}
				before, beforeOwn := procCPU(b, c.d.pid()), threadsCPU(b, c.d.pid())
				c.wrapper = append(c.wrapper, cpuOf(run(c.env, append([]string{dccGCC}, args...)...)))
				c.daemon += procCPU(b, c.d.pid()) - before
				c.ownTotal += threadsCPU(b, c.d.pid()) - beforeOwn
			}
		}
	}
	for _, c := range clients {
		st := c.d.stats(b)
		require.Equal(b, int64(units+1), st["remote"], "every %s unit compiled on the host: %v", c.name, st)
	}
	// Means, not medians: the daemon's CPU counters tick every 10 ms, so
	// its share is only known summed over all units, and the other figures
	// are summed the same way (a median would leave out the slow runs of
	// one side only).
	localMean := mean(local)
	perUnit := func(c *dccClient) time.Duration { return mean(c.wrapper) + c.daemon/time.Duration(units) }
	distccPerUnit := mean(distcc)

	// Wall time of a zlib build.
	type variant struct {
		name  string
		env   func(round int) []string
		times []time.Duration
	}
	hostsD := "localhost/2 " + dh1.addr + "/2 " + dh2.addr + "/2"
	variants := []*variant{
		{name: "gcc", env: func(int) []string { return nil }},
		{name: "distcc", env: func(int) []string {
			return []string{"CC=distcc gcc", "DISTCC_HOSTS=" + hostsD, "DISTCC_DIR=" + b.TempDir()}
		}},
		{name: "dcc", env: func(round int) []string { return dccBuildEnv(b, round, "all", h1, h2) }},
		{name: "dcc-cpp", env: func(round int) []string { return dccBuildEnv(b, round, "off", h1, h2) }},
	}
	trees := map[string]string{}
	for _, v := range variants {
		tree := filepath.Join(b.TempDir(), "zlib")
		prepareTree(b, zlibRecipe(), src, tree)
		trees[v.name] = tree
	}
	const rounds = 3
	for r := range rounds {
		for j := range variants {
			v := variants[(r+j)%len(variants)]
			tree := trees[v.name]
			shell(b, tree, nil, projectClean)
			env := v.env(r)
			build := "make -j8"
			if v.name == "distcc" {
				build = `make -j8 CC="distcc gcc"`
			}
			start := time.Now()
			shell(b, tree, env, build)
			v.times = append(v.times, time.Since(start))
		}
	}
	for b.Loop() {
		// Measured above; b.Loop only satisfies -benchtime.
	}
	ratio := func(a, c time.Duration) float64 { return float64(a) / float64(c) }
	dcc, cpp := clients[0], clients[1]
	b.ReportMetric(ratio(perUnit(dcc), localMean), "dcc-client-cpu/local")
	b.ReportMetric(ratio(perUnit(cpp), localMean), "dcc-cpp-client-cpu/local")
	b.ReportMetric(ratio(distccPerUnit, localMean), "distcc-client-cpu/local")
	b.ReportMetric(ratio(perUnit(dcc), distccPerUnit), "dcc/distcc-client-cpu")
	b.ReportMetric(ratio(perUnit(cpp), distccPerUnit), "dcc-cpp/distcc-client-cpu")
	b.ReportMetric(ratio(median(variants[2].times), median(variants[0].times)), "dcc-wall/gcc")
	b.ReportMetric(ratio(median(variants[3].times), median(variants[0].times)), "dcc-cpp-wall/gcc")
	b.ReportMetric(ratio(median(variants[1].times), median(variants[0].times)), "distcc-wall/gcc")
	b.Logf("client CPU per remote unit (deflate.c -O2, means of %d): local compile %s; distcc %s (%.3f of local)",
		units, localMean, distccPerUnit, ratio(distccPerUnit, localMean))
	for _, c := range clients {
		b.Logf("  %s: %s = wrapper %s + daemon %s (its own %s, its preprocessing runs %s) (%.3f of local); %s/distcc %.3f",
			c.name, perUnit(c), mean(c.wrapper), c.daemon/time.Duration(units), c.ownTotal/time.Duration(units),
			(c.daemon-c.ownTotal)/time.Duration(units), ratio(perUnit(c), localMean), c.name, ratio(perUnit(c), distccPerUnit))
	}
	b.Logf("medians: local compile %s, distcc %s, dcc wrapper %s, dcc-cpp wrapper %s", median(local), median(distcc),
		median(dcc.wrapper), median(cpp.wrapper))
	b.Logf("zlib cold build at -j8, two loopback hosts of 2 slots (same 2-core machine), medians of %d: gcc %s, distcc %s, dcc %s, dcc-cpp %s; every round: gcc %s, distcc %s, dcc %s, dcc-cpp %s",
		rounds, median(variants[0].times), median(variants[1].times), median(variants[2].times), median(variants[3].times),
		seconds(variants[0].times), seconds(variants[1].times), seconds(variants[2].times), seconds(variants[3].times))
}

// dccBuildEnv is the environment of a zlib build through dcc with two
// hosts, a new daemon of its own and a project namespace of its own.
func dccBuildEnv(b *testing.B, round int, sources string, hosts ...*compileHost) []string {
	pd := newProjectDaemon(b, "10m")
	b.Cleanup(func() { pd.stop(b) })
	var list []string
	for _, h := range hosts {
		list = append(list, h.hostArg(2))
	}
	return append(append([]string{"PATH=" + withPath(masqueradeDir(b, compilerLinks...))}, pd.env...),
		"DCC_HOSTS="+strings.Join(list, " "), "DCC_TOKEN="+testToken, "DCC_REMOTE_SOURCES="+sources,
		fmt.Sprintf("DCC_PROJECT=bench-build-%s-%d", sources, round))
}
