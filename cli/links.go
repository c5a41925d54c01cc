package cli

import (
	"flag"
	"fmt"
	"os"

	"github.com/dcc-build/dcc/wrapper"
)

// installLinksCommand is "dcc install-links DIR".
func installLinksCommand() command {
	return command{
		name: "install-links", usage: "DIR",
		summary: "Make DIR a masquerade directory: a link to dcc for each compiler in PATH",
		details: `Makes a symlink to dcc in DIR for every compiler driver found in PATH (gcc, g++,
cc, c++, clang, clang++, versioned and target-prefixed names such as gcc-12 or
x86_64-linux-gnu-gcc-12, clang-cl, cl.exe), and one named ccache when ccache is
in PATH: a build system that puts ccache in front of every compile (meson does
when it finds it) then runs dcc, which takes ccache's command line. Put DIR
first in PATH to send every compile through dcc; dcc skips DIR when it looks
for the real compiler. Existing
links to dcc are kept; any other file in the way is an error, never overwritten.`,
		run: func(e env, args []string) error {
			if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
				if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
					return flag.ErrHelp
				}
				return fmt.Errorf("%w: install-links takes one directory", errUsage)
			}
			self, err := executable()
			if err != nil {
				return err
			}
			f, err := wrapper.NewFinder(os.Getenv("PATH"), nil)
			if err != nil {
				return err
			}
			links, err := InstallLinks(args[0], self, f)
			if err != nil {
				return err
			}
			if len(links) == 0 {
				return fmt.Errorf("no compiler found in PATH")
			}
			for _, l := range links {
				if l.Name == wrapper.CcacheName {
					fmt.Fprintf(e.stdout, "%s -> dcc (in place of %s: builds that put ccache in front of compiles get dcc)\n", l.Name, l.Real)
					continue
				}
				fmt.Fprintf(e.stdout, "%s -> dcc (real compiler %s)\n", l.Name, l.Real)
			}
			return nil
		},
	}
}
