package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSet(t *testing.T) {
	tests := []struct {
		name       string
		file       *string // nil: no file
		key, value string
		wantFile   string
		wantShown  string // the value Settings shows afterwards
	}{
		{"creates the file", nil, "max_size", "10G", "max_size = '10G'\n", "10G"},
		{"empty file", ptr(""), "log_level", "DEBUG", "log_level = 'debug'\n", "debug"},
		{"replaces in place, keeping comments and other keys",
			ptr("# my settings\nmax_size = \"1G\" # small disk\ndisable = false\n"),
			"max_size", "10GiB",
			"# my settings\nmax_size = '10GiB' # small disk\ndisable = false\n", "10GiB"},
		{"appends a new key", ptr("disable = false\n"), "idle_timeout", "30m",
			"disable = false\nidle_timeout = '30m'\n", "30m0s"},
		{"appends after a last line without newline", ptr("disable = false"), "direct_mode", "0",
			"disable = false\ndirect_mode = false\n", "false"},
		{"bool written as TOML bool", ptr("disable = false\n"), "disable", "TRUE",
			"disable = true\n", "true"},
		{"fixes an invalid value", ptr("max_size = \"lots\"\nlog_level = \"info\"\n"), "max_size", "2G",
			"max_size = '2G'\nlog_level = \"info\"\n", "2G"},
		{"quoted key", ptr("\"max_size\" = 5\n"), "max_size", "5M", "max_size = '5M'\n", "5M"},
		{"remote on before the hosts tables", ptr("disable = false\n\n[[hosts]]\nconnect = \"127.0.0.2\"\n"), "remote", "true",
			"disable = false\nremote = true\n\n[[hosts]]\nconnect = \"127.0.0.2\"\n", "true"},
		{"a host's key is not the global one", ptr("[[hosts]]\nconnect = \"127.0.0.2\"\ntoken = \"h\"\n"), "token", "g",
			"token = 'g'\n[[hosts]]\nconnect = \"127.0.0.2\"\ntoken = \"h\"\n", "set"},
		{"remote off in place", ptr("remote = true # on\n[[hosts]]\nconnect = \"127.0.0.2\"\n"), "remote", "0",
			"remote = false # on\n[[hosts]]\nconnect = \"127.0.0.2\"\n", "false"},
		{"threshold", ptr(""), "local_threshold", "0", "local_threshold = '0'\n", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dcc")
			if tt.file != nil {
				require.NoError(t, os.Mkdir(dir, 0o700))
				writeConfig(t, dir, *tt.file)
			}
			require.NoError(t, Set(dir, tt.key, tt.value))
			got, err := os.ReadFile(FilePath(dir))
			require.NoError(t, err)
			assert.Equal(t, tt.wantFile, string(got))

			c, err := LoadFrom(dir, envOf(nil))
			require.NoError(t, err)
			s, err := c.Get(tt.key)
			require.NoError(t, err)
			assert.Equal(t, tt.wantShown, s.Value)
			assert.Equal(t, "file "+FilePath(dir), s.Source)
			leftovers, err := filepath.Glob(filepath.Join(dir, ".*tmp"))
			require.NoError(t, err)
			assert.Empty(t, leftovers, "no temporary file left behind")
		})
	}
}

// Each key's Settings value, given back to Set, is read back unchanged.
func TestSetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadFrom(dir, envOf(nil))
	require.NoError(t, err)
	for _, s := range c.Settings() {
		if s.Key == "token" || s.Key == "remote_storage_key" {
			continue // shown as "not set", not as a value
		}
		require.NoError(t, Set(dir, s.Key, s.Value), s.Key)
	}
	again, err := LoadFrom(dir, envOf(nil))
	require.NoError(t, err)
	for i, s := range again.Settings() {
		if s.Key == "token" || s.Key == "remote_storage_key" {
			continue
		}
		assert.Equal(t, c.Settings()[i].Value, s.Value, s.Key)
		assert.Equal(t, "file "+FilePath(dir), s.Source, s.Key)
	}
}

func TestSetRefuses(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		key, value string
		kind       error
		wantMsg    string
	}{
		{"malformed file", "max_size = \"1G\"\nnot toml at all\n", "disable", "true", ErrSyntax, "config.toml:2: not valid TOML"},
		{"unknown key in file", "colour = \"blue\"\n", "disable", "true", ErrUnknownKey, `config.toml:1: unknown key "colour"`},
		{"unknown key", "", "colour", "blue", ErrUnknownKey, `unknown key "colour"`},
		{"bad size", "", "max_size", "lots", ErrInvalid, `max_size: invalid size "lots"`},
		{"bad bool", "", "disable", "maybe", ErrInvalid, `disable: invalid boolean "maybe"`},
		{"bad duration", "", "idle_timeout", "0s", ErrInvalid, `idle_timeout: invalid duration "0s": must be more than zero`},
		{"bad level", "", "log_level", "loud", ErrInvalid, `log_level: invalid log level "loud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, tt.file)
			err := Set(dir, tt.key, tt.value)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.NotContains(t, err.Error(), "\n")
			got, err := os.ReadFile(FilePath(dir))
			require.NoError(t, err)
			assert.Equal(t, tt.file, string(got), "the file is left as it was")
		})
	}
}

func TestSetKeepsModeAndSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(t.TempDir(), "real.toml")
	require.NoError(t, os.WriteFile(real, []byte("disable = false\n"), 0o600))
	require.NoError(t, os.Symlink(real, FilePath(dir)))
	require.NoError(t, Set(dir, "disable", "true"))

	st, err := os.Lstat(FilePath(dir))
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, st.Mode().Type(), "the link stays a link")
	got, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, "disable = true\n", string(got))
	st, err = os.Stat(real)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func ptr(s string) *string { return &s }
