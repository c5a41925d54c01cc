package scale

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client's processes run in its CPU limit: on CPU 0, in the cgroup,
// and a CPU-bound one gets only its share of the CPU. The cgroup goes
// when the client is done.
func TestCPULimitCapsAClientsProcesses(t *testing.T) {
	name := fmt.Sprintf("dcc-scale-test-%d", os.Getpid())
	l := testCPULimit(t, name, 0.2)

	argv := l.argv(leafBuild, []string{"timeout", "1", "sh", "-c", "while :; do :; done"})
	cmd := exec.Command(argv[0], argv[1:]...)
	require.NoError(t, cmd.Start())
	var status, cgroups string
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", cmd.Process.Pid))
		cgroups = string(b)
		return strings.Contains(cgroups, name)
	}, 5*time.Second, 5*time.Millisecond, "the process never entered the cgroup: %s", cgroups)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	require.NoError(t, err)
	status = string(b)
	assert.Contains(t, status, "Cpus_allowed_list:\t0\n", "pinned to CPU 0")
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "timeout ends the loop with status 124")
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	t.Logf("a CPU-bound loop for 1 s at 0.2 CPU used %v", cpu)
	assert.Less(t, cpu, 350*time.Millisecond, "the loop used more than its 0.2 CPU")
	assert.Greater(t, cpu, 50*time.Millisecond, "the loop ran")

	require.NoError(t, l.close())
	assert.NoDirExists(t, l.dir)
}

// The daemon's leaf gets its share of the client's CPU however many
// processes make's leaf runs: one CPU-bound process there beside 20 in
// make's gets about half of what the client uses, not a 21st.
func TestCPULimitLeavesShareTheCap(t *testing.T) {
	l := testCPULimit(t, fmt.Sprintf("dcc-scale-test-leaves-%d", os.Getpid()), 0.4)

	loop := []string{"timeout", "1", "sh", "-c", "while :; do :; done"}
	var build []*exec.Cmd
	for range 20 {
		argv := l.argv(leafBuild, loop)
		cmd := exec.Command(argv[0], argv[1:]...)
		require.NoError(t, cmd.Start())
		build = append(build, cmd)
	}
	argv := l.argv(leafDaemon, loop)
	daemon := exec.Command(argv[0], argv[1:]...)
	require.NoError(t, daemon.Start())
	_ = daemon.Wait()
	var others time.Duration
	for _, cmd := range build {
		_ = cmd.Wait()
		others += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	cpu := daemon.ProcessState.UserTime() + daemon.ProcessState.SystemTime()
	t.Logf("the daemon's leaf beside 20 loops in make's, at 0.4 CPU for 1 s: %v, make's %v", cpu, others)
	// Half of the CPU the two leaves got, whatever else ran on CPU 0 meanwhile
	// (a 21st without the leaves).
	assert.Greater(t, cpu, (cpu+others)/4, "the daemon's leaf got less than a quarter of the CPU the client used")
}

// testCPULimit makes the CPU limit name of cpus CPUs for the test, removed
// when it ends; it skips the test where a cgroup cannot be made.
func testCPULimit(t *testing.T, name string, cpus float64) *cpuLimit {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a cgroup needs root")
	}
	l, err := newCPULimit(name, cpus)
	if errors.Is(err, errNoCPUController) {
		t.Skip(err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.close() })
	return l
}
