package compile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
)

// output is what one process run produced.
type output struct {
	stdout, stderr []byte
	exit           int
}

// runProcess runs argv in dir with env, capturing stdout and stderr. A non-zero
// exit is not an error (it is in exit); failing to start the process is. The
// process is killed when ctx is cancelled. Its stdin is /dev/null, and extra
// are its descriptors from 3 on.
func runProcess(ctx context.Context, dir string, env []string, argv []string, extra ...*os.File) (output, error) {
	stdout, err := newCapture("stdout")
	if err != nil {
		return output{}, fmt.Errorf("run %s: %w", argv[0], err)
	}
	defer stdout.Close()
	stderr, err := newCapture("stderr")
	if err != nil {
		return output{}, fmt.Errorf("run %s: %w", argv[0], err)
	}
	defer stderr.Close()
	stdin, err := devNull()
	if err != nil {
		return output{}, fmt.Errorf("run %s: %w", argv[0], err)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.ExtraFiles = extra
	if err = cmd.Start(); err == nil {
		awaitExit(cmd.Process.Pid)
		err = cmd.Wait()
	}
	var out output
	var rerr error
	if out.stdout, rerr = readCapture(stdout); rerr == nil {
		out.stderr, rerr = readCapture(stderr)
	}
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
	if rerr != nil {
		return out, fmt.Errorf("run %s: %w", argv[0], rerr)
	}
	return out, nil
}

// extraName is the name a child process opens runProcess's extra
// descriptor i by.
func extraName(i int) string {
	return "/dev/fd/" + strconv.Itoa(3+i)
}

// maxCapture bounds the stdout or stderr kept from one process; a compiler
// printing more is not something to cache or replay.
const maxCapture = 1 << 30

// readCapture reads what a process wrote to a capture file.
func readCapture(f *os.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read captured output: %w", err)
	}
	size := info.Size()
	if size == 0 {
		return nil, nil
	}
	if size > maxCapture {
		return nil, fmt.Errorf("read captured output: %d bytes, more than %d", size, maxCapture)
	}
	buf := make([]byte, size)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read captured output: %w", err)
	}
	return buf[:n], nil
}

// devNull returns /dev/null opened for reading, once for the process: the
// stdin of every compiler the daemon runs.
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

// withCompiler returns argv with its first element replaced by the real
// compiler's path (the analysis names the compiler as the user did).
func withCompiler(argv []string, real string) []string {
	out := append([]string(nil), argv...)
	out[0] = real
	return out
}
