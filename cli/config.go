package cli

import (
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/dcc-build/dcc/config"
)

// configCommand is "dcc config [get KEY | set KEY VALUE]".
func configCommand() command {
	return command{
		name: "config", usage: "[get KEY | set KEY VALUE]",
		summary: "Show the effective configuration, or get or set one key",
		details: `With no arguments, prints every key with its value and where the value came
from: the default, the config file ($DCC_DIR/config.toml, default ~/.dcc), or
an environment variable, which wins over the file.

  dcc config get KEY          prints KEY's effective value
  dcc config set KEY VALUE    validates VALUE and writes it into the config file

Keys: max_size (cache size limit: "5G" = 5*10^9 bytes, "10GiB" = 10*2^30,
or bytes; env DCC_MAX_SIZE), idle_timeout (the daemon exits after this long
without requests, e.g. "10m"; DCC_IDLE_TIMEOUT), direct_mode (true/false;
DCC_DIRECT_MODE), depend_mode (DCC_DEPEND_MODE), disable (true: run every
compile unchanged; DCC_DISABLE), log_level (debug, info, warn, error;
DCC_LOG_LEVEL).

Remote compiling: remote (true/false; dcc connect and dcc disconnect set it;
DCC_REMOTE), token (the hosts' default token, shown only as set or not set;
DCC_TOKEN), connect_timeout (2s), send_timeout (10s), recv_timeout (5m)
(DCC_CONNECT_TIMEOUT, ...), local_threshold (preprocessed bytes at or below
which a unit compiles here, 4096; DCC_LOCAL_THRESHOLD), rerun_remote_errors
(true: a unit that fails on a host compiles again here for the local
compiler's diagnostics; DCC_RERUN_REMOTE_ERRORS), remote_sources (which
units go to gcc hosts as their source and headers rather than preprocessed
text: all, the default; debug, for units with -g only; off; DCC_REMOTE_SOURCES),
liveness_timeout (a host silent this long, not even answering pings, is given
up: 2s, or off; DCC_LIVENESS_TIMEOUT), local_jobs (compiles run here at once
while hosts are configured: auto, the number of CPUs, or a number;
DCC_LOCAL_JOBS).
Hosts are [[hosts]] tables
in the file, each with connect = "HOST:PORT", token, njob (default 4) and
optional timeouts; DCC_HOSTS="127.0.0.2:9693/4 127.0.0.3:9693/8" replaces them
and turns remote on unless DCC_REMOTE=0. "dcc config" lists each host, its
token as set or not set.`,
		run: runConfig,
	}
}

// runConfig runs "dcc config" with args.
func runConfig(e env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return flag.ErrHelp
	}
	switch {
	case len(args) == 0:
		return showConfig(e)
	case args[0] == "get" && len(args) == 2:
		c, err := config.Load()
		if err != nil {
			return err
		}
		s, err := c.Get(args[1])
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(e.stdout, s.Value)
		return err
	case args[0] == "set" && len(args) == 3:
		return setConfig(e, args[1], args[2])
	}
	return fmt.Errorf("%w: expected no arguments, get KEY, or set KEY VALUE", errUsage)
}

// showConfig prints every setting with its value and source.
func showConfig(e env) error {
	c, err := config.Load()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "config file: %s", c.FilePath())
	if _, err := os.Stat(c.FilePath()); err != nil {
		fmt.Fprint(e.stdout, " (absent)")
	}
	fmt.Fprintln(e.stdout)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, s := range c.Settings() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Key, s.Value, s.Source)
	}
	hosts := c.HostSettings()
	if len(hosts) == 0 {
		fmt.Fprintf(tw, "hosts\tnone\tdefault\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// One line per host, in a table of their own: they are wider.
	tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, h := range hosts {
		fmt.Fprintf(tw, "host\t%s\t%s\n", h.Host, h.Source)
	}
	return tw.Flush()
}

// setConfig writes key = value into the config file, and says so when the
// environment overrides the key; otherwise a running daemon is stopped, so
// that the next compile starts one with the new value.
func setConfig(e env, key, value string) error {
	dir, err := config.Dir(os.LookupEnv)
	if err != nil {
		return err
	}
	if err := config.Set(dir, key, value); err != nil {
		return err
	}
	c, err := config.LoadFrom(dir, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("%s is set, but the configuration does not load: %w", key, err)
	}
	s, err := c.Get(key)
	if err != nil {
		return err
	}
	if s.Source != "file "+c.FilePath() {
		fmt.Fprintf(e.stderr, "dcc config: note: %s is %s from %s, which overrides the file\n", key, s.Value, s.Source)
		return nil
	}
	// A running daemon read the file when it started.
	noteDaemon(e)
	return nil
}
