package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dcc-build/dcc/scale"
)

// run measures a sweep and prints the table (and writes the JSON).
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "the reduced sweep: 1 and 50 hosts, 1 and 4 clients")
	hosts := fs.String("hosts", "1,10,50,200", "host counts, comma-separated")
	clients := fs.String("clients", "1,4,16", "client counts, comma-separated")
	kinds := fs.String("kinds", "dcc,distcc", "dcc, distcc or both")
	slots := fs.Int("slots", 4, "compile slots per host")
	units := fs.Int("units", 0, "units per client (0: the whole trace once)")
	traceFile := fs.String("trace", "scale/testdata/trace-libtomcrypt.tsv", "the recorded trace")
	timeScale := fs.Float64("time-scale", 1, "multiply every unit's duration by this")
	bin := fs.String("bin", "bin", "directory of dcc, dccd and dcc-server")
	jsonOut := fs.String("json", ".work/scale/report.json", "where to write the report as JSON (\"\": nowhere)")
	workParent := fs.String("work", ".work/scale", "parent of the work directory")
	keep := fs.Bool("keep", false, "keep the work directory (logs, trees) for a look")
	rowTimeout := fs.Duration("row-timeout", 15*time.Minute, "bound on one row's builds")
	nice := fs.Int("client-nice", 10, "niceness of the clients' processes (make, wrappers, daemons), so that their bursts do not starve the hosts that share this machine (0: the hosts' own)")
	clientCPU := fs.Float64("client-cpu", 0, "CPUs each client's processes may use, on CPU 0, with the hosts on the other CPUs (a cgroup; needs root): the rows then say what a client's own CPU allows (0: no limit)")
	daemonSession := fs.Bool("daemon-session", false, "start each client's daemon in a session of its own, as dcc does (its own autogroup, where the kernel has them)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *clientCPU < 0 || *clientCPU > 1 {
		return fmt.Errorf("-client-cpu %g: must be 0 (no limit) up to 1 (all of CPU 0)", *clientCPU)
	}
	if *quick {
		*hosts, *clients = "1,50", "1,4"
	}
	sw := &scale.Sweep{Kinds: strings.Split(*kinds, ","), Slots: *slots, TimeScale: *timeScale, RowTimeout: *rowTimeout, Progress: os.Stderr}
	var err error
	if sw.Hosts, err = ints("hosts", *hosts); err != nil {
		return err
	}
	if sw.Clients, err = ints("clients", *clients); err != nil {
		return err
	}
	if sw.Trace, err = scale.ReadTrace(*traceFile); err != nil {
		return err
	}
	sw.Units = *units
	if sw.Units <= 0 {
		sw.Units = len(sw.Trace.Units)
	}
	if *nice < 0 || *nice > 19 {
		return fmt.Errorf("-client-nice %d: must be 0 to 19", *nice)
	}
	env, err := scale.NewEnv(ctx, *workParent, *bin)
	if err != nil {
		return err
	}
	env.ClientNice, env.ClientCPU, env.DaemonSession = *nice, *clientCPU, *daemonSession
	if *keep {
		fmt.Fprintln(os.Stderr, "dcc-scale: work directory", env.Work)
	} else {
		defer env.Close()
	}
	rep, err := sw.Run(ctx, env)
	if rep == nil {
		return err
	}
	if werr := rep.WriteTable(os.Stdout); werr != nil {
		return werr
	}
	if *jsonOut != "" {
		if werr := writeJSON(rep, *jsonOut); werr != nil {
			return werr
		}
		fmt.Fprintln(os.Stderr, "dcc-scale: report in", *jsonOut)
	}
	return err
}

// writeJSON writes the report to path, making its directory.
func writeJSON(rep *scale.Report, path string) error {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		if err := os.MkdirAll(path[:i], 0o755); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ints parses a comma-separated list of positive integers.
func ints(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-%s: %q is not a positive number", name, f)
		}
		out = append(out, n)
	}
	return out, nil
}
