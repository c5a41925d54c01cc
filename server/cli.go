//go:build unix

package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
)

// Exit codes of Main.
const (
	// ExitOK: done (or, for --status, running).
	ExitOK = 0
	// ExitError: something failed; the message says what.
	ExitError = 1
	// ExitUsage: a bad command line.
	ExitUsage = 2
	// ExitNotRunning: --status found no running server.
	ExitNotRunning = 3
)

// cliFlags is dcc-server's command line.
type cliFlags struct {
	listen, http, token, workdir string
	config                       string
	jobs                         int
	verbose, debug               bool
	start, stop, restart, status bool
	reload                       bool
	fingerprint                  bool
	initConfig                   string
}

// usage is printed by -h and after a bad command line.
const usage = `usage: dcc-server [--listen ADDR:PORT] [--http ADDR:PORT] [--jobs N] [--token T] [--workdir DIR] [--config FILE] [-v] [-D]
                  [--start | --stop | --restart | --status | --reload | --fingerprint]
       dcc-server --init-config FILE

Runs a dcc compile host in the foreground, or controls it as a daemon.
The configuration is $DCC_DIR/server.conf (DCC_DIR defaults to ~/.dcc); the first
run writes it with a new token and a TLS key, and prints how clients use it (the
token and the key's fingerprint, which clients pin). Flags override it.
--init-config writes FILE and the TLS key beside it, unless they exist, and exits.
`

// newFlagSet defines dcc-server's flags into f. Main parses with it, and
// Reference documents them from it.
func newFlagSet(f *cliFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("dcc-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.listen, "listen", "", "TCP address to listen on, `ADDR:PORT` (default "+DefaultListen+")")
	fs.StringVar(&f.http, "http", "", "serve the status page, /status.json and /metrics over plain HTTP on `ADDR:PORT` (default: none)")
	fs.IntVar(&f.jobs, "jobs", 0, "`N` compiles run at once (default: the number of CPUs)")
	fs.StringVar(&f.token, "token", "", "accept this `TOKEN` too, for this run")
	fs.StringVar(&f.workdir, "workdir", "", "`DIR` holds the per-job directories")
	fs.StringVar(&f.config, "config", "", "config `FILE` (default $DCC_DIR/server.conf)")
	fs.BoolVar(&f.verbose, "v", false, "verbose: log connections and refusals (info level)")
	fs.BoolVar(&f.debug, "D", false, "debug: log every request (debug level)")
	fs.BoolVar(&f.start, "start", false, "start the server in the background")
	fs.BoolVar(&f.stop, "stop", false, "stop the background server")
	fs.BoolVar(&f.restart, "restart", false, "restart the background server")
	fs.BoolVar(&f.reload, "reload", false, "make the background server read its config file again (tokens and allow change at once; other keys at restart); exit status 3 when it does not run")
	fs.BoolVar(&f.status, "status", false, "tell whether the background server runs (exit status 3 when not)")
	fs.BoolVar(&f.fingerprint, "fingerprint", false, "print the fingerprint of this host's TLS key, which clients pin")
	fs.StringVar(&f.initConfig, "init-config", "", "write the config `FILE` as a first run would (defaults from $DCC_DIR, the TLS key beside it) and the key, each unless it exists; print the key's fingerprint, not the token; then exit")
	return fs
}

// Main runs dcc-server with the command-line arguments args (without the
// program name) and returns the exit code. The daemon controls print their
// result to stdout; errors go to stderr as one line.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f cliFlags
	fs := newFlagSet(&f, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "dcc-server: %v\n", err)
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["jobs"] {
		if err := checkJobs(int64(f.jobs)); err != nil {
			return fail(ExitUsage, fmt.Errorf("--jobs %d: %w", f.jobs, err))
		}
	}
	if fs.NArg() > 0 {
		return fail(ExitUsage, fmt.Errorf("unexpected argument %q (see dcc-server -h)", fs.Arg(0)))
	}
	controls := 0
	for _, b := range []bool{f.start, f.stop, f.restart, f.reload, f.status, f.fingerprint} {
		if b {
			controls++
		}
	}
	if controls > 1 {
		return fail(ExitUsage, errors.New("use one of --start, --stop, --restart, --status, --reload, --fingerprint"))
	}
	if set["init-config"] {
		if controls > 0 || len(set) > 1 {
			return fail(ExitUsage, errors.New("--init-config takes no other flag: it writes the defaults (edit the file after)"))
		}
		return initConfigCommand(f.initConfig, stdout, fail)
	}
	if IsDaemonChild() {
		if f.token == "" {
			f.token = os.Getenv(DaemonTokenEnv)
		}
		_ = os.Unsetenv(DaemonTokenEnv)
	}
	cfg, created, err := loadCLIConfig(f)
	if err != nil {
		return fail(ExitError, err)
	}
	generated := ""
	if created && len(cfg.Tokens) > 0 {
		generated = cfg.Tokens[0]
	}
	if err := cfg.Apply(Overrides{Listen: f.listen, HTTP: f.http, Jobs: f.jobs, Token: f.token, Workdir: f.workdir}); err != nil {
		return fail(ExitUsage, err)
	}
	fingerprint := ""
	if !cfg.Plaintext && (created || !f.stop && !f.status && !f.reload) {
		key, err := LoadHostKey(cfg.TLSFile, hostName())
		if err != nil {
			return fail(ExitError, err)
		}
		fingerprint = key.Fingerprint
		if key.Created && !created && !f.fingerprint {
			fmt.Fprintf(stdout, "dcc-server: made a TLS key in %s: clients pin its fingerprint %s\n", cfg.TLSFile, fingerprint)
		}
	}
	if created {
		// After the flags: the client lines name the address and jobs
		// this run serves.
		cfg.PrintFirstRun(stdout, generated, fingerprint)
	}
	switch {
	case f.fingerprint:
		if cfg.Plaintext {
			return fail(ExitError, fmt.Errorf("%s has tls = \"off\": clients reach this host in plain TCP (plaintext = true), with no fingerprint", cfg.File))
		}
		fmt.Fprintln(stdout, fingerprint)
		return ExitOK
	case f.status:
		st, err := Status(cfg.Pidfile)
		if err != nil {
			return fail(ExitError, err)
		}
		if !st.Running {
			fmt.Fprintln(stdout, notRunning(st))
			return ExitNotRunning
		}
		fmt.Fprintf(stdout, "dcc-server is running: pid %d, listening on %s\n", st.Pid, st.Addr)
		return ExitOK
	case f.stop:
		return stopCommand(ctx, cfg, stdout, fail)
	case f.reload:
		return reloadCommand(cfg, stdout, fail)
	case f.restart:
		if code := stopCommand(ctx, cfg, stdout, fail); code != ExitOK {
			return code
		}
		return startCommand(ctx, cfg, f, stdout, fail)
	case f.start:
		return startCommand(ctx, cfg, f, stdout, fail)
	}
	if err := runForeground(ctx, cfg, f, stdout, stderr); err != nil {
		return fail(ExitError, err)
	}
	return ExitOK
}

