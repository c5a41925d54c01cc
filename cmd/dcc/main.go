// Command dcc is the compiler wrapper: "dcc gcc -c a.c", a masquerade link named
// "gcc", or one of dcc's subcommands ("dcc explain", "dcc stats", "dcc daemon").
// It links neither the database nor the subcommands, so that starting it once
// per compile stays cheap: the cache lives in the daemon, dccd, which also
// runs the subcommands (dcc becomes "dccd --dcc=PATH COMMAND ...").
package main

import (
	"context"
	"os"

	"github.com/dcc-build/dcc/wrapper"
)

func main() {
	inv := wrapper.Detect(os.Args, wrapper.IsCommand)
	if inv.Mode == wrapper.ModeCommand {
		os.Exit(wrapper.RunCommand(os.Args[1:], os.Stderr))
	}
	os.Exit(wrapper.Compile(context.Background(), inv, os.Stderr))
}
