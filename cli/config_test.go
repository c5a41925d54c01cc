package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runDcc runs one dcc subcommand and returns its exit code and output.
func runDcc(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// isolateConfig points DCC_DIR at a new directory and clears the overrides.
func isolateConfig(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dcc")
	t.Setenv("DCC_DIR", dir)
	for _, v := range []string{"DCC_MAX_SIZE", "DCC_IDLE_TIMEOUT", "DCC_DIRECT_MODE", "DCC_DEPEND_MODE", "DCC_DISABLE", "DCC_LOG_LEVEL",
		"DCC_HOSTS", "DCC_TOKEN", "DCC_REMOTE", "DCC_CONNECT_TIMEOUT", "DCC_SEND_TIMEOUT", "DCC_RECV_TIMEOUT",
		"DCC_LOCAL_THRESHOLD", "DCC_RERUN_REMOTE_ERRORS"} {
		t.Setenv(v, "")
	}
	return dir
}

func TestConfigCommand(t *testing.T) {
	tests := []struct {
		name        string
		file        string // written first when not empty
		env         map[string]string
		args        []string
		wantCode    int
		wantOut     []string
		wantErrOut  string
		wantFileHas string
	}{
		{name: "show defaults", args: []string{"config"}, wantOut: []string{
			"(absent)", "max_size             5GiB     default", "idle_timeout         10m0s    default",
			"direct_mode          true     default", "disable              false    default", "log_level            warn     default",
			"remote               false    default", "token                not set  default", "recv_timeout         5m0s     default",
			"hosts                none     default",
		}},
		{name: "show sources", file: "max_size = \"10G\"\n", env: map[string]string{"DCC_LOG_LEVEL": "debug"},
			args: []string{"config"}, wantOut: []string{"max_size             10G      file ", "log_level            debug    env DCC_LOG_LEVEL"}},
		{name: "get", file: "idle_timeout = \"90s\"\n", args: []string{"config", "get", "idle_timeout"}, wantOut: []string{"1m30s\n"}},
		{name: "get unknown", args: []string{"config", "get", "colour"}, wantCode: 1, wantErrOut: `unknown key "colour"`},
		{name: "set", args: []string{"config", "set", "max_size", "10G"}, wantFileHas: "max_size = '10G'"},
		{name: "set overridden by env", env: map[string]string{"DCC_DISABLE": "1"},
			args: []string{"config", "set", "disable", "false"}, wantFileHas: "disable = false",
			wantErrOut: "disable is true from env DCC_DISABLE, which overrides the file"},
		{name: "set bad value", args: []string{"config", "set", "max_size", "lots"}, wantCode: 1,
			wantErrOut: `dcc config: max_size: invalid size "lots"`},
		{name: "set on malformed file", file: "max_size = \n", args: []string{"config", "set", "disable", "true"},
			wantCode: 1, wantErrOut: "config.toml:1: not valid TOML", wantFileHas: "max_size = \n"},
		{name: "show malformed file", file: "colour = 1\n", args: []string{"config"}, wantCode: 1,
			wantErrOut: `config.toml:1: unknown key "colour"`},
		{name: "bad env", env: map[string]string{"DCC_IDLE_TIMEOUT": "soon"}, args: []string{"config"}, wantCode: 1,
			wantErrOut: `$DCC_IDLE_TIMEOUT: idle_timeout: invalid duration "soon"`},
		{name: "usage", args: []string{"config", "set", "max_size"}, wantCode: 2, wantErrOut: "usage: dcc config [get KEY | set KEY VALUE]"},
		{name: "help", args: []string{"config", "--help"}, wantOut: []string{"usage: dcc config", "DCC_MAX_SIZE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolateConfig(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.file != "" {
				require.NoError(t, os.MkdirAll(dir, 0o700))
				require.NoError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(tt.file), 0o644))
			}
			code, out, errOut := runDcc(t, tt.args...)
			assert.Equal(t, tt.wantCode, code, errOut)
			for _, w := range tt.wantOut {
				assert.Contains(t, out, w)
			}
			if tt.wantErrOut == "" {
				assert.Empty(t, errOut)
			} else {
				assert.Contains(t, errOut, tt.wantErrOut)
			}
			if tt.wantFileHas != "" {
				got, err := os.ReadFile(filepath.Join(dir, "config.toml"))
				require.NoError(t, err)
				assert.Contains(t, string(got), tt.wantFileHas)
			}
		})
	}
}

// What "dcc config set" writes, "dcc config get" and "dcc config" read back.
func TestConfigSetGetRoundTrip(t *testing.T) {
	isolateConfig(t)
	for _, kv := range [][3]string{
		{"max_size", "10GiB", ""}, {"idle_timeout", "1h0m0s", ""}, {"direct_mode", "false", ""}, {"depend_mode", "false", ""}, {"bypass_driver", "false", ""},
		{"disable", "true", ""}, {"log_level", "error", ""}, {"remote", "true", ""}, {"token", "s3cret", "set"},
		{"connect_timeout", "3s", ""}, {"send_timeout", "20s", ""}, {"recv_timeout", "10m0s", ""},
		{"liveness_timeout", "off", ""}, {"local_jobs", "3", ""},
		{"local_threshold", "8KiB", ""}, {"rerun_remote_errors", "false", ""}, {"ship_toolchains", "false", ""}, {"remote_sources", "off", ""},
		{"remote_storage", "file:/mnt/team|read-only", ""}, {"remote_storage_key", "team-secret-0123456789", "set"}, {"base_dir", "/home", ""},
	} {
		code, _, errOut := runDcc(t, "config", "set", kv[0], kv[1])
		require.Equal(t, 0, code, errOut)
		code, out, errOut := runDcc(t, "config", "get", kv[0])
		require.Equal(t, 0, code, errOut)
		want := kv[1]
		if kv[2] != "" {
			want = kv[2] // a secret is shown as set, never as itself
		}
		assert.Equal(t, want+"\n", out)
	}
	code, out, _ := runDcc(t, "config")
	require.Equal(t, 0, code)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "hosts ") {
			assert.NotContains(t, line, "default")
		}
	}
	assert.NotContains(t, out, "(absent)")
	assert.NotContains(t, out, "s3cret")
	assert.NotContains(t, out, "team-secret")
}
