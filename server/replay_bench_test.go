package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
)

// BenchmarkReplayCost measures what replaying a clang-cl command on a host
// costs over running it there plainly: each replayed job gets a sandbox of
// its own (bubblewrap and the slot worker, started with the binds of the
// job's files and given up after it), where a job compiled from its sources
// uses a slot's sandbox kept from job to job. Pairs of one plain run of the
// command (in the client's tree, by this process) and one replayed job (the
// server in this process) are timed in blocks, in turn.
func BenchmarkReplayCost(b *testing.B) {
	comp := realCompiler(b, "clang-cl-14")
	ts := startServer(b, nil, func(o *Options) { o.Toolchains = NewToolchains([]Compiler{comp}) })
	s := ts.dial(b)
	args := []string{"/c", "/Z7", "/Brepro", "/showIncludes", "/O2", "a.c", "/Foout/a.obj"}
	dir, req, _, _ := clangCLUnit(b, comp, args)
	plain := func() {
		cmd := exec.Command(comp.Path, args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "PWD=" + dir}
		out, err := cmd.CombinedOutput()
		require.NoError(b, err, "%s", out)
		require.NoError(b, os.Remove(filepath.Join(dir, "out", "a.obj")))
	}
	replay := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m, err := s.Call(ctx, req, protocol.MsgCompileResult)
		require.NoError(b, err)
		require.Zero(b, m.(*protocol.CompileResult).ExitCode)
	}
	plain()
	replay()
	// Blocks of either kind in turn, each followed by a pause for the last
	// replayed job's sandbox to be given up. Only wall time is read: a
	// sandbox given up is killed, and what its jobs used is not all
	// accounted to this process when the kill ends them.
	const blocks, perBlock = 6, 8
	block := func(run func()) time.Duration {
		w0 := time.Now()
		for range perBlock {
			run()
		}
		wall := time.Since(w0)
		time.Sleep(300 * time.Millisecond)
		return wall
	}
	var wallExtra []time.Duration
	for range blocks {
		pw := block(plain)
		rw := block(replay)
		wallExtra = append(wallExtra, (rw-pw)/perBlock)
	}
	slices.Sort(wallExtra)
	for b.Loop() {
		// The pairs above are the measurement; b.Loop only satisfies -benchtime.
	}
	b.ReportMetric(float64(wallExtra[blocks/2].Microseconds())/1000, "extra-wall-ms/job")
	b.Logf("clang-cl /Z7 unit, %d blocks of %d jobs each way: a replayed job over a plain run, median extra wall %v (all: %v)",
		blocks, perBlock, wallExtra[blocks/2], wallExtra)
}
