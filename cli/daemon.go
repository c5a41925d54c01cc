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
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/wrapper"
)

// NewBackend builds the compile pipeline that "dcc daemon run" serves, from
// the effective configuration; cmd/dcc sets it (package compile). The daemon
// calls it after it has claimed its socket, so a daemon still closing the
// cache is waited for rather than raced. The daemon closes the backend.
var NewBackend func(ctx context.Context, cfg *config.Config, log *slog.Logger) (daemon.Backend, error)

// daemonRunCommand returns the command line that runs the daemon in the
// foreground: the dccd executable (tests replace it).
var daemonRunCommand = wrapper.DaemonCommand

// daemonStartTimeout bounds "dcc daemon start".
const daemonStartTimeout = 10 * time.Second

// daemonCommand is "dcc daemon start|stop|status|run".
func daemonCommand() command {
	return command{
		name: "daemon", usage: "start | stop | status [-json] | run",
		summary: "Start, stop or inspect the per-user cache daemon",
		details: `The daemon owns the cache and answers every compile; dcc starts it on demand,
and it exits after idle_timeout without requests (see dcc config).

  start          start the daemon unless it runs, and print its pid
  stop           stop it, waiting for compiles in flight and for it to exit
  status         print its pid, version, socket, uptime and load; exit
                 status 1 when no daemon runs (-json: as JSON)
  run            run it in the foreground, logging to stderr (what start
                 runs, detached, with stderr on $DCC_DIR/daemon.log)

A daemon of another dcc build is stopped by start, by stop, and by any compile.`,
		run: runDaemon,
	}
}

// runDaemon dispatches "dcc daemon" subcommands.
func runDaemon(e env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: daemon needs start, stop, status or run", errUsage)
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("daemon "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := false
	if sub == "status" {
		fs.BoolVar(&asJSON, "json", false, "print the status as JSON")
	}
	if sub == "-h" || sub == "--help" {
		return flag.ErrHelp
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: daemon %s takes no arguments", errUsage, sub)
	}
	switch sub {
	case "start":
		return daemonStart(e)
	case "stop":
		return daemonStop(e)
	case "status":
		return daemonStatus(e, asJSON)
	case "run":
		return daemonRun(e)
	}
	return fmt.Errorf("%w: unknown daemon command %q", errUsage, sub)
}

// daemonPlace returns the daemon's files (from the directory alone, so that a
// broken config file does not stop "dcc daemon stop") and the build id of
// the daemon executable.
func daemonPlace() (*config.Config, string, error) {
	dir, err := config.Dir(os.LookupEnv)
	if err != nil {
		return nil, "", err
	}
	cmd, err := daemonRunCommand()
	if err != nil {
		return nil, "", err
	}
	build, err := daemon.BuildIDOf(cmd[0])
	if err != nil {
		return nil, "", err
	}
	return &config.Config{Dir: dir}, build, nil
}

// daemonStart is "dcc daemon start".
func daemonStart(e env) error {
	cfg, build, err := daemonPlace()
	if err != nil {
		return err
	}
	cmd, err := daemonRunCommand()
	if err != nil {
		return err
	}
	c, err := daemon.Ensure(e.ctx, daemon.EnsureOptions{
		SocketPath: cfg.SocketPath(), LockPath: cfg.LockPath(), BuildID: build,
		Command: cmd, LogPath: cfg.LogPath(), StartTimeout: daemonStartTimeout, FailureBackoff: -1,
	})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = fmt.Fprintf(e.stdout, "daemon running (pid %d, socket %s)\n", c.Server().PID, cfg.SocketPath())
	return err
}

// daemonStop is "dcc daemon stop".
func daemonStop(e env) error {
	cfg, build, err := daemonPlace()
	if err != nil {
		return err
	}
	pid, err := daemon.StopDaemon(e.ctx, cfg.SocketPath(), build)
	if errors.Is(err, daemon.ErrNotRunning) {
		_, err = fmt.Fprintln(e.stdout, "no daemon running")
		return err
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "daemon stopped (pid %d)\n", pid)
	return err
}

// statusJSON is "dcc daemon status -json".
type statusJSON struct {
	PID                int     `json:"pid"`
	BuildID            string  `json:"build_id"`
	Protocol           int     `json:"protocol"`
	Socket             string  `json:"socket"`
	Started            string  `json:"started"`
	UptimeSeconds      float64 `json:"uptime_seconds"`
	IdleTimeoutSeconds float64 `json:"idle_timeout_seconds"`
	Connections        int     `json:"connections"`
	InFlight           int     `json:"in_flight"`
	Requests           int64   `json:"requests"`
}

// daemonStatus is "dcc daemon status".
func daemonStatus(e env, asJSON bool) error {
	cfg, build, err := daemonPlace()
	if err != nil {
		return err
	}
	c, err := daemon.Dial(e.ctx, cfg.SocketPath(), build)
	if errors.Is(err, daemon.ErrNotRunning) {
		return fmt.Errorf("no daemon running (socket %s)", cfg.SocketPath())
	}
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Status(e.ctx)
	if err != nil {
		return err
	}
	uptime := time.Since(st.Started)
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(statusJSON{
			PID: st.PID, BuildID: st.BuildID, Protocol: st.Protocol, Socket: st.Socket,
			Started: st.Started.Format(time.RFC3339), UptimeSeconds: uptime.Seconds(),
			IdleTimeoutSeconds: st.IdleTimeout.Seconds(),
			Connections:        st.Connections, InFlight: st.InFlight, Requests: st.Requests,
		})
	}
	idle := "never"
	if st.IdleTimeout > 0 {
		idle = st.IdleTimeout.String()
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "pid\t%d\n", st.PID)
	fmt.Fprintf(w, "build\t%s\n", st.BuildID)
	fmt.Fprintf(w, "protocol\t%d\n", st.Protocol)
	fmt.Fprintf(w, "socket\t%s\n", st.Socket)
	fmt.Fprintf(w, "started\t%s (up %s)\n", st.Started.Format(time.RFC3339), uptime.Round(time.Second))
	fmt.Fprintf(w, "idle timeout\t%s\n", idle)
	fmt.Fprintf(w, "connections\t%d, %d requests in flight (this one included)\n", st.Connections, st.InFlight)
	fmt.Fprintf(w, "requests\t%d\n", st.Requests)
	return w.Flush()
}

// daemonRun is "dcc daemon run": the daemon in the foreground.
func daemonRun(e env) error {
	if NewBackend == nil {
		// This is dcc, which does not link the cache: the daemon is dccd.
		cmd, err := daemonRunCommand()
		if err != nil {
			return err
		}
		return fmt.Errorf("run %s: %w", cmd[0], syscall.Exec(cmd[0], cmd, os.Environ()))
	}
	// First run: write the config file with every default, to be edited.
	if dir, err := config.Dir(os.LookupEnv); err == nil {
		if _, err := config.WriteDefaultIfMissing(dir); err != nil {
			fmt.Fprintf(e.stderr, "dcc daemon: %v\n", err)
		}
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	build, err := daemon.ExecutableBuildID()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	l, err := daemon.Listen(e.ctx, daemon.ServerOptions{
		SocketPath: cfg.SocketPath(), IdleTimeout: cfg.IdleTimeout, Logger: log, BuildID: build,
	})
	if err != nil {
		return err
	}
	backend, err := NewBackend(e.ctx, cfg, log)
	if err != nil {
		if cerr := l.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return fmt.Errorf("open the cache: %w", err)
	}
	return l.Serve(e.ctx, backend)
}
