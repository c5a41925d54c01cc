package dir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolve(t *testing.T) {
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	cwd, err := os.Getwd()
	require.NoError(t, err)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"DCC_DIR absolute", map[string]string{"DCC_DIR": "/srv/dcc"}, "/srv/dcc"},
		{"DCC_DIR relative is made absolute", map[string]string{"DCC_DIR": "cache/dcc"}, filepath.Join(cwd, "cache/dcc")},
		{"DCC_DIR empty counts as unset", map[string]string{"DCC_DIR": ""}, filepath.Join(home, ".dcc")},
		{"unset: ~/.dcc", map[string]string{}, filepath.Join(home, ".dcc")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, "/d/daemon.sock", Socket("/d"))
	assert.Equal(t, "/d/daemon.lock", Lock("/d"))
	assert.Equal(t, "/d/daemon.log", Log("/d"))
}
