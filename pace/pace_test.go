package pace

import (
	"os"
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
