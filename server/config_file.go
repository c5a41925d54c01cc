package server

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// ConfigError is a bad configuration file: where (file and line, when known),
// the key concerned, and what is wrong, printed on one line.
type ConfigError struct {
	// File is the config file.
	File string
	// Line is the 1-based line, 0 when the problem has none (a missing key).
	Line int
	// Key is the key concerned, when known.
	Key string
	// Err says what is wrong.
	Err error
}

// Error returns "FILE:LINE: KEY: what is wrong" on one line.
func (e *ConfigError) Error() string {
	where := e.File
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	parts := []string{where}
	if e.Key != "" {
		parts = append(parts, e.Key)
	}
	parts = append(parts, e.Err.Error())
	return strings.ReplaceAll(strings.Join(parts, ": "), "\n", " ")
}

// Unwrap returns what is wrong.
func (e *ConfigError) Unwrap() error { return e.Err }

// fileConfig is what the config file may hold. Decoding is strict: any other
// key is an error. Absent keys stay nil and take their defaults.
type fileConfig struct {
	Listen       *string   `toml:"listen"`
	HTTP         *string   `toml:"http"`
	Workdir      *string   `toml:"workdir"`
	Logfile      *string   `toml:"logfile"`
	Pidfile      *string   `toml:"pidfile"`
	Jobs         *int64    `toml:"jobs"`
	JobTimeout   *string   `toml:"job_timeout"`
	Tokens       *[]string `toml:"tokens"`
	Allow        *[]string `toml:"allow"`
	Toolchains   *[]string `toml:"toolchains"`
	ClangTargets *[]string `toml:"clang_targets"`
	CacheDir     *string   `toml:"cache_dir"`
	CacheMaxSize any       `toml:"cache_max_size"`
	TreeDir      *string   `toml:"tree_dir"`
	ToolchainDir *string   `toml:"toolchain_dir"`
	ToolchainMax any       `toml:"toolchain_max_size"`
	TLS          any       `toml:"tls"`
	TLSFile      *string   `toml:"tls_file"`
	// The sandbox's keys (config_sandbox.go).
	Sandbox      any     `toml:"sandbox"`
	Bwrap        *string `toml:"bwrap"`
	User         *string `toml:"user"`
	JobCPU       *string `toml:"job_cpu"`
	JobMemory    any     `toml:"job_memory"`
	JobFileSize  any     `toml:"job_file_size"`
	JobProcesses *int64  `toml:"job_processes"`
}

// configKeys lists the keys of the file, for error messages.
const configKeys = "listen, http, workdir, logfile, pidfile, jobs, job_timeout, tokens, allow, toolchains, clang_targets, cache_dir, cache_max_size, tree_dir, toolchain_dir, toolchain_max_size, tls, tls_file, sandbox, bwrap, user, job_cpu, job_memory, job_file_size, job_processes"

// LoadConfig reads the config file at path, with the defaults of the dcc
// directory dccDir for the keys it leaves out. When there is no file (the
// first run), it writes one with every default and a fresh token and
// reports created; the caller shows the token once (PrintFirstRun). A file
// that does not parse or holds a bad value is a *ConfigError naming the line.
func LoadConfig(path, dccDir string) (cfg *Config, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		created, err = writeDefaultConfig(path, dccDir)
		if err != nil {
			return nil, false, err
		}
		// Read back what is on disk: another process may have written it first.
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("read config file: %w", err)
	}
	cfg, err = ParseConfig(path, dccDir, data)
	return cfg, created, err
}

