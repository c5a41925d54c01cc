//go:build linux

package compile

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awaitExit returns once the process has exited, however long it runs
// (past several rechecks too), leaving it for Wait to reap.
func TestAwaitExit(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		kill     bool
		minDelay time.Duration
		exitCode int
	}{
		{"exits at once", []string{"true"}, false, 0, 0},
		{"fails", []string{"sh", "-c", "exit 3"}, false, 0, 3},
		{"runs past several rechecks", []string{"sleep", "0.6"}, false, 600 * time.Millisecond, 0},
		{"killed", []string{"sleep", "10"}, true, 0, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tc.argv[0], tc.argv[1:]...)
			// The clock starts before the process: its sleep begins after.
			start := time.Now()
			require.NoError(t, cmd.Start())
			if tc.kill {
				time.AfterFunc(20*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
			}
			awaitExit(cmd.Process.Pid)
			assert.GreaterOrEqual(t, time.Since(start), tc.minDelay)
			var info syscall.WaitStatus
			pid, err := syscall.Wait4(cmd.Process.Pid, &info, syscall.WNOHANG, nil)
			require.NoError(t, err)
			assert.Equal(t, cmd.Process.Pid, pid, "exited (and now reaped) when awaitExit returned")
			if tc.kill {
				assert.True(t, info.Signaled())
			} else {
				assert.Equal(t, tc.exitCode, info.ExitStatus())
			}
		})
	}
}
