package scale

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Giving each client a CPU of its own, as on a real farm: with
// Env.ClientCPU set, a client's processes (its daemon, make and all make
// starts) run on CPU 0 only, in a cgroup that caps them at ClientCPU CPUs
// (the kernel's CFS bandwidth control), and the hosts on the other CPUs.
// So a row can show what one client's CPU allows, which it cannot while
// the hosts take the same CPUs as the client (their CPU per unit is more
// than the client's).

// cgroupRoot is where the kernel's cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cfsPeriod is the cgroup's accounting period: a client may use
// ClientCPU x cfsPeriod of CPU time in each.
const cfsPeriod = 100 * time.Millisecond

// errNoCPUController: this machine has no cgroup cpu controller to cap a
// client's CPU with.
var errNoCPUController = errors.New("no cgroup cpu controller")

// cpuLimit is a cgroup capping the CPU time of the processes in it. Its
// processes go into one of two leaves under it, a client's daemon into
// leafDaemon and its make into leafBuild, which share the cap equally when
// both want more: as the kernel's autogroups share a real client's CPU
// between the daemon (dcc starts it in a session of its own) and the
// terminal's session where make runs. Without them the hundreds of
// wrappers make starts at once would each get as much CPU as the daemon
// they all wait for.
type cpuLimit struct {
	dir string
}

// The leaves of a client's cgroup.
const (
	leafDaemon = "daemon"
	leafBuild  = "build"
)

// newCPULimit makes the cgroup name capped at cpus CPUs: under cgroup v1's
// cpu controller (cpu.cfs_quota_us), or cgroup v2's (cpu.max, with the
// controller enabled for the root's children).
func newCPULimit(name string, cpus float64) (*cpuLimit, error) {
	if cpus <= 0 {
		return nil, fmt.Errorf("client CPU limit %g: must be more than 0", cpus)
	}
	quota := int64(cpus * float64(cfsPeriod/time.Microsecond))
	period := int64(cfsPeriod / time.Microsecond)
	if v1 := filepath.Join(cgroupRoot, "cpu"); fileExists(filepath.Join(v1, "cpu.cfs_quota_us")) {
		l := &cpuLimit{dir: filepath.Join(v1, name)}
		if err := os.Mkdir(l.dir, 0o755); err != nil {
			return nil, fmt.Errorf("client CPU limit: %w", err)
		}
		err := errors.Join(writeControl(l.dir, "cpu.cfs_period_us", strconv.FormatInt(period, 10)),
			writeControl(l.dir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)))
		if err != nil {
			os.Remove(l.dir)
			return nil, err
		}
		return l, l.makeLeaves("")
	}
	controllers, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
	if err != nil || !strings.Contains(" "+strings.TrimSpace(string(controllers))+" ", " cpu ") {
		return nil, fmt.Errorf("client CPU limit: %w under %s (cgroup v1's cpu, or v2's cpu in cgroup.controllers)", errNoCPUController, cgroupRoot)
	}
	if err := writeControl(cgroupRoot, "cgroup.subtree_control", "+cpu"); err != nil {
		return nil, err
	}
	l := &cpuLimit{dir: filepath.Join(cgroupRoot, name)}
	if err := os.Mkdir(l.dir, 0o755); err != nil {
		return nil, fmt.Errorf("client CPU limit: %w", err)
	}
	if err := writeControl(l.dir, "cpu.max", fmt.Sprintf("%d %d", quota, period)); err != nil {
		os.Remove(l.dir)
		return nil, err
	}
	return l, l.makeLeaves("+cpu")
}

// makeLeaves makes the cgroup's two leaves, first enabling controllers
// for its children (cgroup v2) when not "". On failure it removes the
// cgroup.
func (l *cpuLimit) makeLeaves(controllers string) error {
	var err error
	if controllers != "" {
		err = writeControl(l.dir, "cgroup.subtree_control", controllers)
	}
	for _, leaf := range []string{leafDaemon, leafBuild} {
		if err == nil {
			if err = os.Mkdir(filepath.Join(l.dir, leaf), 0o755); err != nil {
				err = fmt.Errorf("client CPU limit: %w", err)
			}
		}
	}
	if err != nil {
		_ = l.close()
	}
	return err
}

// writeControl writes value to the cgroup control file name in dir.
func writeControl(dir, name, value string) error {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o644); err != nil {
		return fmt.Errorf("client CPU limit: write %q to %s: %w", value, filepath.Join(dir, name), err)
	}
	return nil
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// argv returns argv run inside the cgroup's leaf, on CPU 0: a shell puts
// itself in the leaf, then becomes argv, so that everything argv starts is
// in it from its first instruction.
func (l *cpuLimit) argv(leaf string, argv []string) []string {
	enter := fmt.Sprintf(`echo $$ > %s && exec "$@"`, filepath.Join(l.dir, leaf, "cgroup.procs"))
	return append([]string{"taskset", "-c", "0", "sh", "-c", enter, "sh"}, argv...)
}

// close removes the cgroup and its leaves, waiting up to 10 s for their
// last processes to end.
func (l *cpuLimit) close() error {
	deadline := time.Now().Add(10 * time.Second)
	var errs []error
	for _, dir := range []string{filepath.Join(l.dir, leafDaemon), filepath.Join(l.dir, leafBuild), l.dir} {
		var err error
		for ; ; time.Sleep(20 * time.Millisecond) {
			if err = os.Remove(dir); err == nil || os.IsNotExist(err) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil && !os.IsNotExist(err) {
			errs = append(errs, fmt.Errorf("client CPU limit: %w", err))
		}
	}
	return errors.Join(errs...)
}

// hostCPUs is the taskset list of the CPUs the hosts run on while clients
// are limited: every CPU but the clients' CPU 0.
func hostCPUs() (string, error) {
	n := runtime.NumCPU()
	if n < 2 {
		return "", fmt.Errorf("client CPU limit: needs 2 CPUs or more (the clients on CPU 0, the hosts on the rest); this machine has %d", n)
	}
	if n == 2 {
		return "1", nil
	}
	return fmt.Sprintf("1-%d", n-1), nil
}
