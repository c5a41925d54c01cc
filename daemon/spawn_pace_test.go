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

	"github.com/dcc-build/dcc/pace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A daemon Ensure starts runs with the pacing in the environment its
// runtime read at start.
func TestEnsureStartsDaemonPaced(t *testing.T) {
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
	assert.Contains(t, strings.Split(string(environ), "\x00"), "GODEBUG=gctrace=0,"+pace.Setting)
}
