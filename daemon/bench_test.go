//go:build unix

package daemon

import (
	"context"
	"testing"
)

// BenchmarkRoundTrip is one trivial request (status) on an open connection.
func BenchmarkRoundTrip(b *testing.B) {
	r := serve(b, ServerOptions{}, &fakeBackend{})
	c := dial(b, r.socket)
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrapperCompile is what one wrapper does: connect, shake hands,
// send a compile (a fake backend answers at once), close.
func BenchmarkWrapperCompile(b *testing.B) {
	r := serve(b, ServerOptions{}, &fakeBackend{compile: func(context.Context, CompileRequest) CompileResult {
		return CompileResult{Handled: true, Reason: "direct hit", Stdout: nil, Stderr: []byte("warning\n")}
	}})
	ctx := context.Background()
	req := CompileRequest{Compiler: "gcc", Real: "/usr/bin/gcc", Args: []string{"-O2", "-c", "src/a.c", "-o", "a.o"},
		Dir: "/home/u/project", Env: make([]string, 40)}
	for i := range req.Env {
		req.Env[i] = "VARIABLE_NUMBER_" + string(rune('A'+i%26)) + "=some/fairly/long/value:/usr/local/bin:/usr/bin"
	}
	for b.Loop() {
		c, err := Dial(ctx, r.socket, helperBuild)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Compile(ctx, req); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkEnsure is Ensure when the daemon runs (every wrapper's path).
func BenchmarkEnsure(b *testing.B) {
	r := serve(b, ServerOptions{}, &fakeBackend{})
	opts := helperEnsureOptions(r.socket, helperBuild, "")
	ctx := context.Background()
	for b.Loop() {
		c, err := Ensure(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkExecutableBuildID is the uncached cost of the build id.
func BenchmarkExecutableBuildID(b *testing.B) {
	for b.Loop() {
		if _, err := executableBuildID(); err != nil {
			b.Fatal(err)
		}
	}
}
