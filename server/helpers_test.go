package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/stretchr/testify/require"
)

// requireReal reports whether DCC_REQUIRE_REAL holds a true value as
// strconv.ParseBool reads it ("1", "t", "true", ...; `make test` and CI set
// 1): then a missing compiler fails the test instead of skipping it. Unset
// or empty is false; a value ParseBool does not take fails the test, so that
// a misspelt setting cannot quietly skip what it was meant to require. The
// integration tests read it the same way (integration/harness_test.go).
func requireReal(tb testing.TB) bool {
	tb.Helper()
	v := os.Getenv("DCC_REQUIRE_REAL")
	if v == "" {
		return false
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		tb.Fatalf("DCC_REQUIRE_REAL=%q: want a boolean (1, true, 0, false, ...)", v)
	}
	return on
}

// realCompiler probes a compiler on PATH, skipping the test when there is
// none (failing instead when DCC_REQUIRE_REAL is true; see requireReal).
func realCompiler(t testing.TB, name string) Compiler {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if requireReal(t) {
			t.Fatalf("%s not on PATH", name)
		}
		t.Skipf("%s not on PATH", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := probeCompiler(ctx, &toolchain.Prober{}, name)
	require.NoError(t, err)
	return c
}

// fakeCompiler writes a shell script that stands for a gcc compiler.
func fakeCompiler(t testing.TB, script string) Compiler {
	t.Helper()
	path := filepath.Join(reachableTempDir(t), "fake-gcc")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755))
	return Compiler{Info: protocol.Toolchain{Key: "id2-fake", Family: "gcc", Driver: "gcc", Version: "0", Target: "test"},
		Path: path, Family: toolchain.FamilyGCC}
}

// reachableTempDir is a temporary directory that every user may reach: the
// sandbox binds the compilers' directories, and, started as root, runs them
// as an unprivileged user, who must reach them.
func reachableTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	return dir
}

// newTestRunner returns a Runner over compilers, with its workdir.
func newTestRunner(t *testing.T, opts RunnerOptions, compilers ...Compiler) (*Runner, string) {
	t.Helper()
	if opts.Workdir == "" {
		opts.Workdir = filepath.Join(t.TempDir(), "work")
	}
	if opts.TreeDir == "" {
		opts.TreeDir = filepath.Join(t.TempDir(), "trees")
	}
	if opts.Jobs == 0 {
		opts.Jobs = 2
	}
	opts.Toolchains = NewToolchains(compilers)
	r, err := NewRunner(opts)
	require.NoError(t, err)
	return r, r.workdir
}

// localCompile runs a compiler in dir and returns the object it wrote.
func localCompile(t testing.TB, dir, compiler string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(compiler, append(args, "-o", "local.o")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PWD="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	obj, err := os.ReadFile(filepath.Join(dir, "local.o"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "local.o")))
	return obj
}

// clientUnit writes a small C source in a fresh client directory and
// preprocesses it there with compiler, returning the directory and text.
func clientUnit(t testing.TB, compiler string) (dir string, text []byte) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "client", "src")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	src := `#include <stdio.h>
struct point { int x, y; };
static int square(int v) { return v * v; }
int norm2(struct point p) { return square(p.x) + square(p.y); }
int main(void) { struct point p = {3, 4}; printf("%d\n", norm2(p)); return 0; }
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.c"), []byte(src), 0o644))
	cmd := exec.Command(compiler, "-E", "x.c", "-o", "x.i")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PWD="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	text, err = os.ReadFile(filepath.Join(dir, "x.i"))
	require.NoError(t, err)
	return dir, text
}

// assertEmptyDir fails when dir has entries.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	require.Empty(t, names, "job directories left in %s", dir)
}
