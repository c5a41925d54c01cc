//go:build unix

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"reflect"
	"sort"
	"syscall"
)

// access is what a new connection is checked against: the client networks
// (before anything is read) and the tokens (in the handshake). A reload
// swaps it whole; sessions already open keep going.
type access struct {
	allow  []netip.Prefix
	tokens []string
}

// restartKeys names the config key of each field of Config (and, as
// "Sandbox.Field", of SandboxConfig) that a reload cannot change while the
// server runs: when the file changes one, the reload says it takes effect at
// restart. "" marks the fields a reload applies (or that cannot change).
// TestRestartKeysCoverConfig checks that every field is listed.
var restartKeys = map[string]string{
	"File": "", "Tokens": "", "Allow": "",
	"Listen": "listen", "HTTP": "http", "Workdir": "workdir", "TreeDir": "tree_dir",
	"Logfile": "logfile", "Pidfile": "pidfile", "Jobs": "jobs",
	// The sandbox's CPU limit (job_cpu's default) is set in its slots at start.
	"JobTimeout": "job_timeout",
	"Toolchains": "toolchains", "ClangTargets": "clang_targets",
	"CacheDir": "cache_dir", "CacheMaxSize": "cache_max_size",
	"Plaintext": "tls", "TLSFile": "tls_file",
	"ToolchainDir": "toolchain_dir", "ToolchainDirSet": "toolchain_dir", "ToolchainMaxSize": "toolchain_max_size",
	"Sandbox.Off": "sandbox", "Sandbox.Bwrap": "bwrap", "Sandbox.User": "user", "Sandbox.CPU": "job_cpu",
	"Sandbox.Memory": "job_memory", "Sandbox.FileSize": "job_file_size", "Sandbox.Processes": "job_processes",
}

// ReloadConfig reads the config file at path again for a running server and
// applies to it the command-line overrides o the server started with (so
// that a --token stays accepted). A missing file is an error: a reload never
// writes a new one.
func ReloadConfig(path string, o Overrides) (*Config, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	cfg, err := ParseConfig(path, dir, data)
	if err != nil {
		return nil, err
	}
	if err := cfg.Apply(o); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Reload applies cfg, the configuration read again: new connections are
// checked against its tokens and allowed networks from now on. Each other
// key that differs from the configuration the server started with is
// logged as taking effect at restart. It returns those keys.
func (s *Server) Reload(cfg *Config) ([]string, error) {
	if len(cfg.Tokens) == 0 {
		return nil, errors.New("server: reload: no accepted token")
	}
	changed := restartChanges(s.cfg, cfg)
	for _, key := range changed {
		s.log.Warn(key + " changed: takes effect at restart")
	}
	s.access.Store(&access{allow: cfg.Allow, tokens: cfg.Tokens})
	s.log.Info("configuration reloaded", "file", cfg.File, "tokens", len(cfg.Tokens), "allow", len(cfg.Allow))
	return changed, nil
}

// ReloadOnSignal reloads the configuration each time hup delivers (SIGHUP,
// registered by the caller before the server starts so that an early one
// does not stop the process), until ctx ends: load reads it again. A
// configuration that does not load is logged as one error line and the
// running one kept.
func (s *Server) ReloadOnSignal(ctx context.Context, hup <-chan os.Signal, load func() (*Config, error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			cfg, err := load()
			if err == nil {
				_, err = s.Reload(cfg)
			}
			if err != nil {
				s.log.Error("reload failed: the running configuration is kept", "err", err)
			}
		}
	}
}

// restartChanges lists, sorted, the keys of the fields in restartKeys that
// differ between old and new.
func restartChanges(old, new *Config) []string {
	set := map[string]bool{}
	var walk func(prefix string, a, b reflect.Value)
	walk = func(prefix string, a, b reflect.Value) {
		for i := 0; i < a.NumField(); i++ {
			name := prefix + a.Type().Field(i).Name
			fa, fb := a.Field(i), b.Field(i)
			if fa.Kind() == reflect.Struct && fa.Type() == reflect.TypeFor[SandboxConfig]() {
				walk(name+".", fa, fb)
				continue
			}
			key, known := restartKeys[name]
			if !known {
				key = name // a field added to Config and not to restartKeys
			}
			if key != "" && !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				set[key] = true
			}
		}
	}
	walk("", reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem())
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Reload sends SIGHUP to the background server in the pid file: it reads
// its config file again (see Server.Reload). It returns the state found; a
// server not running is not signalled.
func Reload(pidfile string) (DaemonState, error) {
	st, err := Status(pidfile)
	if err != nil || !st.Running {
		return st, err
	}
	if err := syscall.Kill(st.Pid, syscall.SIGHUP); err != nil {
		return st, fmt.Errorf("reload dcc-server (pid %d): %w", st.Pid, err)
	}
	return st, nil
}

// reloadCommand runs --reload. The config file parsed already (Main read
// it), so a file the server would refuse is reported here and not sent.
func reloadCommand(cfg *Config, stdout io.Writer, fail func(int, error) int) int {
	st, err := Reload(cfg.Pidfile)
	if err != nil {
		return fail(ExitError, err)
	}
	if !st.Running {
		fmt.Fprintln(stdout, notRunning(st))
		return ExitNotRunning
	}
	fmt.Fprintf(stdout, "dcc-server (pid %d) reloads %s (what it did is in its log: %s)\n", st.Pid, cfg.File, cfg.Logfile)
	return ExitOK
}
