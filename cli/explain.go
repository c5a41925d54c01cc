package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/dcc-build/dcc/toolchain"
	"github.com/spf13/cobra"
)

// newExplain builds "dcc explain COMPILER ARGS...".
func newExplain(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "explain COMPILER [ARGS...]",
		Short: "Print, as JSON, what dcc would do with a compile command, without running it",
		Long: `Prints one JSON object: the action (remote: cacheable and distributable; cache:
cacheable, compiled here only; local: run unchanged), the reason, the compiler
family, language, source, every output file, the preprocessor-only and
code-generation arguments, and the preprocess and remote compile command lines.
Paths are as the compiler resolves them against the current directory.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
				return cmd.Help()
			}
			dir, err := os.Getwd()
			if err != nil {
				return fmt.Errorf("explain: working directory: %w", err)
			}
			a := toolchain.Classify(toolchain.Command{Compiler: args[0], Args: args[1:], Dir: dir})
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(a)
		},
	}
}
