package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientFaults are the faults of the client's side, injected during a build
// through the hosts as TestClientFaultsDuringBuild injects them into 64
// compiles without hosts: the daemon SIGKILLed; its directory removed (rm
// -rf $DCC_DIR, as users reset a cache), after which the old daemon must be
// gone within daemonExitBound and a new one serve; its cache file system (a
// tmpfs mounted for the build) filled up.
func clientFaults() []netFault {
	return []netFault{
		{name: "client daemon SIGKILLed", during: func(t *testing.T, d *projectDaemon) func() {
			pid := d.pid()
			require.NotZero(t, pid, "the daemon runs once 3 objects are written")
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
			return func() {
				_, gone := waitGone(pid, daemonExitBound)
				assert.True(t, gone, "the SIGKILLed daemon is gone")
				t.Logf("daemon %d killed; after the build, daemon %d serves", pid, d.pid())
			}
		}},
		{name: "client DCC_DIR removed", during: func(t *testing.T, d *projectDaemon) func() {
			pid := d.pid()
			require.NotZero(t, pid, "the daemon runs once 3 objects are written")
			removed := time.Now()
			require.NoError(t, os.RemoveAll(d.dir))
			return func() {
				_, gone := waitGone(pid, daemonExitBound-time.Since(removed))
				assert.True(t, gone, "the daemon whose directory was removed exits within %s", daemonExitBound)
				assert.NotZero(t, d.pid(), "a new daemon serves the compiles after the removal")
				assert.NotEqual(t, pid, d.pid(), "a new daemon serves the compiles after the removal")
			}
		}},
		{name: "client cache disk full", storeFails: true, setup: func(t *testing.T, d *projectDaemon) {
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=128m,mode=0700", "tmpfs", d.dir).CombinedOutput(); err != nil {
				t.Fatalf("mount a tmpfs on %s: %v: %s", d.dir, err, out)
			}
			t.Cleanup(func() {
				if out, err := exec.Command("umount", "-l", d.dir).CombinedOutput(); err != nil {
					t.Errorf("umount %s: %v: %s", d.dir, err, out)
				}
				_ = os.Remove(d.dir)
			})
		}, during: func(t *testing.T, d *projectDaemon) func() {
			f, err := os.Create(filepath.Join(d.dir, "filler"))
			require.NoError(t, err)
			defer f.Close()
			chunk := make([]byte, 1<<20)
			for {
				if _, err := f.Write(chunk); err != nil {
					return nil
				}
			}
		}},
	}
}
