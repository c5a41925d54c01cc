package server

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/server/sandboxworker"
)

// processCPU is the CPU time of this process and of its reaped children:
// the servers in it and the compilers they ran straight; the client's
// side, in the same process, is the same for both servers.
func processCPU(b *testing.B) time.Duration {
	var self, children syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		b.Fatal(err)
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err != nil {
		b.Fatal(err)
	}
	return time.Duration(self.Utime.Nano() + self.Stime.Nano() + children.Utime.Nano() + children.Stime.Nano())
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ).
const clockTick = 10 * time.Millisecond

// slotsCPU is the CPU time of a server's slot sandboxes: each bubblewrap,
// and its worker with the jobs it reaped (/proc/PID/stat's utime, stime,
// cutime and cstime, in clock ticks). Read between jobs, when every slot
// is idle.
func slotsCPU(b *testing.B, ts *testServer) time.Duration {
	var total time.Duration
	for _, pid := range idleSlots(ts) {
		pids := []string{strconv.Itoa(pid)}
		children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if err != nil {
			b.Fatal(err)
		}
		pids = append(pids, strings.Fields(string(children))...)
		for _, p := range pids {
			stat, err := os.ReadFile("/proc/" + p + "/stat")
			if err != nil {
				b.Fatal(err)
			}
			// Fields after the command name, which ends with ')': state is
			// the first, utime the 12th, cstime the 15th.
			f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			for _, n := range f[11:15] {
				ticks, err := strconv.ParseInt(n, 10, 64)
				if err != nil {
					b.Fatal(err)
				}
				total += time.Duration(ticks) * clockTick
			}
		}
	}
	return total
}

// median of d, which it sorts.
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkSandboxCost measures what the sandbox costs a job: two servers,
// one with the sandbox and one with sandbox = "off", compile the same fresh
// unit in turn (the order swapped every pair), real gcc through a real
// session. Host CPU is everything the host spends on the job: this
// process's CPU (the servers, and the compilers the unsandboxed server
// reaps) and, with the sandbox, the slots' bubblewrap and workers with the
// jobs they reaped. The slots' times come in clock ticks, so CPU is
// reported as means over all jobs; wall time as medians, with the median
// of the pairs' differences. "tiny" is a one-line unit, "stdio" a small
// unit including stdio.h.
func BenchmarkSandboxCost(b *testing.B) {
	realCompiler(b, "gcc")
	on := startServer(b, nil, nil)
	off := startServer(b, func(c *Config) { c.Sandbox.Off = true }, nil)
	son, soff := on.dial(b), off.dial(b)
	key := gccKey(b, son.Welcome())
	_, stdio := clientUnit(b, "gcc")
	for _, unit := range []struct {
		name string
		text []byte
	}{{"tiny", []byte("int f(int x) { return x * 3; }\n")}, {"stdio", stdio}} {
		b.Run(unit.name, func(b *testing.B) {
			var cpuOn, cpuOff time.Duration
			var wallOn, wallOff, wallDiff []time.Duration
			job := func(s *protocol.ClientSession, ts *testServer, text []byte) (time.Duration, time.Duration) {
				var s0 time.Duration
				if ts == on {
					s0 = slotsCPU(b, ts)
				}
				c0, t0 := processCPU(b), time.Now()
				m, err := call(b, s, &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-O2"},
					Preprocessed: text, SourceName: "x.c"}, protocol.MsgCompileResult)
				wall, cpu := time.Since(t0), processCPU(b)-c0
				if err != nil {
					b.Fatal(err)
				}
				if res := m.(*protocol.CompileResult); res.ExitCode != 0 || res.Cached {
					b.Fatalf("exit %d, cached %v: %s", res.ExitCode, res.Cached, res.Stderr)
				}
				if ts == on {
					cpu += slotsCPU(b, ts) - s0
				}
				return cpu, wall
			}
			n := 0
			for b.Loop() {
				n++
				text := fmt.Appendf(slices.Clone(unit.text), "int unit_%d_%d;\n", time.Now().UnixNano(), n)
				var c1, w1, c2, w2 time.Duration
				if n%2 == 0 {
					c1, w1 = job(son, on, text)
					c2, w2 = job(soff, off, text)
				} else {
					c2, w2 = job(soff, off, text)
					c1, w1 = job(son, on, text)
				}
				cpuOn, cpuOff = cpuOn+c1, cpuOff+c2
				wallOn, wallOff, wallDiff = append(wallOn, w1), append(wallOff, w2), append(wallDiff, w1-w2)
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(cpuOn/time.Duration(n)), "cpu-ms-sandbox")
			b.ReportMetric(ms(cpuOff/time.Duration(n)), "cpu-ms-off")
			b.ReportMetric(ms((cpuOn-cpuOff)/time.Duration(n)), "cpu-ms-extra")
			b.ReportMetric(ms(median(wallOn)), "wall-ms-sandbox")
			b.ReportMetric(ms(median(wallOff)), "wall-ms-off")
			b.ReportMetric(ms(median(wallDiff)), "wall-ms-extra")
		})
	}
}

// BenchmarkSandboxSlotStart measures what making a slot's sandbox costs,
// once per slot (and again for a slot thrown away): bubblewrap and the
// worker started, one job (true) run in it, the slot killed and reaped.
// Host CPU is this process's and its reaped children's.
func BenchmarkSandboxSlotStart(b *testing.B) {
	realCompiler(b, "gcc")
	ts := startServer(b, func(c *Config) { c.Jobs = 1 }, nil)
	pool := ts.srv.runner.boxes
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	var walls []time.Duration
	for b.Loop() {
		c0, t0 := processCPU(b), time.Now()
		s, err := pool.start()
		if err != nil {
			b.Fatal(err)
		}
		dir, err := newJobDir(pool.sb, s.jobs)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := s.run(b.Context(), &sandboxworker.Request{Argv: []string{truePath}, Dir: dir,
			Stdout: filepath.Join(dir, jobStdout), Stderr: filepath.Join(dir, jobStderr)})
		if err != nil || rep.Err != "" {
			b.Fatal(err, rep)
		}
		walls = append(walls, time.Since(t0))
		os.RemoveAll(dir)
		pool.discard(s)
		cpu += processCPU(b) - c0
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(cpu/time.Duration(len(walls))), "cpu-ms-per-slot")
	b.ReportMetric(ms(median(walls)), "wall-ms-to-first-job")
}
