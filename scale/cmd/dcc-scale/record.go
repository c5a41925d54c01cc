package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/dcc-build/dcc/scale"
)

// record compiles a real project's units once with real gcc and writes
// their times as a trace.
func record(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	src := fs.String("src", "", "libtomcrypt's source tree (scripts/fetch-project.sh libtomcrypt prints it)")
	out := fs.String("o", "scale/testdata/trace-libtomcrypt.tsv", "the trace to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *src == "" {
		return fmt.Errorf("record: -src is required")
	}
	t, err := scale.Record(ctx, scale.LibtomcryptRecording(*src))
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := t.WriteTSV(f); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "dcc-scale: %d units, %s of compiling in all, in %s\n", len(t.Units), t.Total(), *out)
	return f.Close()
}
