// Command dccd is dcc's per-user daemon: it owns the cache database and
// answers the compiles of every dcc wrapper over a Unix socket in $DCC_DIR.
// dcc starts it on demand ("dcc daemon start" too); it runs in the foreground,
// logging to stderr, and exits after idle_timeout without requests.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/dcc-build/dcc/cli"
	"github.com/dcc-build/dcc/compile"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
)

func main() {
	cli.NewBackend = func(_ context.Context, cfg *config.Config, log *slog.Logger) (daemon.Backend, error) {
		return compile.Open(cfg, log)
	}
	os.Exit(cli.Execute(context.Background(), []string{"daemon", "run"}, os.Stdout, os.Stderr))
}
