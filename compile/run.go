package compile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// output is what one process run produced.
type output struct {
	stdout, stderr []byte
	exit           int
}

// runProcess runs argv in dir with env, capturing stdout and stderr. A non-zero
// exit is not an error (it is in exit); failing to start the process is. The
// process is killed when ctx is cancelled.
func runProcess(ctx context.Context, dir string, env []string, argv []string) (output, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := output{stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		out.exit = ee.ExitCode()
		if out.exit < 0 {
			return out, fmt.Errorf("run %s: %v", argv[0], ee.ProcessState)
		}
	default:
		return out, fmt.Errorf("run %s: %w", argv[0], err)
	}
	return out, nil
}

// withCompiler returns argv with its first element replaced by the real
// compiler's path (the analysis names the compiler as the user did).
func withCompiler(argv []string, real string) []string {
	out := append([]string(nil), argv...)
	out[0] = real
	return out
}
