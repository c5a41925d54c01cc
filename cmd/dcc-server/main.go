// Command dcc-server is a dcc compile host: it compiles preprocessed units
// for dcc daemons on the allowed networks that know one of its tokens, keeps
// a result cache so that a unit compiles once for everyone, and serves a
// shared cache the team's daemons fill. Run it in the foreground, or control
// it as a daemon with --start, --stop, --restart, --reload and --status; -h
// lists the flags. The work is done by package server.
//
// It runs at the Go runtime's default pace, unlike the cache daemon
// (package pace): a paced host saved about 0.5 ms of its own CPU per job,
// but its monitor thread polled every 10 ms while idle, 2.2 ms of CPU a
// second against 0.15 unpaced once its cache database no longer ran
// compactors while idle. A host is idle most of the day. GODEBUG's
// schedtrace, set where it starts, paces it anyway.
package main

import (
	"context"
	"os"

	"github.com/dcc-build/dcc/server"
	"github.com/dcc-build/dcc/server/sandboxworker"
)

func main() {
	// In a compile slot's sandbox, this program runs the slot's jobs.
	if len(os.Args) > 1 && os.Args[1] == sandboxworker.Arg {
		os.Exit(sandboxworker.Main(os.Args[2:]))
	}
	os.Exit(server.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
