// Command dcc is the compiler wrapper: "dcc gcc -c a.c", a masquerade link named
// "gcc", or one of dcc's subcommands ("dcc explain", "dcc stats", "dcc daemon").
// It links no database, so that starting it once per compile stays cheap; the
// cache lives in the daemon, dccd.
package main

import (
	"context"
	"os"

	"github.com/dcc-build/dcc/cli"
	"github.com/dcc-build/dcc/wrapper"
)

func main() {
	ctx := context.Background()
	inv := wrapper.Detect(os.Args, cli.IsCommand)
	if inv.Mode == wrapper.ModeCommand {
		os.Exit(cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(wrapper.Compile(ctx, inv, os.Stderr))
}
