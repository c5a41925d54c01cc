package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/dcc-build/dcc/toolchain"
	"github.com/dcc-build/dcc/wrapper"
	"github.com/spf13/cobra"
)

// explanation is what "dcc explain" prints: the classification, and the
// identity of the real compiler the command would run.
type explanation struct {
	toolchain.Analysis
	// Identity is the real compiler's identity, confirmed by its version output.
	Identity *toolchain.Identity `json:"identity,omitempty"`
	// IdentityKey is Identity.Key(): compilers with equal keys are interchangeable.
	IdentityKey string `json:"identity_key,omitempty"`
	// IdentityError says why the compiler could not be identified.
	IdentityError string `json:"identity_error,omitempty"`
}

// identify finds the real compiler named by name (skipping dcc's own links)
// and probes its identity.
func identify(ctx context.Context, name string) (toolchain.Identity, error) {
	f, err := wrapper.NewFinder(os.Getenv("PATH"), nil)
	if err != nil {
		return toolchain.Identity{}, err
	}
	real, err := f.Find(name)
	if err != nil {
		return toolchain.Identity{}, err
	}
	return toolchain.Probe(ctx, real)
}

// newExplain builds "dcc explain COMPILER ARGS...".
func newExplain(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "explain COMPILER [ARGS...]",
		Short: "Print, as JSON, what dcc would do with a compile command, without running it",
		Long: `Prints one JSON object: the action (remote: cacheable and distributable; cache:
cacheable, compiled here only; local: run unchanged), the reason, the compiler
family, language, source, every output file, the preprocessor-only and
code-generation arguments, the preprocess and remote compile command lines, and
the identity of the real compiler (family confirmed by its version output,
version, target, content hash). Paths are as the compiler resolves them against
the current directory.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
				return cmd.Help()
			}
			dir, err := os.Getwd()
			if err != nil {
				return fmt.Errorf("explain: working directory: %w", err)
			}
			out := explanation{}
			command := toolchain.Command{Compiler: args[0], Args: args[1:], Dir: dir}
			if id, err := identify(cmd.Context(), args[0]); err != nil {
				out.IdentityError = err.Error()
			} else {
				out.Identity, out.IdentityKey = &id, id.Key()
				command.Family, command.Driver = id.Family, id.Driver
			}
			out.Analysis = toolchain.Classify(command)
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
}
