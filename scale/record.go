package scale

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// RecordOptions says how to record a trace from a real project.
type RecordOptions struct {
	// Project names the trace.
	Project string
	// Src is the project's source tree; every .c file under Dirs is a unit.
	Src string
	// Dirs are the directories under Src holding the units ("src").
	Dirs []string
	// Compiler is the real compiler ("gcc").
	Compiler string
	// Flags are the compile flags, as the project's build gives them.
	Flags []string
}

// LibtomcryptRecording is how libtomcrypt's own makefile compiles its units
// (makefile_include.mk's defaults: -O3 -funroll-loops -fomit-frame-pointer).
func LibtomcryptRecording(src string) RecordOptions {
	return RecordOptions{Project: "libtomcrypt", Src: src, Dirs: []string{"src"}, Compiler: "gcc",
		Flags: []string{"-I./src/headers/", "-Wall", "-Wsign-compare", "-Wshadow", "-DLTC_SOURCE", "-W", "-DLTC_NO_ROLC",
			"-O3", "-funroll-loops", "-fomit-frame-pointer"}}
}

// Record compiles each unit once, one at a time, with the real compiler and
// records its CPU time (user + system of the compiler and what it ran):
// unlike wall time, it does not grow when something else loads the machine.
// Units that do not compile are left out.
func Record(ctx context.Context, opts RecordOptions) (*Trace, error) {
	var sources []string
	for _, d := range opts.Dirs {
		err := filepath.WalkDir(filepath.Join(opts.Src, d), func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.HasSuffix(p, ".c") {
				rel, _ := filepath.Rel(opts.Src, p)
				sources = append(sources, rel)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list the units of %s: %w", opts.Src, err)
		}
	}
	sort.Strings(sources)
	out, err := os.MkdirTemp("", "dcc-scale-record")
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	defer os.RemoveAll(out)
	t := &Trace{Project: opts.Project}
	for i, s := range sources {
		args := append(append([]string(nil), opts.Flags...), "-c", s, "-o", filepath.Join(out, fmt.Sprintf("u%d.o", i)))
		cmd := exec.CommandContext(ctx, opts.Compiler, args...)
		cmd.Dir = opts.Src
		if msg, err := cmd.CombinedOutput(); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("record: %w", ctx.Err())
			}
			fmt.Fprintf(os.Stderr, "dcc-scale record: %s does not compile, left out: %v %s\n", s, err, firstLine(string(msg)))
			continue
		}
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		t.Units = append(t.Units, Unit{Name: s, Duration: cpu.Round(time.Millisecond)})
	}
	if len(t.Units) == 0 {
		return nil, fmt.Errorf("record: no unit of %s compiled", opts.Src)
	}
	return t, nil
}

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
