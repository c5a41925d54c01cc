package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/remote"
)

// numCPU is the number of local CPUs dcc jobs counts (tests replace it).
var numCPU = runtime.NumCPU

// parseFlags parses a subcommand's flags, turning errors into usage errors
// and refusing arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// errNoHosts says how to configure hosts.
func errNoHosts(cfg *config.Config) error {
	return fmt.Errorf("no hosts configured: add [[hosts]] tables (connect, token, njob) to %s, or set DCC_HOSTS=\"ADDR/NJOB ...\" and DCC_TOKEN", cfg.FilePath())
}

// connectCommand is "dcc connect".
func connectCommand() command {
	return command{
		name: "connect", summary: "Check every compile host and turn remote compiling on",
		details: `Connects to every configured host now ([[hosts]] in the config file, or
DCC_HOSTS), and prints for each whether it is reachable, whether it accepted
the token, the compilers it offers and its njob. When at least one host is
usable, sets remote = true in the config file; when none is, says why and
exits with status 1, leaving the setting alone.`,
		run: func(e env, args []string) error {
			if err := parseFlags(flag.NewFlagSet("connect", flag.ContinueOnError), args); err != nil {
				return err
			}
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			if len(cfg.Hosts) == 0 {
				return errNoHosts(cfg)
			}
			reports := checkHosts(e.ctx, cfg)
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tREACHABLE\tAUTH\tTOOLCHAINS\tNJOB")
			usable := 0
			for _, r := range reports {
				if r.Reachable && r.Authenticated {
					usable++
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", r.Host, reachableText(r), authText(r), toolchainsText(r.Toolchains), r.Jobs)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if usable == 0 {
				return fmt.Errorf("no usable host among %d: remote compiling not turned on", len(reports))
			}
			if err := config.Set(cfg.Dir, "remote", "true"); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "remote compiling on: %d of %d hosts usable; build with make -j%d\n",
				usable, len(reports), remote.JobsOf(numCPU(), reports))
			noteOverride(e, "remote", "true")
			noteDaemon(e)
			return nil
		},
	}
}

// disconnectCommand is "dcc disconnect".
func disconnectCommand() command {
	return command{
		name: "disconnect", summary: "Turn remote compiling off (the hosts stay configured)",
		details: `Sets remote = false in the config file: every compile runs on this machine
again. The hosts stay in the configuration; dcc connect turns remote
compiling back on.`,
		run: func(e env, args []string) error {
			if err := parseFlags(flag.NewFlagSet("disconnect", flag.ContinueOnError), args); err != nil {
				return err
			}
			dir, err := config.Dir(os.LookupEnv)
			if err != nil {
				return err
			}
			if err := config.Set(dir, "remote", "false"); err != nil {
				return err
			}
			cfg, err := config.LoadFrom(dir, os.LookupEnv)
			if err != nil {
				return fmt.Errorf("remote is set to false, but the configuration does not load: %w", err)
			}
			fmt.Fprintf(e.stdout, "remote compiling off; %d hosts stay configured (dcc connect turns it back on)\n", len(cfg.Hosts))
			noteOverride(e, "remote", "false")
			noteDaemon(e)
			return nil
		},
	}
}

// noteOverride warns when the environment overrides what was just written.
func noteOverride(e env, key, want string) {
	cfg, err := config.Load()
	if err != nil {
		return
	}
	if s, err := cfg.Get(key); err == nil && s.Value != want {
		fmt.Fprintf(e.stderr, "dcc: note: %s is %s from %s, which overrides the file\n", key, s.Value, s.Source)
	}
}

// noteDaemon stops a running daemon, which reads the configuration when it
// starts: the next compile starts one with the new setting (its cache and
// counters are on disk and stay).
func noteDaemon(e env) {
	c := dialDaemon(e.ctx)
	if c == nil {
		return
	}
	pid := c.Server().PID
	err := c.Stop(e.ctx)
	c.Close()
	if err != nil {
		fmt.Fprintf(e.stderr, "dcc: note: the running daemon (pid %d) keeps its old settings: stopping it failed: %v; run dcc daemon stop\n", pid, err)
		return
	}
	fmt.Fprintf(e.stderr, "dcc: stopped the daemon (pid %d); the next compile starts one with this setting\n", pid)
}

