// Package config is dcc's client configuration, read and validated in one
// place: the directory ($DCC_DIR, else ~/.dcc), the TOML file config.toml in
// it, and environment overrides (DCC_MAX_SIZE, ...). A value comes from the
// environment if set there, else from the file, else from its default.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dcc-build/dcc/config/dir"
)

// Config is the effective client configuration.
type Config struct {
	// Dir is dcc's directory: the config file, the daemon's socket, lock,
	// log, statistics and cache live in it.
	Dir string
	// MaxSize is the cache's size limit in bytes (key max_size, default 5 GiB).
	MaxSize int64
	// IdleTimeout is how long the daemon runs without a request before it
	// exits (key idle_timeout, default 10m).
	IdleTimeout time.Duration
	// DirectMode enables direct-mode lookups (key direct_mode, default true).
	DirectMode bool
	// DependMode makes a direct-mode miss compile once with dependency
	// output instead of preprocessing first (key depend_mode, default true).
	DependMode bool
	// BypassDriver makes a cold gcc compile run cc1 and the assembler itself,
	// as the driver's -### prints them (key bypass_driver, default true).
	BypassDriver bool
	// Disable makes dcc run every compile unchanged (key disable, default false).
	Disable bool
	// LogLevel is the daemon's log level (key log_level, default warn).
	LogLevel slog.Level

	// Remote enables compiling on Hosts (key remote, default false; "dcc
	// connect" sets it, "dcc disconnect" clears it; DCC_HOSTS sets it unless
	// DCC_REMOTE says otherwise).
	Remote bool
	// Token is the token of every host whose entry names none (key token).
	// It is a secret: never log it.
	Token string
	// ConnectTimeout, SendTimeout and RecvTimeout are the hosts' default
	// timeouts (keys connect_timeout, default 2s; send_timeout, 10s;
	// recv_timeout, 5m); each host may set its own.
	ConnectTimeout time.Duration
	SendTimeout    time.Duration
	RecvTimeout    time.Duration
	// LivenessTimeout is how long a host with jobs in flight may send
	// nothing before its session is given up (key liveness_timeout, default 2s; negative:
	// "off").
	LivenessTimeout time.Duration
	// LocalJobs bounds the compiles the daemon runs here at once when hosts
	// are configured (key local_jobs; 0, "auto", the default: the number
	// of CPUs).
	LocalJobs int
	// LocalThreshold is the preprocessed size in bytes at or below which a
	// unit compiles locally rather than on a host (key local_threshold,
	// default 4096; 0 sends every unit).
	LocalThreshold int64
	// RerunRemoteErrors makes a compile that failed on a host run again
	// locally, so that its diagnostics are the local compiler's (key
	// rerun_remote_errors, default true).
	RerunRemoteErrors bool
	// ShipToolchains sends hosts that lack a unit's compiler the compiler
	// itself (key ship_toolchains, default true).
	ShipToolchains bool
	// RemoteSources says which units go to gcc hosts as their source and
	// headers rather than preprocessed text (key remote_sources: "all",
	// the default, "debug" or "off").
	RemoteSources string
	// RemoteStorage is the team cache's storages, in ccache's syntax
	// (key remote_storage; teamcache.ParseSpecs has read it). It may hold
	// a password: never log it.
	RemoteStorage string
	// RemoteStorageKey signs the entries written to remote storage and
	// refuses those read that it did not sign (key remote_storage_key).
	// It is a secret: never log it.
	RemoteStorageKey string
	// BaseDir is the directory under which paths enter team cache keys
	// relative to the working directory (key base_dir; "" means each
	// compile's project root, the nearest directory holding .git).
	BaseDir string
	// Hosts are the compile hosts, resolved: the file's [[hosts]] tables, or
	// DCC_HOSTS, which replaces them.
	Hosts []Host

	// sources maps each key to where its value came from.
	sources map[string]string
	// hostSources says where each of Hosts came from.
	hostSources []string
}

// Setting is one configuration value and where it came from. A secret
// (token) has the value "set" or "not set", never the secret itself.
type Setting struct {
	// Key is the key's name ("max_size").
	Key string
	// Value is the value in the form "dcc config set" accepts ("5GiB").
	Value string
	// Source is "default", "file /path/config.toml" or "env DCC_MAX_SIZE".
	Source string
}

// Dir returns dcc's directory: $DCC_DIR made absolute if it is set and not
// empty, else ~/.dcc. env looks up an environment variable (os.LookupEnv).
func Dir(env func(string) (string, bool)) (string, error) { return dir.Resolve(env) }

