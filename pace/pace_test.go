package pace

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnv(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"no GODEBUG", []string{"A=1"}, []string{"A=1", "GODEBUG=" + Setting}},
		{"empty GODEBUG", []string{"GODEBUG=", "A=1"}, []string{"GODEBUG=" + Setting, "A=1"}},
		{"other settings kept", []string{"GODEBUG=gctrace=1"}, []string{"GODEBUG=gctrace=1," + Setting}},
		{"the user's schedtrace wins", []string{"GODEBUG=gctrace=1,schedtrace=1000"}, []string{"GODEBUG=gctrace=1,schedtrace=1000"}},
		{"only the first of duplicates", []string{"GODEBUG=x=1", "GODEBUG=y=2"}, []string{"GODEBUG=x=1," + Setting, "GODEBUG=y=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Env(tt.env))
		})
	}
}

func TestEnvDefaultsToThisProcess(t *testing.T) {
	t.Setenv("DCC_TEST_MARK", "here")
	env := Env(nil)
	assert.Contains(t, env, "DCC_TEST_MARK=here")
}

func TestDrop(t *testing.T) {
	tests := []struct {
		name      string
		godebug   string
		unset     bool
		want      string
		wantUnset bool
	}{
		{name: "added alone", godebug: Setting, wantUnset: true},
		{name: "added to the user's", godebug: "gctrace=1," + Setting, want: "gctrace=1"},
		{name: "the user's own schedtrace", godebug: "schedtrace=1000", want: "schedtrace=1000"},
		{name: "no GODEBUG", unset: true, wantUnset: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GODEBUG", tt.godebug) // restored after the test
			if tt.unset {
				require.NoError(t, os.Unsetenv("GODEBUG"))
			}
			Drop()
			got, ok := os.LookupEnv("GODEBUG")
			assert.Equal(t, !tt.wantUnset, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// Every Env result, run through Drop in the started process, gives
// back the GODEBUG the starter had.
func TestEnvDropRoundTrip(t *testing.T) {
	for _, godebug := range []string{"", "gctrace=1", "a=1,b=2"} {
		env := Env([]string{"GODEBUG=" + godebug})
		require.Len(t, env, 1)
		t.Setenv("GODEBUG", env[0][len("GODEBUG="):])
		Drop()
		got := os.Getenv("GODEBUG")
		assert.Equal(t, godebug, got)
	}
}

// helperEnv makes the test binary act as a program that calls Reexec.
const helperEnv = "PACE_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		Reexec()
		environ, _ := os.ReadFile("/proc/self/environ")
		paced := Paced()
		Drop()
		os.Stdout.WriteString(strings.Join([]string{
			"paced=" + map[bool]string{true: "yes", false: "no"}[paced],
			"started-with=" + startedGODEBUG(string(environ)),
			"now=" + os.Getenv("GODEBUG"),
			"pid=" + strconv.Itoa(os.Getpid()),
		}, "\n") + "\n")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startedGODEBUG returns the first GODEBUG of a /proc/PID/environ text.
func startedGODEBUG(environ string) string {
	for _, kv := range strings.Split(environ, "\x00") {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			return v
		}
	}
	return "(none)"
}

// Reexec runs the program again with the setting, keeping the user's
// GODEBUG; the program then runs paced, and Drop gives the programs it
// starts the user's GODEBUG back. A process started paced is not run again.
func TestReexec(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc here")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		godebug []string
		want    []string
	}{
		{"no GODEBUG", nil, []string{"paced=yes", "started-with=" + Setting, "now="}},
		{"the user's settings kept", []string{"GODEBUG=gctrace=0"}, []string{"paced=yes", "started-with=gctrace=0," + Setting, "now=gctrace=0"}},
		{"already paced by the user", []string{"GODEBUG=schedtrace=5000000"}, []string{"paced=yes", "started-with=schedtrace=5000000", "now=schedtrace=5000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^$")
			env := []string{helperEnv + "=1", "PATH=" + os.Getenv("PATH")}
			cmd.Env = append(env, tt.godebug...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			got := strings.Split(strings.TrimSpace(string(out)), "\n")
			require.Len(t, got, 4)
			assert.Equal(t, tt.want, got[:3])
			assert.Equal(t, "pid="+strconv.Itoa(cmd.Process.Pid), got[3], "the same process, run again")
		})
	}
}
