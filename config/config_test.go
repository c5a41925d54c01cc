package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mitchellh/go-homedir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envOf returns an environment lookup over m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// writeConfig writes content as dir's config file.
func writeConfig(t *testing.T, dir, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(FilePath(dir), []byte(content), 0o644))
}

func TestDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent") // no directory, no file
	c, err := LoadFrom(dir, envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, dir, c.Dir)
	assert.Equal(t, int64(5<<30), c.MaxSize)
	assert.Equal(t, 10*time.Minute, c.IdleTimeout)
	assert.True(t, c.DirectMode)
	assert.False(t, c.Disable)
	assert.Equal(t, slog.LevelWarn, c.LogLevel)
	assert.False(t, c.Remote)
	assert.Empty(t, c.Token)
	assert.Equal(t, 2*time.Second, c.ConnectTimeout)
	assert.Equal(t, 10*time.Second, c.SendTimeout)
	assert.Equal(t, 5*time.Minute, c.RecvTimeout)
	assert.Equal(t, int64(4096), c.LocalThreshold)
	assert.True(t, c.RerunRemoteErrors)
	assert.Empty(t, c.Hosts)
	for _, s := range c.Settings() {
		assert.Equal(t, "default", s.Source, s.Key)
	}
	assert.NoDirExists(t, dir, "loading creates nothing")
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, c *Config)
	}{
		{"size string", `max_size = "10GiB"`, func(t *testing.T, c *Config) { assert.Equal(t, int64(10<<30), c.MaxSize) }},
		{"size decimal unit", `max_size = "500M"`, func(t *testing.T, c *Config) { assert.Equal(t, int64(500e6), c.MaxSize) }},
		{"size integer", `max_size = 1048576`, func(t *testing.T, c *Config) { assert.Equal(t, int64(1<<20), c.MaxSize) }},
		{"idle timeout", `idle_timeout = "90s"`, func(t *testing.T, c *Config) { assert.Equal(t, 90*time.Second, c.IdleTimeout) }},
		{"direct mode off", `direct_mode = false`, func(t *testing.T, c *Config) { assert.False(t, c.DirectMode) }},
		{"disable", `disable = true`, func(t *testing.T, c *Config) { assert.True(t, c.Disable) }},
		{"log level", `log_level = "DEBUG"`, func(t *testing.T, c *Config) { assert.Equal(t, slog.LevelDebug, c.LogLevel) }},
		{"comments and blank lines", "# dcc\n\nlog_level = 'error' # quiet\n", func(t *testing.T, c *Config) {
			assert.Equal(t, slog.LevelError, c.LogLevel)
			assert.True(t, c.DirectMode)
		}},
		{"empty file", "", func(t *testing.T, c *Config) { assert.Equal(t, int64(5<<30), c.MaxSize) }},
		{"remote", `remote = true`, func(t *testing.T, c *Config) { assert.True(t, c.Remote) }},
		{"token", `token = " s3cret "`, func(t *testing.T, c *Config) { assert.Equal(t, "s3cret", c.Token) }},
		{"timeouts", "connect_timeout = \"500ms\"\nsend_timeout = \"1m\"\nrecv_timeout = \"1h\"\n", func(t *testing.T, c *Config) {
			assert.Equal(t, 500*time.Millisecond, c.ConnectTimeout)
			assert.Equal(t, time.Minute, c.SendTimeout)
			assert.Equal(t, time.Hour, c.RecvTimeout)
		}},
		{"threshold integer", `local_threshold = 8192`, func(t *testing.T, c *Config) { assert.Equal(t, int64(8192), c.LocalThreshold) }},
		{"threshold size", `local_threshold = "16Ki"`, func(t *testing.T, c *Config) { assert.Equal(t, int64(16384), c.LocalThreshold) }},
		{"threshold zero", `local_threshold = 0`, func(t *testing.T, c *Config) { assert.Zero(t, c.LocalThreshold) }},
		{"no rerun", `rerun_remote_errors = false`, func(t *testing.T, c *Config) { assert.False(t, c.RerunRemoteErrors) }},
		{"sources for debug units", `remote_sources = "debug"`, func(t *testing.T, c *Config) { assert.Equal(t, "debug", c.RemoteSources) }},
		{"remote storage", `remote_storage = "redis://:pw@cache:6379/1|read-only file:/mnt/cache"`, func(t *testing.T, c *Config) {
			assert.Equal(t, "redis://:pw@cache:6379/1|read-only file:/mnt/cache", c.RemoteStorage)
			s, err := c.Get("remote_storage")
			require.NoError(t, err)
			assert.Equal(t, "redis://:xxxxx@cache:6379/1|read-only file:/mnt/cache", s.Value, "shown without its password")
		}},
		{"team key and base dir", "remote_storage_key = \"0123456789abcdef\"\nbase_dir = \"/home/\"\n", func(t *testing.T, c *Config) {
			assert.Equal(t, "0123456789abcdef", c.RemoteStorageKey)
			assert.Equal(t, "/home", c.BaseDir)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, tt.file)
			c, err := LoadFrom(dir, envOf(nil))
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "max_size = \"1G\"\nidle_timeout = \"1m\"\ndirect_mode = false\n")
	c, err := LoadFrom(dir, envOf(map[string]string{
		"DCC_MAX_SIZE":    "2G", // env beats file
		"DCC_DIRECT_MODE": "",   // empty counts as unset: the file's value stays
		"DCC_DISABLE":     "1",  // env beats default
	}))
	require.NoError(t, err)
	assert.Equal(t, int64(2e9), c.MaxSize)
	assert.Equal(t, time.Minute, c.IdleTimeout)
	assert.False(t, c.DirectMode)
	assert.True(t, c.Disable)
	file := "file " + FilePath(dir)
	assert.Equal(t, []Setting{
		{"max_size", "2G", "env DCC_MAX_SIZE"},
		{"idle_timeout", "1m0s", file},
		{"direct_mode", "false", file},
		{"depend_mode", "true", "default"},
		{"bypass_driver", "true", "default"},
		{"disable", "true", "env DCC_DISABLE"},
		{"log_level", "warn", "default"},
		{"remote", "false", "default"},
		{"token", "not set", "default"},
		{"connect_timeout", "2s", "default"},
		{"send_timeout", "10s", "default"},
		{"recv_timeout", "5m0s", "default"},
		{"liveness_timeout", "2s", "default"},
		{"local_jobs", "auto", "default"},
		{"local_threshold", "4KiB", "default"},
		{"rerun_remote_errors", "true", "default"},
		{"ship_toolchains", "true", "default"},
		{"remote_sources", "all", "default"},
		{"remote_storage", "", "default"},
		{"remote_storage_key", "not set", "default"},
		{"base_dir", "", "default"},
	}, c.Settings())
}

