package config

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dcc-build/dcc/teamcache"
)

// tomlType is the TOML type a key takes in the config file.
type tomlType int

const (
	tomlString       tomlType = iota // a string
	tomlStringOrSize                 // a string, or an integer number of bytes
	tomlBool                         // true or false
)

// keyDef describes one configuration key: its names, default, and how its
// text form (environment, "dcc config set", the file) is read and shown.
type keyDef struct {
	name string
	env  string
	def  string // the default, in the text form parse reads
	typ  tomlType
	doc  string // one line for the default config file
	// secret keys are shown as "set" or "not set", never as their value.
	secret bool
	// parse validates text and stores the value in c.
	parse func(c *Config, text string) error
	// show formats c's value in the text form parse reads.
	show func(c *Config) string
}

// keys lists the configuration keys in the order dcc config shows them.
var keys = []keyDef{
	{
		name: "max_size", doc: "cache size limit; least-recently-used entries are evicted past it (10G, 500M, 5GiB, or bytes)", env: "DCC_MAX_SIZE", def: "5GiB", typ: tomlStringOrSize,
		parse: func(c *Config, s string) (err error) { c.MaxSize, err = ParseSize(s); return err },
		show:  func(c *Config) string { return FormatSize(c.MaxSize) },
	},
	{
		name: "idle_timeout", doc: "the daemon exits after this long without requests (a Go duration: 90s, 10m, 1h)", env: "DCC_IDLE_TIMEOUT", def: "10m", typ: tomlString,
		parse: func(c *Config, s string) (err error) { c.IdleTimeout, err = parseDuration(s); return err },
		show:  func(c *Config) string { return c.IdleTimeout.String() },
	},
	{
		name: "direct_mode", doc: "look compiles up by source and header contents before preprocessing", env: "DCC_DIRECT_MODE", def: "true", typ: tomlBool,
		parse: func(c *Config, s string) (err error) { c.DirectMode, err = parseBool(s); return err },
		show:  func(c *Config) string { return strconv.FormatBool(c.DirectMode) },
	},
	{
		name: "depend_mode", doc: "on a direct-mode miss, learn the headers from the compile's own dependency output instead of preprocessing first (faster cold builds; no preprocessor-mode hits)", env: "DCC_DEPEND_MODE", def: "true", typ: tomlBool,
		parse: func(c *Config, s string) (err error) { c.DependMode, err = parseBool(s); return err },
		show:  func(c *Config) string { return strconv.FormatBool(c.DependMode) },
	},
	{
		name: "bypass_driver", doc: "a cold gcc compile runs cc1 and the assembler itself, as gcc -### prints them, instead of through the gcc driver (one process less per compile)", env: "DCC_BYPASS_DRIVER", def: "true", typ: tomlBool,
		parse: func(c *Config, s string) (err error) { c.BypassDriver, err = parseBool(s); return err },
		show:  func(c *Config) string { return strconv.FormatBool(c.BypassDriver) },
	},
	{
		name: "disable", doc: "run every compile unchanged, without the cache", env: "DCC_DISABLE", def: "false", typ: tomlBool,
		parse: func(c *Config, s string) (err error) { c.Disable, err = parseBool(s); return err },
		show:  func(c *Config) string { return strconv.FormatBool(c.Disable) },
	},
	{
		name: "log_level", doc: "the daemon's log level in daemon.log: debug, info, warn or error", env: "DCC_LOG_LEVEL", def: "warn", typ: tomlString,
		parse: func(c *Config, s string) (err error) { c.LogLevel, err = parseLevel(s); return err },
		show:  func(c *Config) string { return strings.ToLower(c.LogLevel.String()) },
	},
	{
		name: "remote", doc: "compile on the hosts below (dcc connect turns it on, dcc disconnect off; DCC_HOSTS turns it on unless DCC_REMOTE=0)", env: "DCC_REMOTE", def: "false", typ: tomlBool,
		parse: func(c *Config, s string) (err error) { c.Remote, err = parseBool(s); return err },
		show:  func(c *Config) string { return strconv.FormatBool(c.Remote) },
	},
	{
		name: "token", doc: "the token of every host that names none of its own (dcc-server prints it on its first run)", env: "DCC_TOKEN", def: "", typ: tomlString, secret: true,
		parse: func(c *Config, s string) error { c.Token = strings.TrimSpace(s); return nil },
		show:  func(c *Config) string { return c.Token },
	},
	{
		name: "connect_timeout", doc: "how long connecting to a host may take, handshake included (a Go duration)", env: "DCC_CONNECT_TIMEOUT", def: "2s", typ: tomlString,
		parse: func(c *Config, s string) (err error) { c.ConnectTimeout, err = parseDuration(s); return err },
		show:  func(c *Config) string { return c.ConnectTimeout.String() },
	},
	{
		name: "send_timeout", doc: "how long sending a job to a host may take", env: "DCC_SEND_TIMEOUT", def: "10s", typ: tomlString,
		parse: func(c *Config, s string) (err error) { c.SendTimeout, err = parseDuration(s); return err },
		show:  func(c *Config) string { return c.SendTimeout.String() },
	},
	{
		name: "recv_timeout", doc: "how long a host may take to answer a job, from when it is sent (the wait for a free host slot does not count); past it the job compiles here", env: "DCC_RECV_TIMEOUT", def: "5m", typ: tomlString,
		parse: func(c *Config, s string) (err error) { c.RecvTimeout, err = parseDuration(s); return err },
		show:  func(c *Config) string { return c.RecvTimeout.String() },
	},
	{
		name: "liveness_timeout", doc: "a host that sends nothing, not even the answer to a ping, for this long while jobs are in flight on it is given up and its jobs go elsewhere or compile here (a Go duration, or off); a host busy with long compiles still answers, and an idle session is not watched (a host that died meanwhile is found by the next job)", env: "DCC_LIVENESS_TIMEOUT", def: "2s", typ: tomlString,
		parse: func(c *Config, s string) (err error) {
			if strings.TrimSpace(s) == "off" {
				c.LivenessTimeout = -1
				return nil
			}
			c.LivenessTimeout, err = parseDuration(s)
			return err
		},
		show: func(c *Config) string {
			if c.LivenessTimeout < 0 {
				return "off"
			}
			return c.LivenessTimeout.String()
		},
	},
	{
		name: "local_jobs", doc: "with hosts configured, how many compiles run here at once; the others wait (auto: the number of CPUs), so that units falling back from hosts that went away do not all compile here at once", env: "DCC_LOCAL_JOBS", def: "auto", typ: tomlString,
		parse: func(c *Config, s string) error {
			s = strings.TrimSpace(s)
			if s == "auto" {
				c.LocalJobs = 0
				return nil
			}
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 || n > MaxJobs {
				return fmt.Errorf("invalid value %q: want auto or a number of compiles from 1 to %d", s, MaxJobs)
			}
			c.LocalJobs = n
			return nil
		},
		show: func(c *Config) string {
			if c.LocalJobs == 0 {
				return "auto"
			}
			return strconv.Itoa(c.LocalJobs)
		},
	},
	{
		name: "local_threshold", doc: "units whose preprocessed text is at most this size compile here, not on a host (bytes, or 4Ki, 1M; 0: send every unit)", env: "DCC_LOCAL_THRESHOLD", def: "4096", typ: tomlStringOrSize,
		parse: func(c *Config, s string) (err error) { c.LocalThreshold, err = parseThreshold(s); return err },
		show:  func(c *Config) string { return formatThreshold(c.LocalThreshold) },
	},
	{
		name: "rerun_remote_errors", doc: "compile again here a unit that failed on a host, so that the diagnostics are the local compiler's", env: "DCC_RERUN_REMOTE_ERRORS", def: "true", typ: tomlBool,
		parse: func(c *Config, s string) (err error) { c.RerunRemoteErrors, err = parseBool(s); return err },
		show:  func(c *Config) string { return strconv.FormatBool(c.RerunRemoteErrors) },
	},
	{
		name: "ship_toolchains", doc: "send a host that lacks a unit's compiler the compiler itself (its programs and libraries, once per host, kept there), so that hosts need no compiler installed", env: "DCC_SHIP_TOOLCHAINS", def: "true", typ: tomlBool,
		parse: func(c *Config, s string) (err error) { c.ShipToolchains, err = parseBool(s); return err },
		show:  func(c *Config) string { return strconv.FormatBool(c.ShipToolchains) },
	},
	{
		name: "remote_sources", doc: "which units go to a gcc host as their source and headers instead of preprocessed text: all (no preprocessing here), debug (only units with -g, which preprocessed text cannot reproduce), or off", env: "DCC_REMOTE_SOURCES", def: "all", typ: tomlString,
		parse: func(c *Config, s string) error {
			switch s {
			case "all", "debug", "off":
				c.RemoteSources = s
				return nil
			}
			return fmt.Errorf("invalid value %q: want all, debug or off", s)
		},
		show: func(c *Config) string { return c.RemoteSources },
	},
	{
		name: "remote_storage", doc: "the team cache: storages looked up after the local cache and written after each compile, separated by spaces, in ccache's syntax (redis://HOST[:PORT][/DB], redis+unix:PATH, http://HOST/PATH, s3://BUCKET/PREFIX?endpoint=URL, file:/shared/dir, dcc://HOST:PORT; attributes after |: read-only, connect-timeout=MS, operation-timeout=MS, layout=..., shards=...)", env: "DCC_REMOTE_STORAGE", def: "", typ: tomlString,
		parse: func(c *Config, s string) error {
			if _, err := teamcache.ParseSpecs(s); err != nil {
				return err
			}
			c.RemoteStorage = s
			return nil
		},
		show: func(c *Config) string { return teamcache.RedactSpecs(c.RemoteStorage) },
	},
	{
		name: "remote_storage_key", doc: "the team key: entries written to remote storage are signed with it, and entries read that it did not sign are never used (at least 16 characters; the same on every machine of the team)", env: "DCC_REMOTE_STORAGE_KEY", def: "", typ: tomlString, secret: true,
		parse: func(c *Config, s string) error {
			if s != "" && len(s) < 16 {
				return fmt.Errorf("too short: at least 16 characters (%d given)", len(s))
			}
			c.RemoteStorageKey = s
			return nil
		},
		show: func(c *Config) string { return c.RemoteStorageKey },
	},
	{
		name: "base_dir", doc: "paths under this directory enter team cache keys relative to the working directory, so that checkouts at different places share entries where the objects are the same (empty: each compile's project root, the nearest directory holding .git)", env: "DCC_BASE_DIR", def: "", typ: tomlString,
		parse: func(c *Config, s string) error {
			if s != "" && !filepath.IsAbs(s) {
				return fmt.Errorf("invalid value %q: want an absolute directory", s)
			}
			if s != "" {
				s = filepath.Clean(s)
			}
			c.BaseDir = s
			return nil
		},
		show: func(c *Config) string { return c.BaseDir },
	},
}