// jobsCommand is "dcc jobs".
func jobsCommand() command {
	return command{
		name: "jobs", summary: "Print the -j to build with: local CPUs and usable hosts",
		details: `Prints ceil(ncpu*3/2) plus the njob of every compile host that may take
jobs, for make -j$(dcc jobs): hosts that are up, not tried yet, or whose last
contact only timed out (busy a moment); not those that refused the token or
are known down. With remote compiling off or no
hosts, only the local part. The hosts' state comes from the running daemon,
else dcc checks them itself (up to connect_timeout). A configuration that does
not load is reported, and the local part is printed all the same.`,
		run: func(e env, args []string) error {
			if err := parseFlags(flag.NewFlagSet("jobs", flag.ContinueOnError), args); err != nil {
				return err
			}
			cfg, err := config.Load()
			if err != nil {
				fmt.Fprintln(e.stdout, remote.Jobs(numCPU(), nil))
				return err
			}
			n := remote.Jobs(numCPU(), nil)
			if cfg.Remote && len(cfg.Hosts) > 0 {
				reports, _ := hostReports(e.ctx, cfg, false)
				n = remote.JobsOf(numCPU(), reports)
			}
			_, err = fmt.Fprintln(e.stdout, n)
			return err
		},
	}
}

// hostsCommand is "dcc hosts [--json] [--check]".
func hostsCommand() command {
	return command{
		name: "hosts", usage: "[--json] [--check]",
		summary: "Show each compile host: reachable, authenticated, toolchains, load, backoff",
		details: `For each configured host: whether it is reachable, whether it accepted the
token (or why not: "token refused", "connection refused", ...), the compilers
it offers, its slots and load, this client's jobs in flight there, and how long
it is still backed off after a failure. With remote compiling on and a daemon
running, this is the daemon's view (hosts it has not tried yet are checked);
otherwise dcc checks every host itself. --check makes the daemon contact every
host now. --json prints one JSON object.`,
		run: func(e env, args []string) error {
			fs := flag.NewFlagSet("hosts", flag.ContinueOnError)
			asJSON := fs.Bool("json", false, "print JSON")
			check := fs.Bool("check", false, "contact every host now")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			reports, pid := hostReports(e.ctx, cfg, *check)
			if *asJSON {
				return writeHostsJSON(e.stdout, cfg, pid, reports)
			}
			if len(reports) == 0 {
				return errNoHosts(cfg)
			}
			return writeHostsText(e.stdout, cfg, pid, reports)
		},
	}
}

// hostReports returns the hosts' state and the pid of the daemon it comes
// from: from the running daemon when remote compiling is on and the daemon
// does it (check forces it to contact every host; hosts it never tried are
// checked anyway), else (pid 0) from checking every host from here.
func hostReports(ctx context.Context, cfg *config.Config, check bool) ([]daemon.HostReport, int) {
	if len(cfg.Hosts) == 0 {
		return nil, 0
	}
	if cfg.Remote {
		if c := dialDaemon(ctx); c != nil {
			defer c.Close()
			reports, err := c.Hosts(ctx, check)
			if err == nil && !check && slices.ContainsFunc(reports, func(r daemon.HostReport) bool { return !r.Contacted }) {
				reports, err = c.Hosts(ctx, true)
			}
			if err == nil {
				return reports, c.Server().PID
			}
		}
	}
	return checkHosts(ctx, cfg), 0
}

