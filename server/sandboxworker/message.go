// Package sandboxworker is the program that runs inside a compile slot's
// sandbox as its PID 1 and runs that slot's jobs one after another, so that
// the namespaces of a sandbox are made once per slot, not once per job.
//
// dcc-server starts one bubblewrap per slot with this worker (its own
// executable, invoked with Arg) and talks to it over the worker's stdin and
// stdout: one JSON Request per line in, one JSON Reply per line out. For
// each job the worker starts the compiler stopped at its first
// instruction, sets the job's resource limits on it (prlimit), lets it
// run, and once it has ended kills every other process of the namespace,
// reaps them and empties the namespace's writable places (/tmp, /dev/shm,
// /dev/mqueue), so that nothing of one job is seen by the next. A slot it
// cannot make clean again is given up: the worker says so and exits, and
// the server starts a new sandbox.
package sandboxworker

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
)

// Arg is the first argument that makes dcc-server (or a test binary) run as
// a sandbox worker; the second is its Config in JSON.
const Arg = "__dcc-sandbox-worker"

// Limit is one resource limit set on every job's first process (which its
// children inherit): Resource is a RLIMIT_* number.
type Limit struct {
	Resource int    `json:"resource"`
	Soft     uint64 `json:"soft"`
	Max      uint64 `json:"max"`
}

// Config is what a worker is started with.
type Config struct {
	// Limits are set on each job's first process.
	Limits []Limit `json:"limits"`
	// Clean are the directories emptied after every job (/tmp, /dev/shm).
	Clean []string `json:"clean"`
}

// Request is one job: run Argv (Argv[0] an absolute path) in Dir with Env,
// its stdin /dev/null, its stdout and stderr written to the new files
// Stdout and Stderr.
type Request struct {
	Argv   []string `json:"argv"`
	Env    []string `json:"env"`
	Dir    string   `json:"dir"`
	Stdout string   `json:"stdout"`
	Stderr string   `json:"stderr"`
}

// Reply is how a job ended.
type Reply struct {
	// Status is the job's wait status (syscall.WaitStatus); meaningless
	// when Err is set.
	Status uint32 `json:"status"`
	// CPUNanos is the CPU time of the job's first process and the
	// processes it waited for.
	CPUNanos int64 `json:"cpu_ns"`
	// Err says why the job could not be run at all.
	Err string `json:"err,omitempty"`
	// Retire: the worker could not make the slot clean after the job, or
	// could not go on; it exits after this reply.
	Retire bool `json:"retire,omitempty"`
}

// WaitStatus is the reply's status as a syscall.WaitStatus.
func (r *Reply) WaitStatus() syscall.WaitStatus { return syscall.WaitStatus(r.Status) }

// ParseConfig decodes a worker's Config from its argument.
func ParseConfig(arg string) (Config, error) {
	var c Config
	if err := json.Unmarshal([]byte(arg), &c); err != nil {
		return c, fmt.Errorf("sandbox worker: bad config: %w", err)
	}
	return c, nil
}

// check validates a request before anything is started.
func (r *Request) check() error {
	switch {
	case len(r.Argv) == 0 || r.Argv[0] == "" || r.Argv[0][0] != '/':
		return errors.New("the program is not an absolute path")
	case r.Dir == "" || r.Stdout == "" || r.Stderr == "":
		return errors.New("the directory or an output file is not named")
	}
	return nil
}
