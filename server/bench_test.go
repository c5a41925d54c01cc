package server

import (
	"fmt"
	"testing"

	"github.com/dcc-build/dcc/protocol"
)

// BenchmarkCompileRoundTrip measures one compile request through a server on
// loopback: the server's own cost per job (job directory, input written,
// compiler started, object read, directory removed) and the transport, with
// a compiler that does nothing, and with real gcc on a small unit.
func BenchmarkCompileRoundTrip(b *testing.B) {
	b.Run("noop-compiler", func(b *testing.B) {
		comp := fakeCompiler(b, ": > out.o\n")
		ts := startServer(b, func(c *Config) { c.Jobs = 4 }, func(o *Options) { o.Toolchains = NewToolchains([]Compiler{comp}) })
		s := ts.dial(b)
		req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Args: []string{"-O2"}, Preprocessed: make([]byte, 64<<10)}
		b.ResetTimer()
		for b.Loop() {
			if _, err := call(b, s, req, protocol.MsgCompileResult); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gcc", func(b *testing.B) {
		realCompiler(b, "gcc")
		ts := startServer(b, nil, nil)
		s := ts.dial(b)
		dir, text := clientUnit(b, "gcc")
		req := &protocol.CompileRequest{Toolchain: gccKey(b, s.Welcome()), Language: "c", Args: []string{"-O2"},
			Preprocessed: text, SourceName: "x.c", ClientDir: dir}
		b.ResetTimer()
		for b.Loop() {
			if _, err := call(b, s, req, protocol.MsgCompileResult); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkResultCacheHit measures a compile answered from the result cache.
func BenchmarkResultCacheHit(b *testing.B) {
	comp := fakeCompiler(b, "head -c 200000 /dev/urandom > out.o\n")
	ts := startServer(b, nil, func(o *Options) { o.Toolchains = NewToolchains([]Compiler{comp}) })
	s := ts.dial(b)
	req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: make([]byte, 64<<10),
		Project: "bench", CacheKey: fmt.Sprintf("%064x", 1)}
	if _, err := call(b, s, req, protocol.MsgCompileResult); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		m, err := call(b, s, req, protocol.MsgCompileResult)
		if err != nil {
			b.Fatal(err)
		}
		if !m.(*protocol.CompileResult).Cached {
			b.Fatal("not a cache hit")
		}
	}
}
