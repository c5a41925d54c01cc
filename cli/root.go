// Package cli holds dcc's own subcommands (explain, stats, config, daemon,
// connect, hosts, jobs, install-links, version, ...):
// everything dcc does when it is not standing in for a compiler.
//
// It uses the standard flag package rather than a CLI framework: dcc starts
// once per compile, and a framework's start-up cost would be paid by every
// compile, not only by the subcommands.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dcc-build/dcc/wrapper"
)

// Version is dcc's version, set at build time with -ldflags "-X".
var Version = "0.1.0-dev"

// errUsage marks an error caused by how a subcommand was called; the usage is printed with it.
var errUsage = errors.New("usage")

// env is what a subcommand runs with.
type env struct {
	ctx            context.Context
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	usage   string // the arguments, for the usage line
	summary string
	// details follows the usage line in "dcc help NAME".
	details string
	run     func(e env, args []string) error
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		explainCommand(), statsCommand(), clearCommand(), configCommand(), daemonCommand(),
		connectCommand(), disconnectCommand(), jobsCommand(), hostsCommand(), monitorCommand(), cleanCommand(),
		installLinksCommand(), doctorCommand(), versionCommand(),
	}
}

// Execute runs one dcc subcommand with args (without the program name) and
// returns the process exit code: 0, 1 when the command failed, 2 for bad usage.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := env{ctx: ctx, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := find(args[1]); ok {
				printCommandHelp(stdout, c)
				return 0
			}
		}
		printHelp(stdout)
		return 0
	}
	if args[0] == "--version" {
		args = []string{"version"}
	}
	if translated, ok, err := ccacheOption(args); ok {
		if err != nil {
			fmt.Fprintf(stderr, "dcc: %v\n", err)
			return 2
		}
		args = translated
	}
	c, ok := find(args[0])
	if !ok {
		fmt.Fprintf(stderr, "dcc: unknown command or option %q (see dcc help)\n", args[0])
		return 2
	}
	if err := c.run(e, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, c)
			return 0
		}
		fmt.Fprintf(stderr, "dcc %s: %v\n", c.name, err)
		if errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "usage: dcc %s %s\n", c.name, c.usage)
			return 2
		}
		return 1
	}
	return 0
}

// find returns the subcommand called name.
func find(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// printHelp prints dcc's overall help.
func printHelp(w io.Writer) {
	fmt.Fprint(w, `dcc stands in front of a real compiler.

  Prefix use:      dcc gcc -c a.c -o a.o      (CC="dcc gcc", or CMAKE_C_COMPILER_LAUNCHER=dcc)
  Masquerade use:  dcc install-links ~/.dcc/bin && export PATH=~/.dcc/bin:$PATH
                   (then "gcc", "clang++", "cl.exe", ... run through dcc)

dcc finds the real compiler in PATH, skipping its own links, and runs it with the
same arguments, input, output, exit code and signals.

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nccache's options work too: -s (stats), -z (stats --zero), -C (clear), -p (config),\n"+
		"-M SIZE (config set max_size SIZE), -V (version), and their long forms.\n")
	fmt.Fprint(w, "\nRun \"dcc help COMMAND\" for a command's details.\n")
}

// printCommandHelp prints one subcommand's help.
func printCommandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "usage: dcc %s %s\n\n%s\n", c.name, c.usage, c.summary)
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.details))
	}
}

// versionCommand is "dcc version".
func versionCommand() command {
	return command{
		name: "version", summary: "Print dcc's version",
		run: func(e env, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: version takes no arguments", errUsage)
			}
			_, err := fmt.Fprintf(e.stdout, "dcc %s\n", Version)
			return err
		},
	}
}

// executable returns dcc's own path (dccd runs the subcommands for dcc).
func executable() (string, error) {
	exe, err := wrapper.Executable()
	if err != nil {
		return "", fmt.Errorf("find dcc's executable: %w", err)
	}
	return exe, nil
}
