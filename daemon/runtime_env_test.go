package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDaemonEnvPacesSysmon(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"no GODEBUG", []string{"A=1"}, []string{"A=1", "GODEBUG=" + sysmonPacing}},
		{"empty GODEBUG", []string{"GODEBUG=", "A=1"}, []string{"GODEBUG=" + sysmonPacing, "A=1"}},
		{"other settings kept", []string{"GODEBUG=gctrace=1"}, []string{"GODEBUG=gctrace=1," + sysmonPacing}},
		{"the user's schedtrace wins", []string{"GODEBUG=gctrace=1,schedtrace=1000"}, []string{"GODEBUG=gctrace=1,schedtrace=1000"}},
		{"only the first of duplicates", []string{"GODEBUG=x=1", "GODEBUG=y=2"}, []string{"GODEBUG=x=1," + sysmonPacing, "GODEBUG=y=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, daemonEnv(tt.env))
		})
	}
}

func TestDaemonEnvDefaultsToThisProcess(t *testing.T) {
	t.Setenv("DCC_TEST_MARK", "here")
	env := daemonEnv(nil)
	assert.Contains(t, env, "DCC_TEST_MARK=here")
}

func TestDropSysmonPacing(t *testing.T) {
	tests := []struct {
		name      string
		godebug   string
		unset     bool
		want      string
		wantUnset bool
	}{
		{name: "added alone", godebug: sysmonPacing, wantUnset: true},
		{name: "added to the user's", godebug: "gctrace=1," + sysmonPacing, want: "gctrace=1"},
		{name: "the user's own schedtrace", godebug: "schedtrace=1000", want: "schedtrace=1000"},
		{name: "no GODEBUG", unset: true, wantUnset: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GODEBUG", tt.godebug) // restored after the test
			if tt.unset {
				require.NoError(t, os.Unsetenv("GODEBUG"))
			}
			DropSysmonPacing()
			got, ok := os.LookupEnv("GODEBUG")
			assert.Equal(t, !tt.wantUnset, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// Every daemonEnv result, run through DropSysmonPacing in the daemon, gives
// back the GODEBUG the starter had.
func TestSysmonPacingRoundTrip(t *testing.T) {
	for _, godebug := range []string{"", "gctrace=1", "a=1,b=2"} {
		env := daemonEnv([]string{"GODEBUG=" + godebug})
		require.Len(t, env, 1)
		t.Setenv("GODEBUG", env[0][len("GODEBUG="):])
		DropSysmonPacing()
		got := os.Getenv("GODEBUG")
		assert.Equal(t, godebug, got)
	}
}

// A daemon Ensure starts runs with the pacing in the environment its
// runtime read at start.
func TestEnsureStartsDaemonWithSysmonPacing(t *testing.T) {
	dir := shortDir(t)
	socket := filepath.Join(dir, "d.sock")
	killOnCleanup(t, socket)
	t.Setenv("GODEBUG", "gctrace=0")
	c, err := Ensure(context.Background(), helperEnsureOptions(socket, helperBuild, ""))
	require.NoError(t, err)
	defer c.Close()
	st, err := c.Status(context.Background())
	require.NoError(t, err)
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", st.PID))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("no /proc here")
	}
	require.NoError(t, err)
	assert.Contains(t, strings.Split(string(environ), "\x00"), "GODEBUG=gctrace=0,"+sysmonPacing)
}