// hostName names this machine in a new certificate.
func hostName() string {
	name, _ := os.Hostname()
	return name
}

// loadCLIConfig reads the config file the flags name (or the default).
func loadCLIConfig(f cliFlags) (*Config, bool, error) {
	dir, err := Dir()
	if err != nil {
		return nil, false, err
	}
	path := filepath.Join(dir, ConfigFileName)
	if f.config != "" {
		if path, err = absPath(f.config, ""); err != nil {
			return nil, false, fmt.Errorf("--config %s: %w", f.config, err)
		}
	}
	return LoadConfig(path, dir)
}

// notRunning describes a state without a running server.
func notRunning(st DaemonState) string {
	if st.Stale {
		return fmt.Sprintf("dcc-server is not running (stale pid file: pid %d is gone)", st.Pid)
	}
	return "dcc-server is not running"
}

// stopCommand runs --stop.
func stopCommand(ctx context.Context, cfg *Config, stdout io.Writer, fail func(int, error) int) int {
	st, err := Stop(ctx, cfg.Pidfile)
	if err != nil {
		return fail(ExitError, err)
	}
	if !st.Running {
		fmt.Fprintln(stdout, notRunning(st))
		return ExitOK
	}
	fmt.Fprintf(stdout, "dcc-server stopped (pid %d)\n", st.Pid)
	return ExitOK
}

// startCommand runs --start: the background server gets the resolved
// config file and the flags that override it (the token in its environment).
func startCommand(ctx context.Context, cfg *Config, f cliFlags, stdout io.Writer, fail func(int, error) int) int {
	args := []string{"--config=" + cfg.File}
	if f.listen != "" {
		args = append(args, "--listen="+f.listen)
	}
	if f.http != "" {
		args = append(args, "--http="+f.http)
	}
	if f.jobs != 0 {
		args = append(args, "--jobs="+strconv.Itoa(f.jobs))
	}
	if f.workdir != "" {
		args = append(args, "--workdir="+cfg.Workdir)
	}
	if f.verbose {
		args = append(args, "-v")
	}
	if f.debug {
		args = append(args, "-D")
	}
	pid, addr, err := Start(ctx, cfg.Pidfile, cfg.Logfile, args, f.token)
	if err != nil {
		return fail(ExitError, err)
	}
	fmt.Fprintf(stdout, "dcc-server started: pid %d, listening on %s (log: %s)\n", pid, addr, cfg.Logfile)
	return ExitOK
}

// runForeground runs the server until SIGTERM or SIGINT (or ctx's end).
// As a daemon it writes the pid file once it listens.
func runForeground(ctx context.Context, cfg *Config, f cliFlags, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// SIGHUP reloads the config file; caught from here, so that one sent
	// while the server starts waits for it instead of stopping it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log := NewLogger(stderr, LogLevel(f.verbose, f.debug))
	srv, err := New(ctx, Options{Config: cfg, Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			log.Warn("closing the caches", "err", err)
		}
	}()
	addr, err := srv.Listen(ctx)
	if err != nil {
		return err
	}
	if IsDaemonChild() {
		if err := WritePidfile(cfg.Pidfile, addr.String()); err != nil {
			return err
		}
		defer RemovePidfile(cfg.Pidfile)
	} else {
		fmt.Fprintf(stdout, "dcc-server listening on %s (%d jobs, %d toolchains, %s)\n", addr, cfg.Jobs, len(srv.toolchains.List()), srv.Transport())
		if h := srv.HTTPAddr(); h != nil {
			fmt.Fprintf(stdout, "dcc-server: http status page on http://%s/\n", h)
		}
	}
	go srv.ReportOnSignal(ctx)
	go srv.ReloadOnSignal(ctx, hup, func() (*Config, error) {
		return ReloadConfig(cfg.File, Overrides{Listen: f.listen, HTTP: f.http, Jobs: f.jobs, Token: f.token, Workdir: f.workdir})
	})
	err = srv.Serve(ctx)
	log.Info("stopped")
	return err
}