// Load reads the configuration from the process's environment and the config
// file in Dir(os.LookupEnv). A missing file or directory leaves the defaults.
func Load() (*Config, error) {
	dir, err := Dir(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return LoadFrom(dir, os.LookupEnv)
}

// LoadFrom reads the configuration with dir as dcc's directory and env as the
// environment (tests pass a map's lookup). An empty environment variable
// counts as unset. Any bad value, in the file or the environment, is an
// *Error naming the key and the file's line or the variable.
func LoadFrom(dir string, env func(string) (string, bool)) (*Config, error) {
	c := &Config{Dir: dir, sources: map[string]string{}}
	doc, err := readDocument(FilePath(dir))
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := k.parse(c, k.def); err != nil {
			return nil, fmt.Errorf("default of %s: %w", k.name, err) // a bug in the key table
		}
		c.sources[k.name] = "default"
		text, ok, err := doc.text(k)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := k.parse(c, text); err != nil {
				return nil, doc.errorAt(k.name, err)
			}
			c.sources[k.name] = "file " + doc.path
		}
		if v, ok := env(k.env); ok && v != "" {
			if err := k.parse(c, v); err != nil {
				return nil, &Error{Where: "$" + k.env, Key: k.name, Kind: ErrInvalid, Err: err}
			}
			c.sources[k.name] = "env " + k.env
		}
	}
	if err := c.loadHosts(doc, env); err != nil {
		return nil, err
	}
	return c, nil
}

// loadHosts reads the hosts: DCC_HOSTS if set, else the file's [[hosts]]
// tables (checked either way). DCC_HOSTS also turns remote on, unless
// DCC_REMOTE is set.
func (c *Config) loadHosts(doc *document, env func(string) (string, bool)) error {
	entries, err := doc.fileHosts()
	if err != nil {
		return err
	}
	if v, ok := env("DCC_HOSTS"); ok && v != "" {
		if entries, err = envHosts(v); err != nil {
			return &Error{Where: "$DCC_HOSTS", Key: "hosts", Kind: ErrInvalid, Err: err}
		}
		if r, ok := env("DCC_REMOTE"); !ok || r == "" {
			c.Remote = true
			c.sources["remote"] = "env DCC_HOSTS"
		}
	}
	c.Hosts = make([]Host, 0, len(entries))
	c.hostSources = make([]string, 0, len(entries))
	for _, e := range entries {
		c.Hosts = append(c.Hosts, e.resolve(c))
		c.hostSources = append(c.hostSources, e.source)
	}
	return nil
}

// Settings lists every key with its effective value and its source, in the
// order dcc config shows them.
func (c *Config) Settings() []Setting {
	out := make([]Setting, 0, len(keys))
	for _, k := range keys {
		src := c.sources[k.name]
		if src == "" {
			src = "default"
		}
		out = append(out, Setting{Key: k.name, Value: showValue(k, c), Source: src})
	}
	return out
}

// showValue is how Settings shows k's value: a secret as "set" or "not set".
func showValue(k keyDef, c *Config) string {
	if !k.secret {
		return k.show(c)
	}
	if k.show(c) == "" {
		return "not set"
	}
	return "set"
}

// Get returns the setting for key, or an *Error wrapping ErrUnknownKey.
func (c *Config) Get(key string) (Setting, error) {
	for _, s := range c.Settings() {
		if s.Key == key {
			return s, nil
		}
	}
	_, err := lookupKey(key)
	return Setting{}, &Error{Kind: ErrUnknownKey, Err: err}
}

// FilePath returns the config file's path in dir.
func FilePath(dir string) string { return filepath.Join(dir, FileName) }

// FilePath returns the config file's path.
func (c *Config) FilePath() string { return FilePath(c.Dir) }

// SocketPath returns the daemon's Unix socket path.
func (c *Config) SocketPath() string { return dir.Socket(c.Dir) }

// LockPath returns the lock file the daemon's starters and the daemon hold.
func (c *Config) LockPath() string { return dir.Lock(c.Dir) }

// CachePath returns the cache database's directory.
func (c *Config) CachePath() string { return filepath.Join(c.Dir, "cache") }

// StatsPath returns the statistics file.
func (c *Config) StatsPath() string { return filepath.Join(c.Dir, "stats.json") }

// LogPath returns the daemon's log file.
func (c *Config) LogPath() string { return dir.Log(c.Dir) }