// ParseConfig decodes a config file's contents; path names it in errors and
// is the base of relative paths in it.
func ParseConfig(path, dccDir string, data []byte) (*Config, error) {
	var fc fileConfig
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return nil, decodeError(path, err)
	}
	lines := keyLines(data)
	bad := func(key string, err error) error {
		return &ConfigError{File: path, Line: lines[key], Key: key, Err: err}
	}
	c := DefaultConfig(dccDir)
	c.File = path
	base := filepath.Dir(path)
	if fc.Listen != nil {
		if err := checkListen(*fc.Listen); err != nil {
			return nil, bad("listen", err)
		}
		c.Listen = *fc.Listen
	}
	if fc.HTTP != nil && *fc.HTTP != "" {
		if err := checkListen(*fc.HTTP); err != nil {
			return nil, bad("http", err)
		}
		c.HTTP = *fc.HTTP
	}
	for _, p := range []struct {
		key string
		val *string
		dst *string
	}{
		{"workdir", fc.Workdir, &c.Workdir}, {"logfile", fc.Logfile, &c.Logfile},
		{"pidfile", fc.Pidfile, &c.Pidfile}, {"cache_dir", fc.CacheDir, &c.CacheDir},
		{"tree_dir", fc.TreeDir, &c.TreeDir}, {"tls_file", fc.TLSFile, &c.TLSFile},
		{"toolchain_dir", fc.ToolchainDir, &c.ToolchainDir},
	} {
		if p.val == nil {
			continue
		}
		if *p.val == "" {
			return nil, bad(p.key, errors.New("want a path, not an empty string"))
		}
		abs, err := absPath(*p.val, base)
		if err != nil {
			return nil, bad(p.key, err)
		}
		*p.dst = abs
	}
	if err := checkWorkdir(c.Workdir); err != nil {
		return nil, bad("workdir", err)
	}
	if c.TreeDir != "" {
		if err := checkWorkdir(c.TreeDir); err != nil {
			return nil, bad("tree_dir", err)
		}
	}
	if fc.Jobs != nil {
		if err := checkJobs(*fc.Jobs); err != nil {
			return nil, bad("jobs", err)
		}
		c.Jobs = int(*fc.Jobs)
	}
	if fc.JobTimeout != nil {
		d, err := time.ParseDuration(*fc.JobTimeout)
		if err != nil || d <= 0 || d > maxJobTimeout {
			return nil, bad("job_timeout", fmt.Errorf("want a duration from 1s to %s such as \"5m\", not %q", maxJobTimeout, *fc.JobTimeout))
		}
		c.JobTimeout = d
	}
	if fc.Tokens == nil || len(*fc.Tokens) == 0 {
		return nil, bad("tokens", errors.New(`no token: list at least one (tokens = ["..."]), or remove the file to have a new one generated`))
	}
	for i, t := range *fc.Tokens {
		if err := checkToken(t); err != nil {
			return nil, bad("tokens", fmt.Errorf("token %d: %w", i+1, err))
		}
	}
	c.Tokens = *fc.Tokens
	if fc.Allow != nil {
		if len(*fc.Allow) == 0 {
			return nil, bad("allow", errors.New(`empty: no client could connect (allow every address with ["0.0.0.0/0", "::/0"])`))
		}
		c.Allow = nil
		for _, s := range *fc.Allow {
			p, err := parseNetwork(s)
			if err != nil {
				return nil, bad("allow", err)
			}
			c.Allow = append(c.Allow, p)
		}
	}
	if fc.Toolchains != nil {
		for _, s := range *fc.Toolchains {
			if s == "" {
				return nil, bad("toolchains", errors.New("an empty compiler path"))
			}
			p := s
			if strings.ContainsRune(s, '/') || strings.HasPrefix(s, "~") {
				abs, err := absPath(s, base)
				if err != nil {
					return nil, bad("toolchains", err)
				}
				p = abs
			}
			c.Toolchains = append(c.Toolchains, p)
		}
	}
	if fc.ClangTargets != nil {
		for _, t := range *fc.ClangTargets {
			if !validClangTarget(t) {
				return nil, bad("clang_targets", fmt.Errorf("%q is not a target triple (letters, digits, '_', '.' and '-', not starting with '-')", t))
			}
			c.ClangTargets = append(c.ClangTargets, t)
		}
	}
	if fc.TLS != nil {
		on, err := onOff(fc.TLS)
		if err != nil {
			return nil, bad("tls", err)
		}
		c.Plaintext = !on
	}
	if fc.CacheMaxSize != nil {
		n, err := sizeValue(fc.CacheMaxSize)
		if err == nil && n < minCacheMaxSize {
			err = fmt.Errorf("%s is below the minimum of %s", FormatSize(n), FormatSize(minCacheMaxSize))
		}
		if err != nil {
			return nil, bad("cache_max_size", err)
		}
		c.CacheMaxSize = n
	}
	c.ToolchainDirSet = fc.ToolchainDir != nil
	if fc.ToolchainMax != nil {
		n, err := sizeValue(fc.ToolchainMax)
		if err == nil && n != 0 && n < minToolchainMaxSize {
			err = fmt.Errorf("%s is below the minimum of %s (0 takes no shipped toolchains)", FormatSize(n), FormatSize(minToolchainMaxSize))
		}
		if err != nil {
			return nil, bad("toolchain_max_size", err)
		}
		c.ToolchainMaxSize = n
	}
	if err := parseSandbox(&fc, c, bad); err != nil {
		return nil, err
	}
	return c, nil
}

