package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	homedir "github.com/mitchellh/go-homedir"
)

// ConfigFileName is the server's config file inside the dcc directory.
const ConfigFileName = "server.conf"

// TLSFileName is the file of the server's TLS key and certificate inside the
// dcc directory.
const TLSFileName = "server-tls.pem"

// Defaults and limits of the configuration.
const (
	// DefaultListen is the address dcc-server listens on.
	DefaultListen = "0.0.0.0:9693"
	// DefaultJobTimeout bounds one compile.
	DefaultJobTimeout = 5 * time.Minute
	// DefaultCacheMaxSize bounds the server's caches (results and shared entries).
	DefaultCacheMaxSize = 10 << 30
	// MaxJobs bounds the jobs setting.
	MaxJobs = 4096
	// MinTokenLen is the shortest token accepted: tokens are secrets.
	MinTokenLen = 16
	// DefaultToolchainMaxSize bounds the toolchains clients ship to a host.
	DefaultToolchainMaxSize = 4 << 30
	// minToolchainMaxSize is the smallest toolchain_max_size but 0 accepted.
	minToolchainMaxSize = 64 << 20
	// minCacheMaxSize is the smallest cache_max_size accepted.
	minCacheMaxSize = 16 << 20
	// maxJobTimeout bounds job_timeout.
	maxJobTimeout = 24 * time.Hour
	// tokenBytes is the size of a generated token before hex encoding.
	tokenBytes = 32
)

// DefaultAllow lists the client networks accepted by default: loopback and the
// private ranges (RFC 1918 and IPv6 unique local addresses), where the
// machines of a team's compile farm live. Public addresses are refused unless
// the config lists them; every client still needs a token.
var DefaultAllow = []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}

// Config is dcc-server's configuration, read from its config file and then
// overridden by command-line flags. Tokens are secrets: never log a Config.
type Config struct {
	// File is the config file the values were read from.
	File string
	// Listen is the TCP address to listen on, "HOST:PORT".
	Listen string
	// HTTP is the address of the status page and metrics (plain HTTP,
	// "HOST:PORT"); "" serves none.
	HTTP string
	// Workdir holds the per-job directories.
	Workdir string
	// TreeDir holds the trees of jobs compiled from their sources; "" means
	// a private directory under /dev/shm when there is one, else Workdir.
	TreeDir string
	// Logfile receives the log when running as a daemon.
	Logfile string
	// Pidfile holds the daemon's process id.
	Pidfile string
	// Jobs is how many compiles run at once.
	Jobs int
	// JobTimeout bounds one compile.
	JobTimeout time.Duration
	// Tokens are the accepted tokens; a client must know one of them.
	Tokens []string
	// Allow lists the client networks that may connect.
	Allow []netip.Prefix
	// Toolchains are compilers served besides gcc, g++, clang and clang++ on PATH.
	Toolchains []string
	// ClangTargets are the --target values each clang served also compiles
	// for, each served under its own identity (config key clang_targets).
	ClangTargets []string
	// CacheDir holds the result cache and the shared cache (Badger).
	CacheDir string
	// CacheMaxSize bounds the caches, in bytes; least-recently-used entries go first.
	CacheMaxSize int64
	// Plaintext serves plain TCP instead of TLS (tls = "off"): clients must
	// then be configured for it too.
	Plaintext bool
	// TLSFile holds the host's TLS key and self-signed certificate (PEM),
	// made on first use; clients pin the key's fingerprint.
	TLSFile string
	// Sandbox is how jobs are confined.
	Sandbox SandboxConfig
	// ToolchainDir keeps the toolchains clients ship (server/toolstore).
	// A server running as root that its config does not set it for
	// (ToolchainDirSet false) uses SharedToolchainDir instead, which the
	// job user can reach.
	ToolchainDir    string
	ToolchainDirSet bool
	// ToolchainMaxSize bounds them, in bytes; 0 takes no shipped toolchain.
	// Shipped toolchains run only in the sandbox.
	ToolchainMaxSize int64
}

// Dir returns the dcc directory: $DCC_DIR, or ~/.dcc.
func Dir() (string, error) {
	if d := os.Getenv("DCC_DIR"); d != "" {
		d, err := homedir.Expand(d)
		if err != nil {
			return "", fmt.Errorf("DCC_DIR: %w", err)
		}
		return filepath.Abs(d)
	}
	home, err := homedir.Dir()
	if err != nil {
		return "", fmt.Errorf("find the home directory for ~/.dcc: %w", err)
	}
	return filepath.Join(home, ".dcc"), nil
}

