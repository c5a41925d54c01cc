// Command dccd is dcc's per-user daemon: it owns the cache database and
// answers the compiles of every dcc wrapper over a Unix socket in $DCC_DIR.
// dcc starts it on demand ("dcc daemon start" too); it runs in the foreground,
// logging to stderr, and exits after idle_timeout without requests.
//
// "dccd --dcc=PATH COMMAND ARGS..." runs one of dcc's subcommands instead,
// on behalf of the dcc at PATH: dcc hands them over so as not to link them.
//
// DCC_CPUPROFILE=FILE writes a CPU profile of the daemon's whole run to FILE
// (read it with "go tool pprof"), for measuring where a build's time goes.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/dcc-build/dcc/cli"
	"github.com/dcc-build/dcc/compile"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/pace"
	"github.com/dcc-build/dcc/wrapper"
)

func main() {
	cli.NewBackend = func(_ context.Context, cfg *config.Config, log *slog.Logger) (daemon.Backend, error) {
		return compile.Open(cfg, log)
	}
	pace.Drop() // Ensure started this daemon paced (package pace); its compilers need not be
	args := []string{"daemon", "run"}
	if len(os.Args) == 1 {
		setProcs()
	}
	if len(os.Args) > 1 {
		self, ok := strings.CutPrefix(os.Args[1], wrapper.CommandFlag)
		if !ok || self == "" {
			fmt.Fprintf(os.Stderr, "dccd: unexpected argument %q: dccd is dcc's daemon and takes none (run dcc help)\n", os.Args[1])
			os.Exit(2)
		}
		wrapper.SetExecutable(self)
		args = os.Args[2:]
	}
	stop := startProfile(os.Getenv("DCC_CPUPROFILE"))
	code := cli.Execute(context.Background(), args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// setProcs runs the daemon on a quarter of the CPUs (at least one) unless
// GOMAXPROCS says otherwise: its own work is a few per cent of each
// compile's (the compilers are processes of their own), and fewer
// processors for the Go runtime mean fewer threads handing work to each
// other: measured, 0.6-1 ms less daemon CPU per remotely compiled unit on
// two cores, a fifth of the daemon's own.
func setProcs() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	runtime.GOMAXPROCS(max(1, (runtime.NumCPU()+3)/4))
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
