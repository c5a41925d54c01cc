package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// daemonExitBound is how long a daemon whose directory was removed may take
// to go (it checks its socket every second).
const daemonExitBound = 5 * time.Second

// waitGone waits up to d for pid to exit and returns how long it took, or
// false when it still runs.
func waitGone(pid int, d time.Duration) (time.Duration, bool) {
	start := time.Now()
	for processRuns(pid) {
		if time.Since(start) > d {
			return time.Since(start), false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start), true
}

// objectsWritten counts the units' objects in dir.
func objectsWritten(dir string) int {
	n := 0
	for u := range fallbackUnits {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("u%02d.o", u))); err == nil {
			n++
		}
	}
	return n
}

// requireSameUnits compares every unit's object in dir with the plain one.
func requireSameUnits(t *testing.T, plainDir, dir string) {
	t.Helper()
	for u := range fallbackUnits {
		name := fmt.Sprintf("u%02d.o", u)
		assert.Equal(t, readFile(t, filepath.Join(plainDir, name)), readFile(t, filepath.Join(dir, name)), name)
	}
}

// TestClientFaultsDuringBuild compiles 64 units at once through dcc (a
// -j64 build, no hosts) and, once 8 objects are written, breaks the
// client's side: its daemon is SIGKILLed; its directory is removed (rm -rf
// $DCC_DIR, as users reset a cache); its cache file system fills up (a
// tmpfs mounted for the test, as root). Every compile succeeds with an
// object identical to a plain compile's; after the removal the old daemon
// is gone within daemonExitBound and a new one serves.
func TestClientFaultsDuringBuild(t *testing.T) {
	t.Parallel()
	gcc := requireTool(t, "gcc")
	plainDir := t.TempDir()
	writeFallbackUnits(t, plainDir)
	require.NoError(t, compileAll(plainDir, os.Environ(), gcc))

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dccDir string) // before the build
		fault func(t *testing.T, d *projectDaemon, pid int)
		check func(t *testing.T, d *projectDaemon, pid int, plainDir, dccDir, gcc string)
	}{
		{name: "daemon killed", fault: func(t *testing.T, d *projectDaemon, pid int) {
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		}},
		{name: "directory removed", fault: func(t *testing.T, d *projectDaemon, pid int) {
			require.NoError(t, os.RemoveAll(d.dir))
		}, check: func(t *testing.T, d *projectDaemon, pid int, plainDir, dccDir, gcc string) {
			took, gone := waitGone(pid, daemonExitBound)
			t.Logf("the old daemon went %s after its directory was removed", took.Round(time.Millisecond))
			assert.True(t, gone, "the daemon whose directory was removed exits")
			// A later compile works, through a new daemon.
			require.NoError(t, os.Remove(filepath.Join(dccDir, "u00.o")))
			cmd := exec.Command(dccBin, gcc, "-O2", "-c", "u00.c", "-o", "u00.o")
			cmd.Dir, cmd.Env = dccDir, append(os.Environ(), d.env...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Equal(t, readFile(t, filepath.Join(plainDir, "u00.o")), readFile(t, filepath.Join(dccDir, "u00.o")))
			assert.NotZero(t, d.pid(), "a new daemon serves")
			assert.NotEqual(t, pid, d.pid())
		}},
		{name: "cache file system full", setup: func(t *testing.T, dccDir string) {
			if os.Geteuid() != 0 {
				t.Skip("mounting a tmpfs for the cache needs root")
			}
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=128m,mode=0700", "tmpfs", dccDir).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
			}
			t.Cleanup(func() {
				if out, err := exec.Command("umount", "-l", dccDir).CombinedOutput(); err != nil {
					t.Errorf("umount %s: %v: %s", dccDir, err, out)
				}
			})
		}, fault: func(t *testing.T, d *projectDaemon, pid int) {
			f, err := os.Create(filepath.Join(d.dir, "filler"))
			require.NoError(t, err)
			defer f.Close()
			chunk := make([]byte, 1<<20)
			for {
				if _, err := f.Write(chunk); err != nil {
					break
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dccDir := t.TempDir()
			writeFallbackUnits(t, dccDir)
			d := newProjectDaemon(t, "60s")
			t.Cleanup(func() { _ = os.RemoveAll(d.dir) })
			if tc.setup != nil {
				tc.setup(t, d.dir)
			}
			t.Cleanup(func() {
				if pid := d.pid(); pid > 0 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					waitGone(pid, 5*time.Second)
				}
			})
			env := append(append(os.Environ(), d.env...), "DCC_LOG_LEVEL=info")
			// The daemon runs before the build, so that the fault finds it.
			cmd := exec.Command(dccBin, "daemon", "start")
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			pid := d.pid()
			require.NotZero(t, pid)

			faulted := make(chan struct{})
			go func() {
				defer close(faulted)
				for deadline := time.Now().Add(time.Minute); objectsWritten(dccDir) < 8 && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
				tc.fault(t, d, pid)
			}()
			start := time.Now()
			err = compileAll(dccDir, env, dccBin, gcc)
			took := time.Since(start)
			<-faulted
			require.NoError(t, err, "every compile succeeds")
			t.Logf("%s: build took %s", tc.name, took.Round(time.Millisecond))
			requireSameUnits(t, plainDir, dccDir)
			if tc.check != nil {
				tc.check(t, d, pid, plainDir, dccDir, gcc)
			}
		})
	}
}

// TestDaemonDirRemoved: a daemon whose directory was removed (rm -rf
// $DCC_DIR) exits by itself within daemonExitBound, and at once on SIGTERM
// (it ignored SIGTERM for more than 90 s: closing its cache retried writes
// into the removed directory forever).
func TestDaemonDirRemoved(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{0, syscall.SIGTERM} {
		t.Run(fmt.Sprintf("signal %d", sig), func(t *testing.T) {
			d := newProjectDaemon(t, "60s")
			t.Cleanup(func() { _ = os.RemoveAll(d.dir) })
			cmd := exec.Command(dccBin, "daemon", "start")
			cmd.Env = append(os.Environ(), d.env...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			pid := d.pid()
			require.NotZero(t, pid)
			t.Cleanup(func() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				waitGone(pid, 5*time.Second)
			})
			// A compile, so that the cache holds something to flush.
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"a.c": "int a(void) { return 1; }\n"})
			r := runIn(t, dir, os.Getenv("PATH"), d.env, nil, dccBin, "gcc", "-c", "a.c", "-o", "a.o")
			require.Equal(t, 0, r.exit, "%s", r.stderr)
			require.NoError(t, os.RemoveAll(d.dir))
			if sig != 0 {
				require.NoError(t, syscall.Kill(pid, sig))
			}
			took, gone := waitGone(pid, daemonExitBound)
			t.Logf("directory removed, signal %d: the daemon went after %s", sig, took.Round(time.Millisecond))
			assert.True(t, gone, "the daemon whose directory was removed exits")
			_, err = os.Stat(d.dir)
			assert.ErrorIs(t, err, os.ErrNotExist, "the old daemon writes nothing where its directory was")
		})
	}
}
