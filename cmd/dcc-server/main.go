// Command dcc-server is a dcc compile host: it compiles preprocessed units
// for dcc daemons on the allowed networks that know one of its tokens, keeps
// a result cache so that a unit compiles once for everyone, and serves a
// shared cache the team's daemons fill. Run it in the foreground, or control
// it as a daemon with --start, --stop, --restart, --reload and --status; -h
// lists the flags. The work is done by package server.
//
// It runs itself again at start with the Go runtime's monitor paced for a
// long-running server (package pace: about 0.5 ms less of its own CPU per
// job, of 4.4-4.9 ms), unless GODEBUG sets schedtrace already.
package main

import (
	"context"
	"os"

	"github.com/dcc-build/dcc/pace"
	"github.com/dcc-build/dcc/server"
	"github.com/dcc-build/dcc/server/sandboxworker"
)

func main() {
	// In a compile slot's sandbox, this program runs the slot's jobs.
	if len(os.Args) > 1 && os.Args[1] == sandboxworker.Arg {
		os.Exit(sandboxworker.Main(os.Args[2:]))
	}
	pace.Reexec()
	pace.Drop()
	os.Exit(server.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
