package server

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	homedir "github.com/mitchellh/go-homedir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigFirstRunWritesFileWithToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigFileName)
	cfg, created, err := LoadConfig(path, dir)
	require.NoError(t, err)
	assert.True(t, created)
	require.Len(t, cfg.Tokens, 1)
	assert.Regexp(t, `^[0-9a-f]{64}$`, cfg.Tokens[0])
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the file holds the token")

	assert.Equal(t, DefaultListen, cfg.Listen)
	assert.Equal(t, filepath.Join(dir, "server-work"), cfg.Workdir)
	assert.Equal(t, filepath.Join(dir, "server.log"), cfg.Logfile)
	assert.Equal(t, filepath.Join(dir, "server.pid"), cfg.Pidfile)
	assert.Equal(t, filepath.Join(dir, "server-cache"), cfg.CacheDir)
	assert.Equal(t, runtime.NumCPU(), cfg.Jobs)
	assert.Equal(t, DefaultJobTimeout, cfg.JobTimeout)
	assert.Equal(t, int64(DefaultCacheMaxSize), cfg.CacheMaxSize)
	assert.Contains(t, cfg.Allow, netip.MustParsePrefix("127.0.0.0/8"))
	assert.Contains(t, cfg.Allow, netip.MustParsePrefix("::1/128"))

	var out bytes.Buffer
	fp := "sha256:" + strings.Repeat("ab", 32)
	cfg.PrintFirstRun(&out, cfg.Tokens[0], fp)
	assert.Contains(t, out.String(), "DCC_TOKEN="+cfg.Tokens[0]+` DCC_HOSTS="`)
	assert.Regexp(t, `DCC_HOSTS="\S+/\d+,fingerprint=`+fp+`"`, out.String())
	assert.Contains(t, out.String(), `token = "`+cfg.Tokens[0]+`"`)
	assert.Contains(t, out.String(), `fingerprint = "`+fp+`"`)
	assert.Contains(t, out.String(), path)
	assert.False(t, cfg.Plaintext, "TLS by default")
	assert.Equal(t, filepath.Join(dir, TLSFileName), cfg.TLSFile)
	out.Reset()
	cfg.Plaintext = true
	cfg.PrintFirstRun(&out, cfg.Tokens[0], "")
	assert.Regexp(t, `DCC_HOSTS="\S+/\d+,plaintext"`, out.String())
	assert.Contains(t, out.String(), "plaintext = true")
	cfg.Plaintext = false

	// The second run reads the same file, token included.
	again, created, err := LoadConfig(path, dir)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, cfg.Tokens, again.Tokens)
	assert.Equal(t, cfg, again)
}

func TestConfigFirstRunTokensDiffer(t *testing.T) {
	a, _, err := LoadConfig(filepath.Join(t.TempDir(), ConfigFileName), t.TempDir())
	require.NoError(t, err)
	b, _, err := LoadConfig(filepath.Join(t.TempDir(), ConfigFileName), t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, a.Tokens[0], b.Tokens[0])
}

func TestConfigReadsEveryKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "etc", "server.conf")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	text := `listen = "127.0.0.2:7000"
workdir = "work"
logfile = "/var/log/dcc.log"
pidfile = "/run/dcc.pid"
jobs = 3
job_timeout = "90s"
tokens = ["0123456789abcdef0123", "another-long-token-value"]
allow = ["10.1.0.0/16", "192.168.1.7", "fd00::/8"]
toolchains = ["/opt/gcc-13/bin/gcc", "clang-15", "tools/cc"]
cache_dir = "~/cache"
cache_max_size = "2GiB"
tree_dir = "/dev/shm/trees"
toolchain_dir = "shipped"
toolchain_max_size = "1GiB"
tls = "off"
tls_file = "tls/key.pem"
sandbox = "off"
bwrap = "/usr/local/bin/bwrap"
user = "dcc-job"
job_cpu = "2m"
job_memory = "2GiB"
job_file_size = "256MiB"
job_processes = 32
`
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	home, err := homedir.Dir()
	require.NoError(t, err)
	cfg, created, err := LoadConfig(path, dir)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, &Config{
		File:       path,
		Listen:     "127.0.0.2:7000",
		Workdir:    filepath.Join(dir, "etc", "work"),
		Logfile:    "/var/log/dcc.log",
		Pidfile:    "/run/dcc.pid",
		Jobs:       3,
		JobTimeout: 90 * time.Second,
		Tokens:     []string{"0123456789abcdef0123", "another-long-token-value"},
		Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("192.168.1.7/32"),
			netip.MustParsePrefix("fd00::/8")},
		Toolchains:   []string{"/opt/gcc-13/bin/gcc", "clang-15", filepath.Join(dir, "etc", "tools", "cc")},
		CacheDir:     filepath.Join(home, "cache"),
		CacheMaxSize: 2 << 30,
		TreeDir:      "/dev/shm/trees",
		Plaintext:    true,
		TLSFile:      filepath.Join(dir, "etc", "tls", "key.pem"),
		Sandbox: SandboxConfig{Off: true, Bwrap: "/usr/local/bin/bwrap", User: "dcc-job", CPU: 2 * time.Minute,
			Memory: 2 << 30, FileSize: 256 << 20, Processes: 32},
		ToolchainDir:     filepath.Join(dir, "etc", "shipped"),
		ToolchainDirSet:  true,
		ToolchainMaxSize: 1 << 30,
	}, cfg)
}

