package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/dcc-build/dcc/server/sandboxworker"
)

// The job's stdout and stderr, in its directory, when it runs in a slot's
// sandbox (the worker writes them there).
const (
	jobStdout = "job.stdout"
	jobStderr = "job.stderr"
)

// jobRun is how a job's compiler ended and what it printed.
type jobRun struct {
	status         syscall.WaitStatus
	stdout, stderr []byte
}

// runDirect runs argv in workDir without a sandbox, in a process group of
// its own that the end of ctx kills.
func (r *Runner) runDirect(ctx context.Context, workDir string, argv, env []string) (*jobRun, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	killGroupOnCancel(cmd)
	cmd.Dir = workDir
	cmd.Env = env
	stdout, stderr := &cappedBuffer{limit: r.opts.MaxOutput}, &cappedBuffer{limit: r.opts.MaxOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return nil, fmt.Errorf("run %s: %w", filepath.Base(argv[0]), err)
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return &jobRun{status: ws, stdout: stdout.bytes(), stderr: stderr.bytes()}, nil
}

// runInSlot runs argv in workDir in the slot's sandbox; the job's output
// goes to files in its directory dir, read back capped.
func (r *Runner) runInSlot(ctx context.Context, slot *sandboxSlot, dir, workDir string, argv, env []string) (*jobRun, error) {
	rep, err := slot.run(ctx, &sandboxworker.Request{Argv: argv, Env: env, Dir: workDir,
		Stdout: filepath.Join(dir, jobStdout), Stderr: filepath.Join(dir, jobStderr)})
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", filepath.Base(argv[0]), err)
	}
	if rep.Err != "" {
		return nil, fmt.Errorf("run %s: %s", filepath.Base(argv[0]), rep.Err)
	}
	run := &jobRun{status: rep.WaitStatus()}
	if run.stdout, err = r.readOutput(filepath.Join(dir, jobStdout)); err != nil {
		return nil, err
	}
	if run.stderr, err = r.readOutput(filepath.Join(dir, jobStderr)); err != nil {
		return nil, err
	}
	return run, nil
}

// readOutput reads an output file of the job, as much of it as a reply
// keeps, with a note when it was cut.
func (r *Runner) readOutput(name string) ([]byte, error) {
	f, err := openJobFile(name)
	if err != nil {
		return nil, fmt.Errorf("read the job's output: %w", err)
	}
	defer f.Close()
	buf := &cappedBuffer{limit: r.opts.MaxOutput}
	if _, err := io.Copy(buf, io.LimitReader(f, int64(r.opts.MaxOutput)+1)); err != nil {
		return nil, fmt.Errorf("read the job's output: %w", err)
	}
	return buf.bytes(), nil
}

// statusCode is a finished process's exit code, or 128+N when signal N
// killed it.
func statusCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
