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

// cpuLimit is a cgroup capping the CPU time of the processes in it.
type cpuLimit struct {
	dir string
}

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
		return l, nil
	}
	controllers, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
	if err != nil || !strings.Contains(" "+strings.TrimSpace(string(controllers))+" ", " cpu ") {
		return nil, fmt.Errorf("client CPU limit: no cgroup cpu controller under %s (cgroup v1's cpu, or v2's cpu in cgroup.controllers)", cgroupRoot)
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
	return l, nil
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

// argv returns argv run inside the cgroup, on CPU 0: a shell puts itself
// in the cgroup, then becomes argv, so that everything argv starts is in
// it from its first instruction.
func (l *cpuLimit) argv(argv []string) []string {
	enter := fmt.Sprintf(`echo $$ > %s && exec "$@"`, filepath.Join(l.dir, "cgroup.procs"))
	return append([]string{"taskset", "-c", "0", "sh", "-c", enter, "sh"}, argv...)
}

// close removes the cgroup, waiting up to 10 s for its last processes to
// end.
func (l *cpuLimit) close() error {
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err = os.Remove(l.dir); err == nil || os.IsNotExist(err) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("client CPU limit: %w", err)
	}
	return nil
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