func TestConfigMalformedNamesFileAndLine(t *testing.T) {
	const tok = `tokens = ["0123456789abcdef0123"]` + "\n"
	tests := []struct {
		name, text string
		line       int
		want       string
	}{
		{"not TOML", tok + "listen = \n", 2, "not valid TOML"},
		{"unknown key", tok + "\nport = 9693\n", 3, `unknown key "port"`},
		{"unknown table", tok + "[hosts]\nconnect = 1\n", 2, `unknown key "hosts`},
		{"jobs wrong type", tok + `jobs = "four"` + "\n", 2, "jobs: wrong type: TOML string where an integer belongs"},
		{"jobs zero", tok + "jobs = 0\n", 2, "jobs: want a number of jobs from 1 to 4096"},
		{"jobs too many", "jobs = 99999\n" + tok, 1, "jobs: want a number of jobs"},
		{"listen without port", tok + `listen = "0.0.0.0"` + "\n", 2, "listen: want HOST:PORT"},
		{"listen bad port", tok + `listen = "0.0.0.0:http"` + "\n", 2, `listen: port "http"`},
		{"listen not string", tok + "listen = 9693\n", 2, "listen: wrong type: TOML integer where a string belongs"},
		{"job_timeout", tok + `job_timeout = "5 minutes"` + "\n", 2, "job_timeout: want a duration"},
		{"job_timeout negative", tok + `job_timeout = "-1s"` + "\n", 2, "job_timeout: want a duration"},
		{"no tokens", "jobs = 2\n", 0, "tokens: no token"},
		{"empty tokens", "tokens = []\n", 1, "tokens: no token"},
		{"short token", `tokens = ["short"]` + "\n", 1, "tokens: token 1: a token must be at least 16 characters"},
		{"token with space", `tokens = ["0123456789abcdef0123", "with a space in the token"]` + "\n", 1, "tokens: token 2: a token must not contain spaces"},
		{"tokens not list", `tokens = "0123456789abcdef0123"` + "\n", 1, "tokens: wrong type"},
		{"allow bad", tok + `allow = ["10.0.0.0/33"]` + "\n", 2, `allow: "10.0.0.0/33" is not a network`},
		{"allow empty", tok + "allow = []\n", 2, "allow: empty"},
		{"tree_dir empty", tok + `tree_dir = ""` + "\n", 2, "tree_dir: want a path"},
		{"tree_dir with an equals sign", tok + `tree_dir = "/tmp/a=b"` + "\n", 2, "tree_dir: the path must not contain '='"},
		{"cache size", tok + `cache_max_size = "lots"` + "\n", 2, `cache_max_size: "lots" is not a size`},
		{"cache size small", tok + "cache_max_size = 1024\n", 2, "cache_max_size: 1KiB is below the minimum"},
		{"cache size bool", tok + "cache_max_size = true\n", 2, "cache_max_size: want a size"},
		{"workdir with =", tok + `workdir = "/tmp/a=b"` + "\n", 2, "workdir: the path must not contain '='"},
		{"empty logfile", tok + `logfile = ""` + "\n", 2, "logfile: want a path"},
		{"empty toolchain", tok + `toolchains = [""]` + "\n", 2, "toolchains: an empty compiler path"},
		{"tls neither on nor off", tok + `tls = "maybe"` + "\n", 2, `tls: want "on" or "off", not maybe`},
		{"tls a number", tok + "tls = 1\n", 2, `tls: want "on" or "off"`},
		{"empty tls_file", tok + `tls_file = ""` + "\n", 2, "tls_file: want a path"},
		{"sandbox word", tok + `sandbox = "maybe"` + "\n", 2, `sandbox: want "on" or "off", not "maybe"`},
		{"sandbox number", tok + "sandbox = 0\n", 2, `sandbox: want "on" or "off"`},
		{"user root", tok + `user = "root"` + "\n", 2, `user: want an unprivileged user, not "root"`},
		{"bwrap empty", tok + `bwrap = ""` + "\n", 2, "bwrap: want a program"},
		{"job_cpu", tok + `job_cpu = "10ms"` + "\n", 2, "job_cpu: want a duration from 1s"},
		{"job_memory small", tok + `job_memory = "1MiB"` + "\n", 2, "job_memory: 1MiB is below the minimum of 64MiB"},
		{"job_file_size", tok + `job_file_size = "big"` + "\n", 2, `job_file_size: "big" is not a size`},
		{"job_processes", tok + "job_processes = 1\n", 2, "job_processes: want a number from 4 to 65536, not 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ConfigFileName)
			require.NoError(t, os.WriteFile(path, []byte(tt.text), 0o600))
			_, _, err := LoadConfig(path, dir)
			require.Error(t, err)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "%T", err)
			assert.Equal(t, tt.line, ce.Line)
			where := path + ":"
			if tt.line == 0 {
				where = path + ": "
			}
			assert.True(t, strings.HasPrefix(err.Error(), where), err.Error())
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestConfigOverrides(t *testing.T) {
	dir := t.TempDir()
	cfg, _, err := LoadConfig(filepath.Join(dir, ConfigFileName), dir)
	require.NoError(t, err)
	fileToken := cfg.Tokens[0]
	require.NoError(t, cfg.Apply(Overrides{Listen: "127.0.0.2:0", Jobs: 7, Token: "token-from-the-command-line", Workdir: "~/w"}))
	home, err := homedir.Dir()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.2:0", cfg.Listen)
	assert.Equal(t, 7, cfg.Jobs)
	assert.Equal(t, []string{fileToken, "token-from-the-command-line"}, cfg.Tokens)
	assert.Equal(t, filepath.Join(home, "w"), cfg.Workdir)

	// Zero overrides change nothing.
	before := *cfg
	require.NoError(t, cfg.Apply(Overrides{}))
	assert.Equal(t, before, *cfg)

	bad := []struct {
		o    Overrides
		want string
	}{
		{Overrides{Listen: "nowhere"}, "--listen nowhere: want HOST:PORT"},
		{Overrides{Jobs: -1}, "--jobs -1: want a number of jobs"},
		{Overrides{Token: "short"}, "--token: a token must be at least 16 characters"},
		{Overrides{Workdir: "/tmp/x=y"}, "--workdir /tmp/x=y: the path must not contain '='"},
	}
	for _, b := range bad {
		err := cfg.Apply(b.o)
		require.Error(t, err)
		assert.Contains(t, err.Error(), b.want)
		assert.NotContains(t, err.Error(), "short", "a bad token is not shown")
	}
}

func TestDirFromEnvironmentAndHome(t *testing.T) {
	d := t.TempDir()
	t.Setenv("DCC_DIR", d)
	got, err := Dir()
	require.NoError(t, err)
	assert.Equal(t, d, got)

	home := t.TempDir()
	t.Setenv("DCC_DIR", "")
	t.Setenv("HOME", home)
	homedir.Reset()
	t.Cleanup(homedir.Reset)
	got, err = Dir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(home, ".dcc"), got)
}

func TestParseAndFormatSize(t *testing.T) {
	good := map[string]int64{"10GiB": 10 << 30, "10G": 10 << 30, "10gb": 10 << 30, "500M": 500 << 20,
		"1.5G": 3 << 29, "4096": 4096, "64 KiB": 64 << 10, "1T": 1 << 40, "100B": 100}
	for in, want := range good {
		got, err := ParseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "G", "-1G", "ten", "1Q", "1e400"} {
		_, err := ParseSize(in)
		assert.Error(t, err, in)
	}
	assert.Equal(t, "10GiB", FormatSize(10<<30))
	assert.Equal(t, "1536KiB", FormatSize(1536<<10))
	assert.Equal(t, "100B", FormatSize(100))
}

func TestConfigFileTextRoundTrips(t *testing.T) {
	c := DefaultConfig("/srv/dcc")
	c.Tokens = []string{`odd"token\with-quotes`}
	c.Toolchains = []string{"/opt/gcc/bin/gcc"}
	got, err := ParseConfig("/srv/dcc/server.conf", "/srv/dcc", []byte(c.fileText()))
	require.NoError(t, err)
	assert.Equal(t, c, got)
	assert.Regexp(t, regexp.MustCompile(`(?m)^tokens = \["odd\\"token\\\\with-quotes"\]$`), c.fileText())
}

func TestHostKeyMadeOnceAndKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", TLSFileName)
	a, err := LoadHostKey(path, "h")
	require.NoError(t, err)
	assert.True(t, a.Created)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, a.Fingerprint)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := LoadHostKey(path, "h")
	require.NoError(t, err)
	assert.False(t, b.Created)
	assert.Equal(t, a.Fingerprint, b.Fingerprint, "the key is kept across runs")

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = LoadHostKey(path, "h")
	require.ErrorContains(t, err, "others may read it")
	require.NoError(t, os.WriteFile(path, []byte("not a key"), 0o600))
	_, err = LoadHostKey(path, "h")
	require.ErrorContains(t, err, "remove it to have a new one made")
}
