package wrapper

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcc-build/dcc/daemon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeExe creates an executable file with the given content.
func writeExe(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o755))
}

func TestDetect(t *testing.T) {
	isCmd := func(s string) bool { return s == "explain" || s == "install-links" }
	tests := []struct {
		name string
		argv []string
		want Invocation
	}{
		{"masquerade gcc", []string{"/usr/lib/dcc/gcc", "-c", "a.c"}, Invocation{ModeMasquerade, "gcc", []string{"-c", "a.c"}}},
		{"masquerade versioned", []string{"x86_64-linux-gnu-gcc-12", "-c", "a.c"}, Invocation{ModeMasquerade, "x86_64-linux-gnu-gcc-12", []string{"-c", "a.c"}}},
		{"masquerade cl.exe", []string{"./cl.exe", "/c", "a.c"}, Invocation{ModeMasquerade, "cl.exe", []string{"/c", "a.c"}}},
		{"prefix name", []string{"dcc", "gcc", "-c", "a.c"}, Invocation{ModePrefix, "gcc", []string{"-c", "a.c"}}},
		{"prefix path", []string{"/usr/bin/dcc", "/usr/bin/clang", "-c", "a.c"}, Invocation{ModePrefix, "/usr/bin/clang", []string{"-c", "a.c"}}},
		{"prefix no args", []string{"dcc", "gcc"}, Invocation{ModePrefix, "gcc", []string{}}},
		{"subcommand", []string{"dcc", "explain", "gcc", "-c", "a.c"}, Invocation{Mode: ModeCommand}},
		{"option", []string{"dcc", "--help"}, Invocation{Mode: ModeCommand}},
		{"bare", []string{"dcc"}, Invocation{Mode: ModeCommand}},
		{"ccache link, prefix", []string{"/usr/lib/dcc/ccache", "gcc", "-c", "a.c"}, Invocation{ModePrefix, "gcc", []string{"-c", "a.c"}}},
		{"ccache link, option", []string{"/usr/lib/dcc/ccache", "--version"}, Invocation{Mode: ModeCommand}},
		{"empty argv", nil, Invocation{Mode: ModeCommand}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Detect(tt.argv, isCmd))
		})
	}
}

func TestFinderSkipsSelfAndChain(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "dcc")
	writeExe(t, self, "#!/bin/sh\n")
	masq := filepath.Join(dir, "masq")
	require.NoError(t, os.MkdirAll(masq, 0o755))
	require.NoError(t, os.Symlink(self, filepath.Join(masq, "gcc")))
	wrapped := filepath.Join(dir, "wrapped", "gcc")
	writeExe(t, wrapped, "#!/bin/sh\nexec gcc \"$@\"\n")
	realGCC := filepath.Join(dir, "real", "gcc")
	writeExe(t, realGCC, "#!/bin/sh\n")
	writeExe(t, filepath.Join(dir, "noexec", "gcc"), "")
	require.NoError(t, os.Chmod(filepath.Join(dir, "noexec", "gcc"), 0o644))
	selfInfo, err := os.Stat(self)
	require.NoError(t, err)

	path := strings.Join([]string{masq, filepath.Join(dir, "noexec"), filepath.Dir(wrapped), filepath.Dir(realGCC)}, ":")
	tests := []struct {
		name    string
		chain   []string
		lookFor string
		want    string
		wantErr error
	}{
		{"skips own link and non-executable", nil, "gcc", wrapped, nil},
		{"skips programs already in the chain", []string{wrapped}, "gcc", realGCC, nil},
		{"everything skipped", []string{wrapped, realGCC}, "gcc", "", ErrNotFound},
		{"absent", nil, "clang", "", ErrNotFound},
		{"explicit path used as given", nil, realGCC, realGCC, nil},
		{"explicit path to own link searches PATH", nil, filepath.Join(masq, "gcc"), wrapped, nil},
		{"explicit path missing", nil, filepath.Join(dir, "nope", "gcc"), "", os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Finder{Path: path, Self: selfInfo, Chain: tt.chain}
			got, err := f.Find(tt.lookFor)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestChain(t *testing.T) {
	tests := []struct {
		name    string
		marker  string
		real    string
		want    string
		wantErr bool
	}{
		{"first", "", "/usr/bin/gcc", "/usr/bin/gcc", false},
		{"second", "/opt/x/gcc", "/usr/bin/gcc", "/opt/x/gcc:/usr/bin/gcc", false},
		{"empty items dropped", ":/opt/x/gcc:", "/usr/bin/gcc", "/opt/x/gcc:/usr/bin/gcc", false},
		{"too long", strings.Repeat("/a/gcc:", MaxChain), "/usr/bin/gcc", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExtendChain(ParseChain(tt.marker), tt.real)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrLoop)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWithEnv(t *testing.T) {
	got := withEnv([]string{"A=1", "DCC_CHAIN=old", "DCC_CHAINX=keep"}, ChainEnv, "new")
	assert.Equal(t, []string{"A=1", "DCC_CHAINX=keep", "DCC_CHAIN=new"}, got)
}

// A compile the wrapper runs without asking the daemon leaves a "local"
// DCC_LOG line with the reason; without DCC_LOG nothing is written.
func TestLogUnasked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dcc.log")
	inv := Invocation{Mode: ModeMasquerade, Compiler: "gcc", Args: []string{"-c", "a.c"}}
	t.Setenv(LogEnv, "")
	logUnasked(context.Background(), inv, "/usr/bin/gcc", "DCC_DISABLE is set")
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)

	t.Setenv(LogEnv, path)
	logUnasked(context.Background(), inv, "/usr/bin/gcc", "DCC_DISABLE is set")
	logUnasked(context.Background(), inv, "/usr/bin/gcc", "daemon unreachable: x")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &line))
	assert.Equal(t, "gcc", line["compiler"])
	assert.Equal(t, "/usr/bin/gcc", line["real"])
	assert.Equal(t, "local", line["action"])
	assert.Equal(t, "DCC_DISABLE is set", line["reason"])
}

func TestDaemonEnv(t *testing.T) {
	t.Setenv(daemon.ProbeHintEnv, "/somewhere/else/cc")
	assert.Nil(t, daemonEnv(""), "no compiler: the environment as it is")
	var hints []string
	for _, kv := range daemonEnv("/usr/bin/gcc") {
		if strings.HasPrefix(kv, daemon.ProbeHintEnv+"=") {
			hints = append(hints, kv)
		}
	}
	assert.Equal(t, []string{daemon.ProbeHintEnv + "=/usr/bin/gcc"}, hints)
}
