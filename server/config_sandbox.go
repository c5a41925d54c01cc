package server

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults of the sandbox every job runs in (see sandbox.go).
const (
	// DefaultSandboxUser is the user jobs run as when dcc-server runs as root.
	DefaultSandboxUser = "nobody"
	// DefaultBwrap is the bubblewrap program, looked up on PATH.
	DefaultBwrap = "bwrap"
	// DefaultJobMemory bounds the address space of each process of a job.
	DefaultJobMemory = 4 << 30
	// DefaultJobFileSize bounds each file a job writes.
	DefaultJobFileSize = 1 << 30
	// DefaultJobProcesses bounds the processes of one job at once.
	DefaultJobProcesses = 64
	// minJobMemory, minJobProcesses: below these no compiler starts.
	minJobMemory    = 64 << 20
	minJobProcesses = 4
	maxJobProcesses = 1 << 16
)

// SandboxConfig is how jobs are confined: bubblewrap's namespaces, the user
// they run as (when the server runs as root) and their resource limits.
type SandboxConfig struct {
	// Off runs jobs without a sandbox; only an explicit sandbox = "off" sets it.
	Off bool
	// Bwrap is the bubblewrap program (a path, or a name on PATH).
	Bwrap string
	// User is the user (name or number) jobs run as when the server runs
	// as root; ignored otherwise (jobs then run as the server's user).
	User string
	// CPU bounds the CPU time of each process of a job; 0 means the job timeout.
	CPU time.Duration
	// Memory bounds the address space of each process of a job, in bytes.
	Memory int64
	// FileSize bounds each file a job writes, in bytes.
	FileSize int64
	// Processes bounds the processes of a job at once.
	Processes int
}

// defaultSandbox returns the sandbox's defaults: on, as nobody, with the
// default limits.
func defaultSandbox() SandboxConfig {
	return SandboxConfig{Bwrap: DefaultBwrap, User: DefaultSandboxUser, Memory: DefaultJobMemory,
		FileSize: DefaultJobFileSize, Processes: DefaultJobProcesses}
}

// parseSandbox reads the sandbox keys of the config file into c.
func parseSandbox(fc *fileConfig, c *Config, bad func(string, error) error) error {
	s := &c.Sandbox
	if fc.Sandbox != nil {
		switch v := fc.Sandbox.(type) {
		case bool:
			s.Off = !v
		case string:
			switch strings.ToLower(v) {
			case "on":
				s.Off = false
			case "off":
				s.Off = true
			default:
				return bad("sandbox", fmt.Errorf(`want "on" or "off", not %q`, v))
			}
		default:
			return bad("sandbox", fmt.Errorf(`want "on" or "off", not %T`, fc.Sandbox))
		}
	}
	if fc.Bwrap != nil {
		if *fc.Bwrap == "" {
			return bad("bwrap", errors.New("want a program, not an empty string"))
		}
		s.Bwrap = *fc.Bwrap
	}
	if fc.User != nil {
		if *fc.User == "" || *fc.User == "root" || *fc.User == "0" {
			return bad("user", fmt.Errorf("want an unprivileged user, not %q", *fc.User))
		}
		s.User = *fc.User
	}
	if fc.JobCPU != nil {
		d, err := time.ParseDuration(*fc.JobCPU)
		if err != nil || d < time.Second || d > maxJobTimeout {
			return bad("job_cpu", fmt.Errorf("want a duration from 1s to %s such as \"5m\", not %q", maxJobTimeout, *fc.JobCPU))
		}
		s.CPU = d
	}
	for _, k := range []struct {
		key string
		val any
		dst *int64
		min int64
	}{{"job_memory", fc.JobMemory, &s.Memory, minJobMemory}, {"job_file_size", fc.JobFileSize, &s.FileSize, 1 << 20}} {
		if k.val == nil {
			continue
		}
		n, err := sizeValue(k.val)
		if err == nil && n < k.min {
			err = fmt.Errorf("%s is below the minimum of %s", FormatSize(n), FormatSize(k.min))
		}
		if err != nil {
			return bad(k.key, err)
		}
		*k.dst = n
	}
	if fc.JobProcesses != nil {
		n := *fc.JobProcesses
		if n < minJobProcesses || n > maxJobProcesses {
			return bad("job_processes", fmt.Errorf("want a number from %d to %d, not %d", minJobProcesses, maxJobProcesses, n))
		}
		s.Processes = int(n)
	}
	return nil
}

// sandboxText is the sandbox's part of the first-run config file.
func (c *Config) sandboxText() string {
	return `
# every job runs in a bubblewrap sandbox (user, mount, pid, net, ipc namespaces):
# it sees the compilers' files read-only, its own directory, and nothing else of
# this machine. "off" runs jobs unsandboxed (clients' "dcc hosts" then says so)
sandbox = "on"

# the user jobs run as when dcc-server runs as root (a dedicated user is best)
user = ` + tomlString(c.Sandbox.User) + `

# limits of each process of a job: CPU time (default: job_timeout), address
# space, size of a file written; and the processes of a job at once
# job_cpu = "5m"
job_memory = ` + tomlString(FormatSize(c.Sandbox.Memory)) + `
job_file_size = ` + tomlString(FormatSize(c.Sandbox.FileSize)) + `
job_processes = ` + fmt.Sprint(c.Sandbox.Processes) + `
`
}