// parseNetwork reads a CIDR ("10.0.0.0/8") or a single address.
func parseNetwork(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q is not a network such as \"192.168.0.0/16\" or an address", s)
}

// onOff reads a switch: "on" or "off", or a boolean.
func onOff(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "on":
			return true, nil
		case "off":
			return false, nil
		}
	}
	return false, fmt.Errorf(`want "on" or "off", not %v`, v)
}

// sizeValue reads cache_max_size: a string such as "10GiB" or an integer
// number of bytes.
func sizeValue(v any) (int64, error) {
	switch x := v.(type) {
	case string:
		return ParseSize(x)
	case int64:
		if x <= 0 {
			return 0, fmt.Errorf("want a positive size, not %d", x)
		}
		return x, nil
	}
	return 0, fmt.Errorf(`want a size such as "10GiB" or a number of bytes, not %T`, v)
}

// decodeError turns the TOML decoder's error into a *ConfigError naming the
// line and, when there is one, the key.
func decodeError(path string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		de := &strict.Errors[0]
		line, _ := de.Position()
		return &ConfigError{File: path, Line: line,
			Err: fmt.Errorf("unknown key %q (known: %s)", strings.Join(de.Key(), "."), configKeys)}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if key != "" {
			// "cannot decode TOML string into struct field server.fileConfig.Jobs of type int64"
			if i := strings.Index(msg, " into struct field"); i >= 0 {
				msg = "wrong type: " + strings.TrimPrefix(msg[:i], "cannot decode ") + " where " + wantType(key) + " belongs"
			}
		} else {
			msg = "not valid TOML: " + msg
		}
		return &ConfigError{File: path, Line: line, Key: key, Err: errors.New(msg)}
	}
	return &ConfigError{File: path, Err: fmt.Errorf("not valid TOML: %w", err)}
}

// wantType names the TOML type key takes, for messages.
func wantType(key string) string {
	switch key {
	case "jobs", "job_processes":
		return "an integer"
	case "tokens", "allow", "toolchains", "clang_targets":
		return "an array of strings"
	case "cache_max_size", "job_memory", "job_file_size", "toolchain_max_size":
		return "a size"
	case "tls", "sandbox":
		return `"on" or "off"`
	}
	return "a string"
}

// keyLines maps each top-level key of a TOML document (which decoded) to
// its line.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	p := unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind != unstable.KeyValue {
			continue
		}
		it := e.Key()
		if !it.Next() {
			continue
		}
		name := string(it.Node().Data)
		if _, ok := lines[name]; !ok {
			lines[name] = p.Shape(it.Node().Raw).Start.Line
		}
	}
	return lines
}

// writeDefaultConfig writes the first-run config file at path, readable only
// by its owner (it holds the token), atomically: a file another process
// wrote meanwhile wins. It reports whether it wrote the file.
func writeDefaultConfig(path, dccDir string) (bool, error) {
	token, err := NewToken()
	if err != nil {
		return false, err
	}
	c := DefaultConfig(dccDir)
	c.Tokens = []string{token}
	return writePrivateOnce(path, []byte(c.fileText()))
}

// httpDoc documents the http key in the config file.
const httpDoc = "status page (/), /status.json and Prometheus /metrics over plain HTTP on this address (HOST:PORT;\n" +
	"# default: none). No token guards them: keep it on loopback or a trusted network (--http overrides it)"

