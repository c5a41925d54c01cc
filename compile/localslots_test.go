package compile

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote"
)

// localSlotFarm is a Farm whose every host is busy and whose waits end
// with a local slot taken (as remote.Pool.CompileOr when this machine's
// slot frees first).
type localSlotFarm struct{ failingFarm }

func (localSlotFarm) CompileOr(_ context.Context, _ string, _ *protocol.CompileRequest, local chan struct{}) (*protocol.CompileResult, string, bool, error) {
	local <- struct{}{}
	return nil, "", true, remote.ErrNoHost
}

// A job that waited for a host and got a local slot instead compiles
// here in that slot (with one local slot, waiting for a second would never
// end), and gives it back.
func TestWaitedLocalSlotIsTheCompilesOwn(t *testing.T) {
	gcc := gccPath(t)
	for _, sources := range []string{"off", "all"} {
		t.Run("sources "+sources, func(t *testing.T) {
			s := newTestServiceWith(t, func(o *Options) {
				o.Remote = RemoteOptions{Farm: localSlotFarm{failingFarm{"", remote.ErrNoHost}}, Sources: sources, LocalJobs: 1}
			})
			dir := sourcesTree(t)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			args := []string{"-O2", "-Iinc", "-MD", "-c", "src/main.c", "-o", "main.o"}
			res := s.Compile(ctx, daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(), Args: args})
			require.True(t, res.Handled, "%+v", res)
			assert.Zero(t, res.ExitCode, "%s", res.Stderr)
			assert.FileExists(t, filepath.Join(dir, "main.o"))
			assert.Empty(t, s.local.slots, "the slot is given back")
		})
	}
}