// Keys returns the configuration keys dcc knows, in display order.
func Keys() []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return names
}

// lookupKey returns the definition of key name.
func lookupKey(name string) (keyDef, error) {
	for _, k := range keys {
		if k.name == name {
			return k, nil
		}
	}
	return keyDef{}, fmt.Errorf("unknown key %q (known: %s)", name, strings.Join(Keys(), ", "))
}

// parseDuration reads a positive Go duration ("10m", "90s", "1h30m").
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf(`invalid duration %q: want a Go duration such as "10m", "90s" or "1h30m"`, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("invalid duration %q: must be more than zero", s)
	}
	return d, nil
}

// parseBool reads 1/0, true/false (any case), t/f.
func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, fmt.Errorf("invalid boolean %q: want true, false, 1 or 0", s)
	}
	return b, nil
}

// parseThreshold reads a size that may be zero ("0", "4096", "4Ki").
func parseThreshold(s string) (int64, error) {
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n == 0 {
		return 0, nil
	}
	return ParseSize(s)
}

// formatThreshold formats a threshold so that parseThreshold reads it back.
func formatThreshold(n int64) string {
	if n == 0 {
		return "0"
	}
	return FormatSize(n)
}

// errLevel lists the log levels.
var errLevel = errors.New("want debug, info, warn or error")

// parseLevel reads a log level name, in any case.
func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("invalid log level %q: %w", s, errLevel)
}
