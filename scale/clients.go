package scale

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// client is one simulated developer machine: a project tree, and for dcc a
// daemon of its own (started by the simulator, in the foreground).
type client struct {
	kind string
	dir  string
	env  []string
	jobs int
	// daemon is dcc's daemon; nil for distcc.
	daemon *process
	// limit caps the CPU of the client's daemon and make (nil: none).
	limit *cpuLimit
	// before are dcc's counters after the warm-up unit.
	before map[string]int64

	start, end time.Time
	makeCPU    time.Duration
	daemonCPU0 time.Duration
	daemonCPU  time.Duration
	daemonPeak int64
	daemonFDs  int
	stats      map[string]int64
	err        error
}

// newClient sets up client k of a row: its tree, its environment and, for
// dcc, its daemon (started, one warm-up unit compiled so that it has
// identified the compiler and met its hosts) and make's -j.
func newClient(ctx context.Context, env *Env, f *farm, row string, k int, units []Unit) (_ *client, err error) {
	c := &client{kind: f.kind, dir: filepath.Join(env.Work, "clients", fmt.Sprintf("%s-%d", row, k))}
	defer func() {
		if err != nil && c.limit != nil {
			if c.daemon != nil {
				c.daemon.stop(10 * time.Second) // before its cgroup goes
			}
			c.closeLimit()
		}
	}()
	tag := fmt.Sprintf("%s_%d_%d", strings.NewReplacer("-", "_", ".", "_").Replace(row), k, time.Now().UnixNano())
	if err := writeProject(filepath.Join(c.dir, "src"), tag, units); err != nil {
		return nil, err
	}
	if env.ClientCPU > 0 {
		if c.limit, err = newCPULimit(fmt.Sprintf("dcc-scale-%d-%s-%d", os.Getpid(), row, k), env.ClientCPU); err != nil {
			return nil, err
		}
	}
	base := []string{"HOME=" + c.dir, "LC_ALL=C", "TMPDIR=" + os.TempDir()}
	switch f.kind {
	case "dcc":
		c.env = append(base, "PATH="+env.Masq+":"+filepath.Dir(env.StandIn)+":/usr/bin:/bin",
			"DCC_DIR="+filepath.Join(c.dir, "dcc"), "DCC_HOSTS="+f.entries(), "DCC_TOKEN="+Token,
			"DCC_BYPASS_DRIVER=0", "DCC_LOCAL_THRESHOLD=0", "DCC_SHIP_TOOLCHAINS=0",
			"DCC_IDLE_TIMEOUT=2h", "DCC_PROJECT=scale-"+tag)
		return c, c.startDaemon(ctx, env, tag)
	default:
		distccDir := filepath.Join(c.dir, "distcc")
		if err := os.MkdirAll(distccDir, 0o755); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		c.env = append(base, "PATH="+filepath.Dir(env.StandIn)+":/usr/bin:/bin", "DISTCC_HOSTS="+f.entries(),
			"DISTCC_DIR="+distccDir)
		out, err := c.output(ctx, env.Distcc, "-j")
		if err != nil {
			return nil, err
		}
		if c.jobs, err = strconv.Atoi(strings.TrimSpace(out)); err != nil {
			return nil, fmt.Errorf("distcc -j printed %q", out)
		}
		return c, nil
	}
}

