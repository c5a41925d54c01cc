package integration

import (
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

// treeCPU returns the CPU time (user + system, in clock ticks of 10 ms)
// that pid and its live descendants used, each with the children it
// reaped: a host's compiles run in processes it or its sandbox workers
// wait for, and a worker may live as long as the host.
func treeCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(tb, err)
	children := map[int][]int{}
	ticks := map[int]int64{}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process exited
		}
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+2:]))
		if len(fields) < 15 {
			continue
		}
		self, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		parent, _ := strconv.Atoi(fields[1])
		children[parent] = append(children[parent], self)
		for _, f := range fields[11:15] { // utime, stime, cutime, cstime
			n, _ := strconv.ParseInt(f, 10, 64)
			ticks[self] += n
		}
	}
	_, ok := ticks[pid]
	require.True(tb, ok, "no process %d", pid)
	var total int64
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[p]...)
		total += ticks[p]
	}
	return time.Duration(total) * 10 * time.Millisecond
}

// BenchmarkRemoteCxxClang times a cold clang++ -g (Debug) build of yaml-cpp
// (34 C++ units, Debian's sources) at -j8, plainly and with dcc as CMake's
// compiler launcher through two loopback hosts of 2 slots each, in
// interleaved rounds, each dcc round with a new daemon, an empty cache and
// a project namespace of its own (so no host answers from its shared
// cache). It reports the ratio of the medians of the wall times, the
// client's CPU per unit (the build's processes, the wrappers and any
// compile run here included, plus the daemon's CPU and its children's)
// against the plain build's, the hosts' CPU per unit, and how many units
// the hosts compiled. Every dcc build's objects must be the plain build's.
// b.N only satisfies -benchtime.
func BenchmarkRemoteCxxClang(b *testing.B) {
	src := yamlCppTree(b)
	h1, h2 := startHost(b, "127.0.0.2", 2), startHost(b, "127.0.0.3", 2)
	type variant struct {
		name, launcher   string
		times, cpu, host []time.Duration
		onHosts, reruns  []int64
	}
	variants := []*variant{{name: "clang"}, {name: "dcc", launcher: dccBin}}
	// One build directory, configured again (not timed) for each build
	// with the variant's launcher: debug information records it.
	build := filepath.Join(b.TempDir(), "build")
	hostsCPU := func() time.Duration { return treeCPU(b, h1.cmd.Process.Pid) + treeCPU(b, h2.cmd.Process.Pid) }
	var want map[string][]byte
	const rounds = 3
	for r := range rounds {
		for j := range variants {
			v := variants[(r+j)%len(variants)]
			yamlCppConfigure(b, src, build, v.launcher)
			shell(b, src, nil, "cmake --build "+build+" --target clean >/dev/null")
			var env []string
			var d *projectDaemon
			if v.launcher != "" {
				d = newProjectDaemon(b, "10m")
				env = append(append(append([]string{}, d.env...), hostsEnv(2, h1, h2)...),
					fmt.Sprintf("DCC_PROJECT=bench-cxx-%d", r))
			}
			hostsBefore := hostsCPU()
			cmd := exec.Command("sh", "-c", "cmake --build "+build+" -j8 >/dev/null 2>&1")
			cmd.Dir, cmd.Env = src, append(os.Environ(), env...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			wall := time.Since(start)
			require.NoError(b, err, "%s build: %s", v.name, out)
			cpu := cpuOf(cmd)
			v.host = append(v.host, hostsCPU()-hostsBefore)
			if d != nil {
				cpu += treeCPU(b, d.pid())
				st := d.stats(b)
				require.Zero(b, st["errors"]+st["fallbacks"], "dcc build: %v", st)
				v.onHosts = append(v.onHosts, st["remote_sources"])
				v.reruns = append(v.reruns, st["remote_reruns"])
				d.stop(b)
			}
			v.times, v.cpu = append(v.times, wall), append(v.cpu, cpu)
			got := collectOutputs(b, build)
			require.Len(b, got, 2*yamlCppUnits, "%s build: an object and a dependency file per unit", v.name)
			if v.launcher == "" {
				want = got
			} else if want != nil {
				for name, o := range want {
					require.True(b, bytes.Equal(o, got[name]), "%s of the dcc build differs from the plain build's", name)
				}
			}
		}
	}
	for b.Loop() {
		// Measured above; b.Loop only satisfies -benchtime.
	}
	plain, dcc := variants[0], variants[1]
	ratio := func(a, c time.Duration) float64 { return float64(a) / float64(c) }
	perUnit := func(d time.Duration) time.Duration { return d / yamlCppUnits }
	b.ReportMetric(ratio(median(dcc.times), median(plain.times)), "dcc-wall/clang")
	b.ReportMetric(ratio(median(dcc.cpu), median(plain.cpu)), "dcc-client-cpu/clang")
	b.ReportMetric(float64(median(dcc.host))/yamlCppUnits/1e6, "dcc-host-cpu-ms/unit")
	b.Logf("yaml-cpp, clang++ -g (Debug), %d units, cold, -j8, two loopback hosts of 2 slots on the same machine; medians of %d rounds",
		yamlCppUnits, rounds)
	b.Logf("  wall: clang %s, dcc %s (%.2f); every round: clang %s, dcc %s",
		median(plain.times), median(dcc.times), ratio(median(dcc.times), median(plain.times)), seconds(plain.times), seconds(dcc.times))
	b.Logf("  client CPU per unit: clang %s, dcc %s (%.2f); hosts' CPU per unit with dcc %s",
		perUnit(median(plain.cpu)), perUnit(median(dcc.cpu)), ratio(median(dcc.cpu), median(plain.cpu)), perUnit(median(dcc.host)))
	b.Logf("  units per dcc round: %v compiled on the hosts from their sources, %v more compiled there and again here for their warnings, the rest here (no free host slot)",
		dcc.onHosts, dcc.reruns)
}
