package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/dcc-build/dcc/toolchain"
	"github.com/dcc-build/dcc/wrapper"
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
// and probes its identity; it returns the compiler's path too.
func identify(ctx context.Context, p *toolchain.Prober, name string) (toolchain.Identity, string, error) {
	f, err := wrapper.NewFinder(os.Getenv("PATH"), nil)
	if err != nil {
		return toolchain.Identity{}, "", err
	}
	real, err := f.Find(name)
	if err != nil {
		return toolchain.Identity{}, "", err
	}
	id, err := p.Probe(ctx, real)
	return id, real, err
}

// explainCommand is "dcc explain COMPILER ARGS...".
func explainCommand() command {
	return command{
		name: "explain", usage: "COMPILER [ARGS...]",
		summary: "Print, as JSON, what dcc would do with a compile command, without running it",
		details: `Prints one JSON object: the action (remote: cacheable and distributable; cache:
cacheable, compiled here only; local: run unchanged), the reason, the compiler
family, language, source, every output file, the preprocessor-only and
code-generation arguments, the preprocess and remote compile command lines, and
the identity of the real compiler (family confirmed by its version output,
version, target, content hash; for clang with --target, its identity for that
target). Paths are as the compiler resolves them against
the current directory. Arguments after COMPILER are the compiler's, not dcc's.`,
		run: func(e env, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("%w: explain needs a compiler command", errUsage)
			}
			if args[0] == "-h" || args[0] == "--help" {
				return flag.ErrHelp
			}
			dir, err := os.Getwd()
			if err != nil {
				return fmt.Errorf("working directory: %w", err)
			}
			out := explanation{}
			cmd := toolchain.Command{Compiler: args[0], Args: args[1:], Dir: dir}
			var p toolchain.Prober
			id, real, err := identify(e.ctx, &p, args[0])
			if err != nil {
				out.IdentityError = err.Error()
			} else {
				cmd.Family, cmd.Driver = id.Family, id.Driver
			}
			out.Analysis = toolchain.Classify(cmd)
			if target, named := toolchain.ClangTarget(out.Analysis.Args); err == nil && id.Family == toolchain.FamilyClang && named {
				// The identity the daemon keys and sends the compile under.
				if id, err = p.ProbeTarget(e.ctx, real, target); err != nil {
					out.IdentityError = err.Error()
				}
			}
			if err == nil {
				out.Identity, out.IdentityKey = &id, id.Key()
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
}
