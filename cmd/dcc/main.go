// Command dcc is the compiler wrapper: "dcc gcc -c a.c", a masquerade link named
// "gcc", or one of dcc's subcommands ("dcc explain", "dcc stats", "dcc daemon").
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/dcc-build/dcc/cli"
	"github.com/dcc-build/dcc/compile"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/wrapper"
)

func main() {
	ctx := context.Background()
	inv := wrapper.Detect(os.Args, cli.IsCommand)
	if inv.Mode == wrapper.ModeCommand {
		cli.NewBackend = func(_ context.Context, cfg *config.Config, log *slog.Logger) (daemon.Backend, error) {
			return compile.Open(cfg, log)
		}
		os.Exit(cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(wrapper.Compile(ctx, inv, os.Stderr))
}
