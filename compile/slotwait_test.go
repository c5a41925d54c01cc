package compile

import (
	"context"
	"fmt"
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

// slotWaitFarm is a Farm whose jobs first wait for a host slot, as
// remote.Pool.CompileOr does when every host is busy (the wait ends with
// ctx), and then compile on the runner.
type slotWaitFarm struct {
	*runnerFarm
	wait time.Duration
}

func (f slotWaitFarm) CompileOr(ctx context.Context, key string, req *protocol.CompileRequest, local chan struct{}) (*protocol.CompileResult, string, bool, error) {
	select {
	case <-time.After(f.wait):
	case <-ctx.Done():
		return nil, "", false, fmt.Errorf("%w: waiting for a host slot: %w", remote.ErrNoHost, ctx.Err())
	}
	return f.runnerFarm.CompileOr(ctx, key, req, local)
}

// The remote timeout (recv_timeout) bounds the host's time, not the wait
// for a host slot: a job that waited longer than the timeout for a slot
// still compiles on the host.
func TestSlotWaitIsNotTheHostsTime(t *testing.T) {
	gcc := gccPath(t)
	for _, sources := range []string{"off", "all"} {
		t.Run("sources "+sources, func(t *testing.T) {
			farm := slotWaitFarm{newRunnerFarm(t), 2 * time.Second}
			s := newTestServiceWith(t, func(o *Options) {
				o.Remote = RemoteOptions{Farm: farm, Sources: sources, Timeout: 1500 * time.Millisecond, RerunErrors: true}
			})
			dir := sourcesTree(t)
			logPath := filepath.Join(dir, "dcc.log")
			env := append(os.Environ(), "DCC_LOG="+logPath, "DCC_PROJECT=slot-wait")
			args := []string{"-O2", "-Iinc", "-MD", "-c", "src/main.c", "-o", "main.o"}
			res := s.Compile(t.Context(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: args})
			require.True(t, res.Handled, "%+v", res)
			assert.Zero(t, res.ExitCode, "%s", res.Stderr)
			lines := readDecisions(t, logPath)
			require.NotEmpty(t, lines)
			line := lines[len(lines)-1]
			assert.Equal(t, runnerHost, line["compiled_on"], "%v", line)
			assert.Empty(t, line["fallback"], "%v", line)
		})
	}
}