// checkHosts contacts every host from this process.
func checkHosts(ctx context.Context, cfg *config.Config) []daemon.HostReport {
	p := remote.NewPool(cfg.Hosts, remote.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer p.Close()
	reports, _ := p.Hosts(ctx, true)
	return reports
}

// dialDaemon connects to the running daemon of this build without starting
// one; nil when none answers.
func dialDaemon(ctx context.Context) *daemon.Client {
	cfg, build, err := daemonPlace()
	if err != nil {
		return nil
	}
	c, err := daemon.Dial(ctx, cfg.SocketPath(), build)
	if err != nil {
		return nil
	}
	return c
}

// reachableText is the REACHABLE column.
func reachableText(r daemon.HostReport) string {
	switch {
	case !r.Contacted:
		return "not tried yet"
	case r.Reachable:
		return "yes"
	case r.Error != "":
		return "no: " + r.Error
	}
	return "no"
}

// sandboxText ends the line of a host that runs jobs without a sandbox.
func sandboxText(r daemon.HostReport) string {
	if r.Reachable && r.Authenticated && !r.Sandboxed {
		return "\tno sandbox"
	}
	return ""
}

// authText is the AUTH column.
func authText(r daemon.HostReport) string {
	switch {
	case !r.Contacted || !r.Reachable:
		return "-"
	case r.Authenticated:
		return "yes"
	case r.Error != "":
		return "no: " + r.Error
	}
	return "no"
}

// wireText is the WIRE column: how the configuration reaches the host.
func wireText(cfg *config.Config, addr string) string {
	for _, h := range cfg.Hosts {
		if h.Connect != addr {
			continue
		}
		switch {
		case h.Plaintext:
			return "plain TCP (not encrypted)"
		case h.Fingerprint == "":
			return "TLS, no fingerprint pinned"
		}
		return "TLS, pinned"
	}
	return "-"
}

// toolchainsText summarises toolchains: "gcc 12.2.0, g++ 12.2.0 (x86_64-linux-gnu)".
func toolchainsText(ts []daemon.HostToolchain) string {
	if len(ts) == 0 {
		return "-"
	}
	var names, targets []string
	for _, t := range ts {
		n := strings.TrimSpace(t.Driver + " " + t.Version)
		if t.Shipped {
			n += " [shipped]"
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
		if t.Target != "" && !slices.Contains(targets, t.Target) {
			targets = append(targets, t.Target)
		}
	}
	s := strings.Join(names, ", ")
	if len(targets) > 0 {
		s += " (" + strings.Join(targets, ", ") + ")"
	}
	return s
}

// writeHostsText prints the hosts as a table, after a line saying whether
// remote compiling is on and whose view this is (the daemon with pid, or
// this process's check when pid is 0).
func writeHostsText(w io.Writer, cfg *config.Config, pid int, reports []daemon.HostReport) error {
	state := "off (dcc connect turns it on)"
	if cfg.Remote {
		state = "on"
	}
	source := "hosts checked from here"
	if pid > 0 {
		source = fmt.Sprintf("hosts as the daemon (pid %d) sees them", pid)
	}
	fmt.Fprintf(w, "remote compiling %s; %s\n", state, source)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tREACHABLE\tAUTH\tNJOB\tSLOTS\tRUNNING\tQUEUED\tIN FLIGHT\tBACKOFF\tJOBS SENT/OK/FAILED\tTOOLCHAINS\tWIRE")
	for _, r := range reports {
		backoff := "-"
		if r.Backoff > 0 {
			backoff = r.Backoff.Round(100 * time.Millisecond).String()
		}
		load := []string{"-", "-", "-"}
		if r.Reachable && r.Authenticated {
			load = []string{strconv.Itoa(r.Slots), strconv.Itoa(r.Running), strconv.Itoa(r.Queued)}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%d/%d/%d\t%s\t%s%s\n", r.Host, reachableText(r), authText(r), r.Jobs,
			load[0], load[1], load[2], r.InFlight, backoff, r.Sent, r.OK, r.Failed, toolchainsText(r.Toolchains), wireText(cfg, r.Host), sandboxText(r))
	}
	return tw.Flush()
}

// hostJSON is one host in "dcc hosts --json".
type hostJSON struct {
	Host           string          `json:"host"`
	Njob           int             `json:"njob"`
	Contacted      bool            `json:"contacted"`
	Reachable      bool            `json:"reachable"`
	Authenticated  bool            `json:"authenticated"`
	Sandboxed      bool            `json:"sandboxed"`
	Error          string          `json:"error,omitempty"`
	Server         string          `json:"server,omitempty"`
	Toolchains     []toolchainJSON `json:"toolchains"`
	Slots          int             `json:"slots"`
	Running        int             `json:"running"`
	Queued         int             `json:"queued"`
	InFlight       int             `json:"in_flight"`
	BackoffSeconds float64         `json:"backoff_seconds"`
	Sent           int64           `json:"sent"`
	OK             int64           `json:"ok"`
	Failed         int64           `json:"failed"`
	Wire           string          `json:"wire"`
	// TakesShipped: the host takes shipped toolchains; Shipped and
	// ShippedBytes count those this client shipped it.
	TakesShipped bool  `json:"takes_shipped"`
	Shipped      int64 `json:"shipped"`
	ShippedBytes int64 `json:"shipped_bytes"`
}

// toolchainJSON is one toolchain in "dcc hosts --json".
type toolchainJSON struct {
	Key     string `json:"key"`
	Family  string `json:"family"`
	Driver  string `json:"driver"`
	Version string `json:"version"`
	Target  string `json:"target"`
	// Shipped: a client shipped it; false for a compiler installed on the host.
	Shipped bool `json:"shipped"`
}

// hostsJSON is "dcc hosts --json".
type hostsJSON struct {
	// Remote says whether remote compiling is on.
	Remote bool `json:"remote"`
	// DaemonPID is the pid of the daemon whose view this is; 0 when dcc
	// checked the hosts itself.
	DaemonPID int `json:"daemon_pid"`
	// Jobs is what dcc jobs prints with these hosts.
	Jobs  int        `json:"jobs"`
	Hosts []hostJSON `json:"hosts"`
}

// writeHostsJSON prints the hosts as one JSON object.
func writeHostsJSON(w io.Writer, cfg *config.Config, pid int, reports []daemon.HostReport) error {
	out := hostsJSON{Remote: cfg.Remote, DaemonPID: pid, Jobs: remote.JobsOf(numCPU(), reports), Hosts: []hostJSON{}}
	for _, r := range reports {
		h := hostJSON{Host: r.Host, Njob: r.Jobs, Contacted: r.Contacted, Reachable: r.Reachable,
			Authenticated: r.Authenticated, Sandboxed: r.Sandboxed, Error: r.Error, Server: r.Server, Toolchains: []toolchainJSON{},
			Slots: r.Slots, Running: r.Running, Queued: r.Queued, InFlight: r.InFlight,
			BackoffSeconds: r.Backoff.Seconds(), Sent: r.Sent, OK: r.OK, Failed: r.Failed, Wire: wireText(cfg, r.Host),
			TakesShipped: r.Ships, Shipped: r.Shipped, ShippedBytes: r.ShipBytes}
		for _, t := range r.Toolchains {
			h.Toolchains = append(h.Toolchains, toolchainJSON(t))
		}
		out.Hosts = append(out.Hosts, h)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// cleanCommand is "dcc clean --remote".
func cleanCommand() command {
	return command{
		name: "clean", usage: "--remote",
		summary: "Remove this project's entries from every compile host's caches",
		details: `--remote cleans this project's namespace on every configured host: the shared
cache entries and compile results stored for it. The project is $DCC_PROJECT when
set, else the base name of the nearest directory above the working directory
holding .git (else of the working directory itself); the name holds no path,
so every checkout of one project shares it. Prints what each
host removed; exits with status 1 if a host could not be cleaned. The local
cache is emptied by dcc clear.`,
		run: func(e env, args []string) error {
			fs := flag.NewFlagSet("clean", flag.ContinueOnError)
			rem := fs.Bool("remote", false, "clean this project on every host")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if !*rem {
				return fmt.Errorf("%w: clean needs --remote (dcc clear empties the local cache)", errUsage)
			}
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			if len(cfg.Hosts) == 0 {
				return errNoHosts(cfg)
			}
			wd, err := os.Getwd()
			if err != nil {
				return fmt.Errorf("find the working directory: %w", err)
			}
			project := remote.ProjectOf(wd)
			reports := cleanRemote(e.ctx, cfg, project)
			fmt.Fprintf(e.stdout, "project %s\n", project)
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			failed := 0
			for _, r := range reports {
				if r.Error != "" {
					failed++
					fmt.Fprintf(tw, "%s\tfailed: %s\n", r.Host, r.Error)
					continue
				}
				fmt.Fprintf(tw, "%s\tremoved %d entries\n", r.Host, r.Removed)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d hosts could not be cleaned", failed, len(reports))
			}
			return nil
		},
	}
}

// cleanRemote cleans project on every host: through the running daemon when
// remote compiling is on and the daemon does it, else from here.
func cleanRemote(ctx context.Context, cfg *config.Config, project string) []daemon.CleanReport {
	if cfg.Remote {
		if c := dialDaemon(ctx); c != nil {
			defer c.Close()
			if reports, err := c.CleanRemote(ctx, project); err == nil {
				return reports
			}
		}
	}
	p := remote.NewPool(cfg.Hosts, remote.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer p.Close()
	reports, _ := p.CleanRemote(ctx, project)
	return reports
}