// fileText is c as a commented config file.
func (c *Config) fileText() string {
	var b strings.Builder
	line := func(doc, key, value string) { fmt.Fprintf(&b, "\n# %s\n%s = %s\n", doc, key, value) }
	b.WriteString("# dcc-server's configuration. Command-line flags override it for one run:\n")
	b.WriteString("# --listen, --jobs, --workdir, --token (accepted besides the tokens below).\n")
	line("TCP address to listen on (HOST:PORT)", "listen", tomlString(c.Listen))
	if c.HTTP != "" {
		line(httpDoc, "http", tomlString(c.HTTP))
	} else {
		b.WriteString("\n# " + httpDoc + "\n# http = \"127.0.0.1:9694\"\n")
	}
	line("each compile runs in a fresh directory under this one, removed when it ends", "workdir", tomlString(c.Workdir))
	line("log of the background server (dcc-server --start)", "logfile", tomlString(c.Logfile))
	line("process id of the background server", "pidfile", tomlString(c.Pidfile))
	line("compiles run at once (default: the number of CPUs); up to 4x as many wait in a queue", "jobs", strconv.Itoa(c.Jobs))
	line("time limit of one compile (a Go duration: 90s, 5m)", "job_timeout", tomlString(c.JobTimeout.String()))
	line("accepted tokens: a client proves it knows one (it never crosses the wire);\n# give each team its own and remove one to lock that team out", "tokens", tomlStrings(c.Tokens))
	allow := make([]string, len(c.Allow))
	for i, p := range c.Allow {
		allow[i] = p.String()
	}
	line("client networks that may connect (CIDR); others are disconnected before the handshake.\n# The default is loopback and the private ranges; [\"0.0.0.0/0\", \"::/0\"] allows everyone", "allow", tomlStrings(allow))
	line("compilers served besides the gcc, g++, clang and clang++ found on PATH\n# (paths, such as \"/usr/bin/gcc-12\"); clients name them by identity, never by path", "toolchains", tomlStrings(c.Toolchains))
	line("targets each clang served also compiles for (clang --target=T, such as \"aarch64-linux-gnu\"), each\n# under the identity clang has for it here, GCC installation included", "clang_targets", tomlStrings(c.ClangTargets))
	line("TLS 1.3 on every connection (\"on\"), clients pinning the key of tls_file; \"off\" serves plain TCP,\n# unencrypted, to clients that set plaintext = true for this host", "tls", tomlString(map[bool]string{false: "on", true: "off"}[c.Plaintext]))
	tlsDoc := "this host's TLS key and self-signed certificate, made on first run (dcc-server --fingerprint prints\n# the fingerprint clients pin)"
	if !filepath.IsAbs(c.TLSFile) {
		tlsDoc += "; a relative path is relative to this file's directory"
	}
	line(tlsDoc, "tls_file", tomlString(c.TLSFile))
	line("the result cache and the shared cache clients fill", "cache_dir", tomlString(c.CacheDir))
	line("size limit of the caches; least-recently-used entries are evicted past it", "cache_max_size", tomlString(FormatSize(c.CacheMaxSize)))
	if c.ToolchainDirSet {
		line("toolchains clients ship to this host (compilers it lacks) are kept here, run only in the sandbox", "toolchain_dir", tomlString(c.ToolchainDir))
	} else {
		b.WriteString("\n# toolchains clients ship to this host (compilers it lacks) are kept here, run only in the\n" +
			"# sandbox (default: server-toolchains in the dcc directory; run as root, a private directory\n" +
			"# under /var/tmp that the job user can reach)\n# toolchain_dir = " + tomlString(c.ToolchainDir) + "\n")
	}
	line("size limit of the shipped toolchains; least-recently-used ones are removed past it; \"0\" takes none", "toolchain_max_size", tomlString(FormatSize(c.ToolchainMaxSize)))
	if c.TreeDir != "" {
		line("where jobs sent with their sources are laid out", "tree_dir", tomlString(c.TreeDir))
	} else {
		b.WriteString("\n# where jobs sent with their sources are laid out (default: a private directory\n" +
			"# under /dev/shm when there is one, else the workdir; tmpfs makes it cheap)\n# tree_dir = \"/dev/shm/dcc\"\n")
	}
	b.WriteString(c.sandboxText())
	return b.String()
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlStrings is a TOML array of basic strings.
func tomlStrings(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = tomlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// writePrivateOnce writes data at path, readable only by its owner, unless a
// file is there already, atomically: the data goes to a temporary file
// first, linked into place only if path does not exist, so a file another
// process wrote meanwhile wins and no reader sees half a file. It creates
// path's directory (0700) and reports whether it wrote the file.
func writePrivateOnce(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*") // mode 0600
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return false, fmt.Errorf("write %s: %w", path, werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

// validClangTarget reports whether t may be a --target value: a triple such
// as aarch64-linux-gnu, nothing clang could read as another option.
func validClangTarget(t string) bool {
	if t == "" || t[0] == '-' || len(t) > 128 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