// startDaemon starts the client's daemon, compiles a warm-up unit through it
// and reads "dcc jobs" and the counters.
func (c *client) startDaemon(ctx context.Context, env *Env, tag string) error {
	if err := os.MkdirAll(filepath.Join(c.dir, "dcc"), 0o700); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	var err error
	start := startProcess
	if env.DaemonSession {
		start = startSession
	}
	c.daemon, err = start(env.clientArgv(c.limit, leafDaemon, []string{env.DCC, "daemon", "run"}), c.env, c.dir, filepath.Join(c.dir, "daemon.log"))
	if err != nil {
		return err
	}
	// The warm-up unit must find this daemon, not start one of its own.
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := c.output(ctx, env.DCC, "daemon", "status"); err == nil {
			break
		}
		if c.daemon.exited() || time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(c.dir, "daemon.log"))
			return fmt.Errorf("client daemon in %s did not start: %s", c.dir, lastLines(string(out), 5))
		}
		time.Sleep(50 * time.Millisecond)
	}
	warm := filepath.Join(c.dir, "warm.c")
	if err := os.WriteFile(warm, fmt.Appendf(nil, "int dcc_scale_ms = 0;\nint dcc_scale_warm_%s;\n", tag), 0o644); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if _, err := c.output(ctx, filepath.Join(env.Masq, "gcc"), "-O2", "-c", warm, "-o", warm+".o"); err != nil {
		return fmt.Errorf("warm-up unit: %w", err)
	}
	out, err := c.output(ctx, env.DCC, "jobs")
	if err != nil {
		return err
	}
	if c.jobs, err = strconv.Atoi(strings.TrimSpace(out)); err != nil {
		return fmt.Errorf("dcc jobs printed %q", out)
	}
	c.before, err = c.dccStats(ctx, env)
	return err
}

// output runs argv in the client's environment and returns its stdout.
func (c *client) output(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = c.env, c.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", filepath.Base(argv[0]), strings.Join(argv[1:], " "), err, lastLines(stderr.String(), 5))
	}
	return string(out), nil
}

// dccStats returns the numeric counters of "dcc stats --json".
func (c *client) dccStats(ctx context.Context, env *Env) (map[string]int64, error) {
	out, err := c.output(ctx, env.DCC, "stats", "--json")
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("dcc stats --json printed %q: %w", out, err)
	}
	counters := map[string]int64{}
	for k, v := range raw {
		if n, ok := v.(json.Number); ok {
			counters[k], _ = n.Int64()
		}
	}
	return counters, nil
}

// build runs make -jJ in the client's tree and records when it started and
// ended and the CPU it and its children (wrappers, distcc, local compiles)
// used; for dcc, also the daemon's CPU meanwhile.
func (c *client) build(ctx context.Context, env *Env) {
	args := []string{"make", "-s", "-j" + strconv.Itoa(c.jobs)}
	if c.kind == "distcc" {
		args = append(args, "CC=distcc gcc")
	}
	args = env.clientArgv(c.limit, leafBuild, args)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env, cmd.Dir = c.env, filepath.Join(c.dir, "src")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if c.daemon != nil {
		c.daemonCPU0 = procCPU(c.daemon.pid())
	}
	c.start = time.Now()
	err := cmd.Run()
	c.end = time.Now()
	if c.daemon != nil {
		c.daemonCPU = procCPU(c.daemon.pid()) - c.daemonCPU0
		_, c.daemonPeak = procMem(c.daemon.pid())
	}
	if cmd.ProcessState != nil {
		c.makeCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		c.err = fmt.Errorf("make in %s: %v: %s", cmd.Dir, err, lastLines(out.String(), 5))
	}
}

// finish reads the client's counters, stops its daemon and removes its
// CPU limit.
func (c *client) finish(ctx context.Context, env *Env) {
	defer c.closeLimit()
	if c.daemon == nil {
		return
	}
	after, err := c.dccStats(ctx, env)
	if err == nil {
		c.stats = map[string]int64{}
		for k, v := range after {
			c.stats[k] = v - c.before[k]
		}
	} else if c.err == nil {
		c.err = err
	}
	c.daemon.stop(10 * time.Second)
}

// closeLimit removes the client's CPU limit, if it has one.
func (c *client) closeLimit() {
	if c.limit == nil {
		return
	}
	if err := c.limit.close(); err != nil && c.err == nil {
		c.err = err
	}
	c.limit = nil
}

// makespan is how long the client's build took.
func (c *client) makespan() time.Duration { return c.end.Sub(c.start) }
