package wrapper

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// CommandFlag is how dcc hands a subcommand to dccd: "dccd --dcc=PATH
// COMMAND ARGS...", PATH being dcc's own executable.
const CommandFlag = "--dcc="

// RunCommand runs one of dcc's subcommands (args as given to dcc, without
// the program name) by becoming dccd, which links them: same stdin, stdout,
// stderr and exit code. It returns only when that could not happen, with the
// exit code to use after printing a one-line error to stderr.
func RunCommand(args []string, stderr io.Writer) int {
	self, err := executable()
	if err != nil {
		fmt.Fprintf(stderr, "dcc: find dcc's executable: %v\n", err)
		return ExitCannotRun
	}
	cmd, err := DaemonCommand()
	if err != nil {
		fmt.Fprintf(stderr, "dcc: %v\n", err)
		return ExitNotFound
	}
	if len(args) == 0 {
		args = []string{"help"}
	}
	argv := append([]string{cmd[0], CommandFlag + self}, args...)
	err = syscall.Exec(cmd[0], argv, os.Environ())
	fmt.Fprintf(stderr, "dcc: run %s: %v\n", cmd[0], err)
	return ExitCannotRun
}
