// Command dcc-scale simulates a compile farm on this machine with the real
// dcc, dcc-server, distcc and distccd and a stand-in compiler, and prints
// how the farm scales (see docs/scale.md):
//
//	dcc-scale record -src DIR -o scale/testdata/trace-libtomcrypt.tsv
//	dcc-scale run [-quick] [-hosts 1,10,50,200] [-clients 1,4,16] [-json FILE]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dcc-scale record|run [flags] (dcc-scale run -h for the flags)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "record":
		err = record(ctx, os.Args[2:])
	case "run":
		err = run(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want record or run", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dcc-scale:", err)
		os.Exit(1)
	}
}
