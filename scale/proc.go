package scale

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procTimes returns a process's CPU time, its own and that of the children
// it waited for, from /proc/PID/stat (10 ms ticks).
func procTimes(pid int) (own, children time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("cpu of %d: %w", pid, err)
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(fields) < 15 {
		return 0, 0, fmt.Errorf("cpu of %d: short /proc/%d/stat", pid, pid)
	}
	tick := func(i int) time.Duration {
		n, _ := strconv.ParseInt(fields[i], 10, 64)
		return time.Duration(n) * clockTick
	}
	return tick(11) + tick(12), tick(13) + tick(14), nil
}

// procCPU is procTimes' sum, 0 when the process is gone.
func procCPU(pid int) time.Duration {
	own, children, err := procTimes(pid)
	if err != nil {
		return 0
	}
	return own + children
}

// procMem returns a process's resident set and its peak, in bytes, from
// /proc/PID/status; zero when it is gone.
func procMem(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return rss, peak
}

// procFDs counts a process's open file descriptors (0 when it is gone).
func procFDs(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(entries)
}

// cpuTimes are the machine's CPU times from /proc/stat, every CPU summed.
type cpuTimes struct {
	// busy is the time the CPUs ran something (all but idle, iowait and
	// steal; guest is in user already), steal the time the hypervisor
	// gave them to another machine.
	busy, steal time.Duration
}

// sub returns t less an earlier reading.
func (t cpuTimes) sub(earlier cpuTimes) cpuTimes {
	return cpuTimes{busy: t.busy - earlier.busy, steal: t.steal - earlier.steal}
}

// machineCPU reads the machine's CPU times (zero when /proc/stat does not
// read).
func machineCPU() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseCPULine(line)
}

// parseCPULine reads /proc/stat's first line: "cpu", then user, nice,
// system, idle, iowait, irq, softirq, steal, guest, guest_nice in clock
// ticks.
func parseCPULine(line string) cpuTimes {
	var t cpuTimes
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "cpu" {
		return t
	}
	for i, f := range fields[1:] {
		n, _ := strconv.ParseInt(f, 10, 64)
		switch {
		case i == 7: // steal
			t.steal = time.Duration(n) * clockTick
		case i != 3 && i != 4 && i < 7: // not idle, iowait
			t.busy += time.Duration(n) * clockTick
		}
	}
	return t
}

// process is a program the simulator started and stops by its pid.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// startProcess starts argv with env (the whole environment) in dir, its
// output to logPath, in a process group of its own.
func startProcess(argv, env []string, dir, logPath string) (*process, error) {
	return startWith(argv, env, dir, logPath, &syscall.SysProcAttr{Setpgid: true})
}

// startSession is startProcess in a session of its own (and so its own
// process group, and its own autogroup where the kernel has them), as dcc
// starts its daemon.
func startSession(argv, env []string, dir, logPath string) (*process, error) {
	return startWith(argv, env, dir, logPath, &syscall.SysProcAttr{Setsid: true})
}

// startWith starts argv as startProcess says, with attr.
func startWith(argv, env []string, dir, logPath string, attr *syscall.SysProcAttr) (*process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, log, log
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: log}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// pid is the process's id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process, then SIGKILL to its group after
// grace; it returns once the process was waited for.
func (p *process) stop(grace time.Duration) {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			<-p.done
		}
	}
	p.log.Close()
}

// waitTCP waits until addr accepts connections, or ctx ends.
func waitTCP(ctx context.Context, addr string, p *process) error {
	for {
		var d netDialer
		if c, err := d.dial(ctx, addr); err == nil {
			// A dial to a port nothing listens on can connect the socket
			// to itself, when the kernel picks that port as the source.
			self := c.LocalAddr().String() == c.RemoteAddr().String()
			c.Close()
			if !self {
				return nil
			}
		}
		if p != nil && p.exited() {
			out, _ := os.ReadFile(p.log.Name())
			return fmt.Errorf("%s exited before listening on %s: %s", p.cmd.Args[0], addr, lastLines(string(out), 5))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// groupsCPU sums the CPU time, own and of waited-for children, of every
// process in one of the process groups pgids (each host runs in a group of
// its own: a distccd's preforked children, a dcc-server's compiles).
func groupsCPU(pgids map[int]bool) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		if len(fields) < 15 {
			continue
		}
		if pgrp, _ := strconv.Atoi(fields[2]); !pgids[pgrp] {
			continue
		}
		for _, i := range []int{11, 12, 13, 14} {
			n, _ := strconv.ParseInt(fields[i], 10, 64)
			total += time.Duration(n) * clockTick
		}
	}
	return total
}
