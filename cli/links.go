package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/dcc-build/dcc/wrapper"
	"github.com/spf13/cobra"
)

// newInstallLinks builds "dcc install-links DIR".
func newInstallLinks(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "install-links DIR",
		Short: "Make DIR a masquerade directory: a link to dcc for each compiler in PATH",
		Long: `Makes a symlink to dcc in DIR for every compiler driver found in PATH (gcc, g++,
cc, c++, clang, clang++, versioned and target-prefixed names such as gcc-12 or
x86_64-linux-gnu-gcc-12, clang-cl, cl.exe). Put DIR first in PATH to send every
compile through dcc; dcc skips DIR when it looks for the real compiler.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			self, err := executable()
			if err != nil {
				return err
			}
			f, err := wrapper.NewFinder(os.Getenv("PATH"), nil)
			if err != nil {
				return err
			}
			links, err := wrapper.InstallLinks(args[0], self, f)
			if err != nil {
				return fmt.Errorf("install-links: %w", err)
			}
			for _, l := range links {
				fmt.Fprintf(stdout, "%s -> dcc (real compiler %s)\n", l.Name, l.Real)
			}
			if len(links) == 0 {
				return fmt.Errorf("install-links: no compiler found in PATH")
			}
			return nil
		},
	}
}
