// Command dccd is dcc's per-user daemon: it owns the cache database and
// answers the compiles of every dcc wrapper over a Unix socket in $DCC_DIR.
// dcc starts it on demand ("dcc daemon start" too); it runs in the foreground,
// logging to stderr, and exits after idle_timeout without requests.
//
// DCC_CPUPROFILE=FILE writes a CPU profile of the daemon's whole run to FILE
// (read it with "go tool pprof"), for measuring where a build's time goes.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/dcc-build/dcc/cli"
	"github.com/dcc-build/dcc/compile"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
)

func main() {
	cli.NewBackend = func(_ context.Context, cfg *config.Config, log *slog.Logger) (daemon.Backend, error) {
		return compile.Open(cfg, log)
	}
	stop := startProfile(os.Getenv("DCC_CPUPROFILE"))
	code := cli.Execute(context.Background(), []string{"daemon", "run"}, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// startProfile starts a CPU profile into path (none when path is empty) and
// returns the function that ends it.
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "dccd: DCC_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
