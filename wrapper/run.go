package wrapper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/dcc-build/dcc/daemon"
)

// LogEnv names the file of dcc's decisions (see daemon.LogEnv).
const LogEnv = daemon.LogEnv

// Exit codes of dcc's own failures, as a shell uses them.
const (
	// ExitNotFound: the real compiler does not exist.
	ExitNotFound = 127
	// ExitCannotRun: the real compiler exists but could not be started (or a loop was stopped).
	ExitCannotRun = 126
)

// Compile runs the compile for inv. A compile the daemon can serve from the
// cache (or compile and store) is answered by it: its outputs are in place,
// and Compile writes the compiler's stdout and stderr and returns its exit
// code. Everything else, and anything that goes wrong on the way, runs the
// real compiler in place of dcc: same arguments, stdin, stdout, stderr, exit
// code and signals, because the process becomes the compiler (exec). It then
// returns only when that could not happen, with the exit code to use after
// printing a one-line error to stderr.
func Compile(ctx context.Context, inv Invocation, stderr io.Writer) int {
	real, env, err := prepare(inv)
	if err != nil {
		fmt.Fprintf(stderr, "dcc: %v\n", err)
		if errors.Is(err, ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return ExitNotFound
		}
		return ExitCannotRun
	}
	res, answered, why := viaDaemon(ctx, inv, real, env)
	if res.Handled {
		if len(res.Stdout) > 0 {
			os.Stdout.Write(res.Stdout)
		}
		if len(res.Stderr) > 0 {
			stderr.Write(res.Stderr)
		}
		return res.ExitCode
	}
	if !answered {
		logUnasked(ctx, inv, real, why)
	}
	argv := append([]string{real}, inv.Args...)
	err = syscall.Exec(real, argv, env)
	fmt.Fprintf(stderr, "dcc: run %s: %v\n", real, err)
	return ExitCannotRun
}

// prepare finds the real compiler and the environment to start it with.
func prepare(inv Invocation) (real string, env []string, err error) {
	chain := ParseChain(os.Getenv(ChainEnv))
	f, err := NewFinder(os.Getenv("PATH"), chain)
	if err != nil {
		return "", nil, err
	}
	real, err = f.Find(inv.Compiler)
	if err != nil {
		return "", nil, err
	}
	marker, err := ExtendChain(chain, real)
	if err != nil {
		return "", nil, err
	}
	return real, withEnv(os.Environ(), ChainEnv, marker), nil
}

// logUnasked appends to the DCC_LOG file, if set, that the compile runs
// unchanged because the daemon was not asked (why).
func logUnasked(ctx context.Context, inv Invocation, real, why string) {
	path := os.Getenv(LogEnv)
	if path == "" {
		return
	}
	dir, _ := os.Getwd()
	daemon.AppendDecision(ctx, path, daemon.Decision{Compiler: inv.Compiler, Real: real, Dir: dir, Action: "local", Reason: why})
}
