package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
)

// monitorCommand is "dcc monitor [--interval D] [--once | --http ADDR]".
func monitorCommand() command {
	return command{
		name: "monitor", usage: "[--interval D] [--once | --http ADDR]",
		summary: "Watch the compile farm and the cache live (terminal or web page)",
		details: `Shows, refreshed every --interval (1s), each compile host as this client's
daemon sees it: its state, slots, slots busy and jobs queued (every client's),
this client's jobs in flight there with their source files, compiles per second,
jobs sent/answered/failed and backoff; and locally the cache's hits, misses and
units compiled on hosts, each per second since the previous refresh.
The hosts' load is asked of every host with a session up at each refresh; no
host is dialed. With no daemon running, it says so and waits for one (the
next compile starts it); while it runs, the daemon does not exit on idle.
On a terminal the screen is redrawn; otherwise frames follow each other,
separated by a blank line.
--once prints one frame and exits (it polls twice, --interval apart, for the
rates). --http ADDR serves instead a page of the whole farm at http://ADDR/,
updated live, and its data at /farm.json (ADDR 127.0.0.1:0 picks a port; the
address is printed). Stop it with Ctrl-C.`,
		run: runMonitor,
	}
}

// runMonitor runs dcc monitor.
func runMonitor(e env, args []string) error {
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	interval := fs.Duration("interval", time.Second, "time between refreshes")
	once := fs.Bool("once", false, "print one frame and exit")
	httpAddr := fs.String("http", "", "serve a web page on this address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *interval < 10*time.Millisecond {
		return fmt.Errorf("%w: --interval %s is too short: give 10ms or more", errUsage, *interval)
	}
	if *once && *httpAddr != "" {
		return fmt.Errorf("%w: --once prints a frame, --http serves a page: give one", errUsage)
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := newMonitor(cfg, *interval)
	defer m.close()
	if *httpAddr != "" {
		return m.serveHTTP(ctx, *httpAddr, e.stdout, e.stderr)
	}
	if *once {
		f, err := m.onceFrame(ctx)
		if err != nil {
			return err
		}
		return renderFrame(e.stdout, f)
	}
	return m.loop(ctx, e.stdout, isTerminal(e.stdout))
}

// monitor polls the daemon and keeps the previous sample for the rates.
type monitor struct {
	cfg      *config.Config
	interval time.Duration
	// dial connects to the running daemon, nil when none answers (tests
	// replace it).
	dial func(ctx context.Context) monitorSource
	conn monitorSource
	prev *farmSample
	now  func() time.Time
}

// monitorSource is what a frame is made from: the daemon's client.
type monitorSource interface {
	Stats(ctx context.Context) (daemon.StatsReport, error)
	MonitorHosts(ctx context.Context) ([]daemon.HostReport, error)
	Server() daemon.ServerInfo
	Close() error
}

// newMonitor returns a monitor of the daemon of this configuration.
func newMonitor(cfg *config.Config, interval time.Duration) *monitor {
	return &monitor{cfg: cfg, interval: interval, now: time.Now,
		dial: func(ctx context.Context) monitorSource {
			if c := dialDaemon(ctx); c != nil {
				return c
			}
			return nil
		}}
}

// close closes the connection to the daemon.
func (m *monitor) close() {
	if m.conn != nil {
		m.conn.Close()
		m.conn = nil
	}
}

// pollTimeout bounds one poll of the daemon (the hosts' status requests
// included, which it bounds itself at 2 s).
const pollTimeout = 5 * time.Second

// sample polls the daemon once; a daemon that does not answer is dropped
// and dialed again at the next poll.
func (m *monitor) sample(ctx context.Context) *farmSample {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	s := &farmSample{at: m.now()}
	if m.conn == nil {
		m.conn = m.dial(ctx)
	}
	if m.conn == nil {
		s.note = "no daemon is running: waiting for one (the next compile starts it)"
		return s
	}
	st, err := m.conn.Stats(ctx)
	if err != nil {
		m.close()
		s.note = "the daemon did not answer: " + oneLineErr(err)
		return s
	}
	s.pid, s.stats = m.conn.Server().PID, &st
	switch {
	case len(m.cfg.Hosts) == 0:
		s.hostsErr = "no compile hosts configured (hosts in " + m.cfg.FilePath() + ", or DCC_HOSTS): the cache only"
	default:
		hosts, err := m.conn.MonitorHosts(ctx)
		if err != nil {
			if !errors.Is(err, daemon.ErrNoRemote) && !errors.Is(err, daemon.ErrDaemon) {
				m.close()
			}
			s.hostsErr = "the daemon gave no hosts: " + oneLineErr(err)
		}
		s.hosts = hosts
	}
	s.at = m.now()
	return s
}

// next polls once and returns the frame, with rates since the previous poll.
func (m *monitor) next(ctx context.Context) farmFrame {
	cur := m.sample(ctx)
	f := buildFrame(m.prev, cur, m.interval, m.cfg.Remote)
	m.prev = cur
	return f
}

// onceFrame polls twice, an interval apart, and returns the second frame.
func (m *monitor) onceFrame(ctx context.Context) (farmFrame, error) {
	m.next(ctx)
	if err := sleep(ctx, m.interval); err != nil {
		return farmFrame{}, err
	}
	return m.next(ctx), nil
}

// loop prints a frame every interval until ctx ends: redrawn in place on a
// terminal, else one after the other separated by a blank line.
func (m *monitor) loop(ctx context.Context, w io.Writer, terminal bool) error {
	for first := true; ; first = false {
		f := m.next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case terminal:
			fmt.Fprint(w, "\x1b[H\x1b[2J")
		case !first:
			fmt.Fprintln(w)
		}
		if err := renderFrame(w, f); err != nil {
			return err
		}
		if sleep(ctx, m.interval) != nil {
			return nil
		}
	}
}

// sleep waits d or until ctx ends (its error then).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// oneLineErr is err's first line.
func oneLineErr(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
