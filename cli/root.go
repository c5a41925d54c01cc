// Package cli holds dcc's own subcommands (explain, install-links, version):
// everything dcc does when it is not standing in for a compiler.
package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Version is dcc's version, set at build time with -ldflags "-X".
var Version = "0.1.0-dev"

// IsCommand reports whether name is one of dcc's subcommands, so the wrapper
// can tell "dcc explain" from prefix use ("dcc gcc").
func IsCommand(name string) bool {
	if name == "help" || name == "completion" {
		return true
	}
	for _, c := range newRoot(io.Discard, io.Discard).Commands() {
		if c.Name() == name {
			return true
		}
	}
	return false
}

// Execute runs one dcc subcommand with args (without the program name) and
// returns the process exit code.
func Execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "dcc: %v\n", err)
		return 2
	}
	return 0
}

// newRoot builds the command tree.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "dcc",
		Short: "dcc: compiler cache and distributed compiler in front of gcc, clang and cl",
		Long: `dcc stands in front of a real compiler.

  Prefix use:      dcc gcc -c a.c -o a.o      (CC="dcc gcc", or CMAKE_C_COMPILER_LAUNCHER=dcc)
  Masquerade use:  dcc install-links ~/.dcc/bin && export PATH=~/.dcc/bin:$PATH
                   (then "gcc", "clang++", "cl.exe", ... run through dcc)

dcc finds the real compiler in PATH, skipping its own links, and runs it with the
same arguments, input, output, exit code and signals.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newExplain(stdout), newInstallLinks(stdout), newVersion(stdout))
	return root
}

// newVersion builds "dcc version".
func newVersion(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print dcc's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(stdout, "dcc %s\n", Version)
			return err
		},
	}
}

// executable returns dcc's own resolved path.
func executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find dcc's executable: %w", err)
	}
	return exe, nil
}
