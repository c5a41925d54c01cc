package server

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
)

// childrenCPU is the CPU time of the process's reaped children: a job's
// compiler, and with the sandbox bubblewrap and prlimit too.
func childrenCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// median of d, which it sorts.
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkSandboxCost measures what the sandbox costs a job: two servers,
// one with the sandbox and one with sandbox = "off", compile the same fresh
// unit in turn (the order swapped every pair), real gcc through a real
// session; each job's host CPU (the children the server reaped: compiler,
// bubblewrap, prlimit) and wall time are taken, and the medians reported,
// with the median of the pairs' differences. "tiny" is a one-line unit,
// "stdio" a small unit including stdio.h.
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
			var cpuOn, cpuOff, wallOn, wallOff, cpuDiff, wallDiff []time.Duration
			job := func(s *protocol.ClientSession, text []byte) (time.Duration, time.Duration) {
				c0, t0 := childrenCPU(b), time.Now()
				m, err := call(b, s, &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-O2"},
					Preprocessed: text, SourceName: "x.c"}, protocol.MsgCompileResult)
				wall, cpu := time.Since(t0), childrenCPU(b)-c0
				if err != nil {
					b.Fatal(err)
				}
				if res := m.(*protocol.CompileResult); res.ExitCode != 0 || res.Cached {
					b.Fatalf("exit %d, cached %v: %s", res.ExitCode, res.Cached, res.Stderr)
				}
				return cpu, wall
			}
			n := 0
			for b.Loop() {
				n++
				text := fmt.Appendf(slices.Clone(unit.text), "int unit_%d_%d;\n", time.Now().UnixNano(), n)
				var c1, w1, c2, w2 time.Duration
				if n%2 == 0 {
					c1, w1 = job(son, text)
					c2, w2 = job(soff, text)
				} else {
					c2, w2 = job(soff, text)
					c1, w1 = job(son, text)
				}
				cpuOn, cpuOff, wallOn, wallOff = append(cpuOn, c1), append(cpuOff, c2), append(wallOn, w1), append(wallOff, w2)
				cpuDiff, wallDiff = append(cpuDiff, c1-c2), append(wallDiff, w1-w2)
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(median(cpuOn)), "cpu-ms-sandbox")
			b.ReportMetric(ms(median(cpuOff)), "cpu-ms-off")
			b.ReportMetric(ms(median(cpuDiff)), "cpu-ms-extra")
			b.ReportMetric(ms(median(wallOn)), "wall-ms-sandbox")
			b.ReportMetric(ms(median(wallOff)), "wall-ms-off")
			b.ReportMetric(ms(median(wallDiff)), "wall-ms-extra")
		})
	}
}