func TestEnvValues(t *testing.T) {
	tests := []struct {
		env, value string
		check      func(t *testing.T, c *Config)
	}{
		{"DCC_DIRECT_MODE", "0", func(t *testing.T, c *Config) { assert.False(t, c.DirectMode) }},
		{"DCC_DIRECT_MODE", "false", func(t *testing.T, c *Config) { assert.False(t, c.DirectMode) }},
		{"DCC_DEPEND_MODE", "0", func(t *testing.T, c *Config) { assert.False(t, c.DependMode) }},
		{"DCC_BYPASS_DRIVER", "false", func(t *testing.T, c *Config) { assert.False(t, c.BypassDriver) }},
		{"DCC_DISABLE", "true", func(t *testing.T, c *Config) { assert.True(t, c.Disable) }},
		{"DCC_IDLE_TIMEOUT", "1h30m", func(t *testing.T, c *Config) { assert.Equal(t, 90*time.Minute, c.IdleTimeout) }},
		{"DCC_LOG_LEVEL", "info", func(t *testing.T, c *Config) { assert.Equal(t, slog.LevelInfo, c.LogLevel) }},
		{"DCC_MAX_SIZE", "3GiB", func(t *testing.T, c *Config) { assert.Equal(t, int64(3<<30), c.MaxSize) }},
		{"DCC_REMOTE", "1", func(t *testing.T, c *Config) { assert.True(t, c.Remote) }},
		{"DCC_TOKEN", "tok", func(t *testing.T, c *Config) { assert.Equal(t, "tok", c.Token) }},
		{"DCC_CONNECT_TIMEOUT", "3s", func(t *testing.T, c *Config) { assert.Equal(t, 3*time.Second, c.ConnectTimeout) }},
		{"DCC_SEND_TIMEOUT", "4s", func(t *testing.T, c *Config) { assert.Equal(t, 4*time.Second, c.SendTimeout) }},
		{"DCC_RECV_TIMEOUT", "6m", func(t *testing.T, c *Config) { assert.Equal(t, 6*time.Minute, c.RecvTimeout) }},
		{"DCC_LOCAL_THRESHOLD", "0", func(t *testing.T, c *Config) { assert.Zero(t, c.LocalThreshold) }},
		{"DCC_RERUN_REMOTE_ERRORS", "false", func(t *testing.T, c *Config) { assert.False(t, c.RerunRemoteErrors) }},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			c, err := LoadFrom(t.TempDir(), envOf(map[string]string{tt.env: tt.value}))
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		kind    error
		wantMsg string // the whole message after the directory
	}{
		{"syntax", "max_size = \"1G\"\nthis is not toml\n", nil, ErrSyntax,
			"config.toml:2: not valid TOML: expected '=' after key"},
		{"unquoted string", "log_level = debug\n", nil, ErrSyntax, "config.toml:1: not valid TOML:"},
		{"duplicate key", "disable = true\ndisable = false\n", nil, ErrSyntax, "config.toml:2: not valid TOML: key disable is already defined"},
		{"unknown key", "# c\nmax_size = \"1G\"\ncpp_threshold = 4096\n", nil, ErrUnknownKey,
			`config.toml:3: unknown key "cpp_threshold" (known: max_size, idle_timeout, direct_mode, depend_mode, bypass_driver, disable, log_level, remote, token, connect_timeout, send_timeout, recv_timeout, liveness_timeout, local_jobs, local_threshold, rerun_remote_errors, ship_toolchains, remote_sources, remote_storage, remote_storage_key, base_dir)`},
		{"unknown table", "[servers]\nconnect = \"x\"\n", nil, ErrUnknownKey, `config.toml:1: unknown key "servers"`},
		{"bad size", "\n\nmax_size = \"lots\"\n", nil, ErrInvalid, `config.toml:3: max_size: invalid size "lots"`},
		{"zero size", "max_size = 0\n", nil, ErrInvalid, `config.toml:1: max_size: invalid size "0": must be more than zero`},
		{"size float", "max_size = 1.5\n", nil, ErrInvalid, `config.toml:1: max_size: want a string such as "5G" or an integer number of bytes, not a float`},
		{"bool as string", "direct_mode = \"yes\"\n", nil, ErrInvalid, "config.toml:1: direct_mode: want true or false, not a string"},
		{"bool as int", "disable = 1\n", nil, ErrInvalid, "config.toml:1: disable: want true or false, not an integer"},
		{"duration as int", "idle_timeout = 600\n", nil, ErrInvalid, "config.toml:1: idle_timeout: want a string, not an integer"},
		{"bad duration", "idle_timeout = \"ten minutes\"\n", nil, ErrInvalid, `config.toml:1: idle_timeout: invalid duration "ten minutes"`},
		{"negative duration", "idle_timeout = \"-1m\"\n", nil, ErrInvalid, `config.toml:1: idle_timeout: invalid duration "-1m": must be more than zero`},
		{"bad level", "log_level = \"loud\"\n", nil, ErrInvalid, `config.toml:1: log_level: invalid log level "loud": want debug, info, warn or error`},
		{"level as table", "log_level = {a = 1}\n", nil, ErrInvalid, "config.toml:1: log_level: want a string, not a table"},
		{"env size", "", map[string]string{"DCC_MAX_SIZE": "huge"}, ErrInvalid, `$DCC_MAX_SIZE: max_size: invalid size "huge"`},
		{"env bool", "", map[string]string{"DCC_DISABLE": "yes"}, ErrInvalid, `$DCC_DISABLE: disable: invalid boolean "yes"`},
		{"env duration", "", map[string]string{"DCC_IDLE_TIMEOUT": "5"}, ErrInvalid, `$DCC_IDLE_TIMEOUT: idle_timeout: invalid duration "5"`},
		{"env level", "", map[string]string{"DCC_LOG_LEVEL": "trace"}, ErrInvalid, `$DCC_LOG_LEVEL: log_level: invalid log level "trace"`},
		{"negative threshold", "local_threshold = -1\n", nil, ErrInvalid, `config.toml:1: local_threshold: invalid size "-1"`},
		{"remote as string", "remote = \"on\"\n", nil, ErrInvalid, "config.toml:1: remote: want true or false, not a string"},
		{"bad storage", "remote_storage = \"redis://:hunter2@cache:6379 ftp://x\"\n", nil, ErrInvalid,
			`config.toml:1: remote_storage: remote_storage "ftp://x": unknown storage "ftp": want one of file, redis, redis+unix, http, https, s3, dcc`},
		{"storage password hidden", "", map[string]string{"DCC_REMOTE_STORAGE": "redis://:hunter2@cache:6379|bogus"}, ErrInvalid,
			`$DCC_REMOTE_STORAGE: remote_storage: remote_storage "redis://:xxxxx@cache:6379|bogus": attribute "bogus": unknown: want read-only, connect-timeout, operation-timeout, layout, bearer-token or shards`},
		{"short team key", "remote_storage_key = \"abc\"\n", nil, ErrInvalid, "config.toml:1: remote_storage_key: too short: at least 16 characters (3 given)"},
		{"relative base dir", "base_dir = \"src\"\n", nil, ErrInvalid, `config.toml:1: base_dir: invalid value "src": want an absolute directory`},
		{"bad remote_sources", "remote_sources = \"some\"\n", nil, ErrInvalid, `config.toml:1: remote_sources: invalid value "some": want all, debug or off`},
		{"env remote_sources", "", map[string]string{"DCC_REMOTE_SOURCES": "yes"}, ErrInvalid, `$DCC_REMOTE_SOURCES: remote_sources: invalid value "yes": want all, debug or off`},
		{"token as int", "token = 5\n", nil, ErrInvalid, "config.toml:1: token: want a string, not an integer"},
		{"bad local_jobs", "local_jobs = \"0\"\n", nil, ErrInvalid, `config.toml:1: local_jobs: invalid value "0": want auto or a number of compiles from 1 to 4096`},
		{"bad liveness_timeout", "liveness_timeout = \"soon\"\n", nil, ErrInvalid, `config.toml:1: liveness_timeout: invalid duration "soon"`},
		{"zero timeout", "recv_timeout = \"0s\"\n", nil, ErrInvalid, `config.toml:1: recv_timeout: invalid duration "0s": must be more than zero`},
		{"env timeout", "", map[string]string{"DCC_CONNECT_TIMEOUT": "fast"}, ErrInvalid, `$DCC_CONNECT_TIMEOUT: connect_timeout: invalid duration "fast"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, tt.file)
			_, err := LoadFrom(dir, envOf(tt.env))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			msg := err.Error()
			assert.NotContains(t, msg, "\n")
			if tt.env == nil {
				assert.Contains(t, msg, FilePath(dir)+":", "names the file")
			}
			assert.Contains(t, msg, tt.wantMsg)
		})
	}
}

func TestUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(FilePath(dir), 0o755)) // a directory where the file should be
	_, err := LoadFrom(dir, envOf(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read config file")
}

func TestDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	homedir.Reset()
	t.Cleanup(homedir.Reset)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, filepath.Join(home, ".dcc")},
		{"empty DCC_DIR", map[string]string{"DCC_DIR": ""}, filepath.Join(home, ".dcc")},
		{"absolute", map[string]string{"DCC_DIR": "/srv/dcc"}, "/srv/dcc"},
		{"relative", map[string]string{"DCC_DIR": "rel"}, filepath.Join(mustGetwd(t), "rel")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Dir(envOf(tt.env))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DCC_DIR", dir)
	t.Setenv("DCC_LOG_LEVEL", "debug")
	writeConfig(t, dir, "disable = true\n")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, dir, c.Dir)
	assert.True(t, c.Disable)
	assert.Equal(t, slog.LevelDebug, c.LogLevel)
}

func TestPathsAndGet(t *testing.T) {
	c, err := LoadFrom("/d", envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, "/d/config.toml", c.FilePath())
	assert.Equal(t, "/d/daemon.sock", c.SocketPath())
	assert.Equal(t, "/d/daemon.lock", c.LockPath())
	assert.Equal(t, "/d/cache", c.CachePath())
	assert.Equal(t, "/d/stats.json", c.StatsPath())
	assert.Equal(t, "/d/daemon.log", c.LogPath())

	s, err := c.Get("idle_timeout")
	require.NoError(t, err)
	assert.Equal(t, Setting{"idle_timeout", "10m0s", "default"}, s)
	_, err = c.Get("nope")
	assert.ErrorIs(t, err, ErrUnknownKey)
}

// Every key has a field in fileValues, and every default is valid.
func TestKeyTable(t *testing.T) {
	fv := fileValues{}
	fields := fv.byKey()
	assert.Len(t, fields, len(keys))
	for _, k := range keys {
		assert.Contains(t, fields, k.name)
		c := &Config{}
		require.NoError(t, k.parse(c, k.def), k.name)
		// show gives text parse reads back to the same value.
		again := &Config{}
		require.NoError(t, k.parse(again, k.show(c)), k.name)
		assert.Equal(t, k.show(c), k.show(again), k.name)
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	return wd
}