// DefaultConfig returns the defaults for a server whose dcc directory is
// dccDir, without tokens.
func DefaultConfig(dccDir string) *Config {
	c := &Config{
		File:             filepath.Join(dccDir, ConfigFileName),
		Listen:           DefaultListen,
		Workdir:          filepath.Join(dccDir, "server-work"),
		Logfile:          filepath.Join(dccDir, "server.log"),
		Pidfile:          filepath.Join(dccDir, "server.pid"),
		Jobs:             runtime.NumCPU(),
		JobTimeout:       DefaultJobTimeout,
		CacheDir:         filepath.Join(dccDir, "server-cache"),
		CacheMaxSize:     DefaultCacheMaxSize,
		ToolchainDir:     filepath.Join(dccDir, "server-toolchains"),
		ToolchainMaxSize: DefaultToolchainMaxSize,
		TLSFile:          filepath.Join(dccDir, TLSFileName),
		Sandbox:          defaultSandbox(),
	}
	for _, s := range DefaultAllow {
		c.Allow = append(c.Allow, netip.MustParsePrefix(s))
	}
	return c
}

// NewToken returns a fresh random token: 32 bytes from crypto/rand, in hex.
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Overrides are command-line values that replace the file's for one run.
// Zero fields change nothing.
type Overrides struct {
	// Listen replaces listen.
	Listen string
	// HTTP replaces http.
	HTTP string
	// Jobs replaces jobs.
	Jobs int
	// Token is accepted in addition to the file's tokens.
	Token string
	// Workdir replaces workdir.
	Workdir string
}

// Apply sets the overrides in c, checking each; an error names the flag.
func (c *Config) Apply(o Overrides) error {
	if o.Listen != "" {
		if err := checkListen(o.Listen); err != nil {
			return fmt.Errorf("--listen %s: %w", o.Listen, err)
		}
		c.Listen = o.Listen
	}
	if o.HTTP != "" {
		if err := checkListen(o.HTTP); err != nil {
			return fmt.Errorf("--http %s: %w", o.HTTP, err)
		}
		c.HTTP = o.HTTP
	}
	if o.Jobs != 0 {
		if err := checkJobs(int64(o.Jobs)); err != nil {
			return fmt.Errorf("--jobs %d: %w", o.Jobs, err)
		}
		c.Jobs = o.Jobs
	}
	if o.Token != "" {
		if err := checkToken(o.Token); err != nil {
			return fmt.Errorf("--token: %w", err)
		}
		c.Tokens = append(c.Tokens, o.Token)
	}
	if o.Workdir != "" {
		dir, err := absPath(o.Workdir, "")
		if err == nil {
			err = checkWorkdir(dir)
		}
		if err != nil {
			return fmt.Errorf("--workdir %s: %w", o.Workdir, err)
		}
		c.Workdir = dir
	}
	return nil
}

// checkListen checks a "HOST:PORT" address.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want HOST:PORT: %w", err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// checkJobs checks the number of compiles run at once.
func checkJobs(n int64) error {
	if n < 1 || n > MaxJobs {
		return fmt.Errorf("want a number of jobs from 1 to %d", MaxJobs)
	}
	return nil
}

// checkToken checks one accepted token (without showing it).
func checkToken(t string) error {
	if len(t) < MinTokenLen {
		return fmt.Errorf("a token must be at least %d characters", MinTokenLen)
	}
	if strings.IndexFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("a token must not contain spaces or control characters")
	}
	return nil
}

// checkWorkdir checks the job directory's parent: jobs put its path in
// -fdebug-prefix-map=OLD=NEW, where OLD cannot hold '='.
func checkWorkdir(dir string) error {
	if strings.ContainsAny(dir, "=\n\x00") {
		return fmt.Errorf("the path must not contain '=' or a line break")
	}
	return nil
}

// absPath expands ~ and makes path absolute, relative to base when it is not
// empty, else to the working directory.
func absPath(path, base string) (string, error) {
	p, err := homedir.Expand(path)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) && base != "" {
		p = filepath.Join(base, p)
	}
	return filepath.Abs(p)
}

// ShowHost returns the address clients should connect to: the listen
// address, with this machine's name when it listens on every interface.
func (c *Config) ShowHost() string {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return c.Listen
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}

// PrintFirstRun tells, once, how clients use this server: the token the first
// run generated and the host line for DCC_HOSTS or the client's config, with
// the fingerprint clients pin (or plaintext when the server has TLS off).
func (c *Config) PrintFirstRun(w io.Writer, token, fingerprint string) {
	addr := c.ShowHost()
	env, toml := ",fingerprint="+fingerprint, fmt.Sprintf("  fingerprint = %q\n", fingerprint)
	if c.Plaintext {
		env, toml = ",plaintext", "  plaintext = true\n"
	}
	fmt.Fprintf(w, "dcc-server: first run: wrote %s with a new token (this is the only time it is printed).\n", c.File)
	fmt.Fprintf(w, "Clients use this server with\n  DCC_TOKEN=%s DCC_HOSTS=\"%s/%d%s\"\n", token, addr, c.Jobs, env)
	fmt.Fprintf(w, "or these lines in their ~/.dcc/config.toml:\n  [[hosts]]\n  connect = %q\n  token = %q\n  njob = %d\n%s", addr, token, c.Jobs, toml)
}
