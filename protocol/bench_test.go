package protocol

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkTransportThroughput measures the transport over loopback TCP: a
// client sends a CachePut of the given size on one yamux stream (lz4 framing
// included) and reads the small answer, over TLS 1.3 (the default) and over
// plain TCP. The payloads are preprocessed-like text (compressible) and
// random bytes (not), from 64 KiB to 16 MiB; b.SetBytes makes "go test
// -bench" print MB/s. Client and server share the process (and its CPUs).
func BenchmarkTransportThroughput(b *testing.B) {
	for _, wire := range []string{"tls", "plain"} {
		b.Run(wire, func(b *testing.B) { benchThroughput(b, wire) })
	}
}

// BenchmarkDial measures setting up a session: TCP connect, the TLS
// handshake (or the plain preamble), the token handshake and yamux, both
// sides' CPU included (they share the process).
func BenchmarkDial(b *testing.B) {
	const token = "bench-token-0123456789abcdef"
	for _, wire := range []string{"tls", "plain"} {
		b.Run(wire, func(b *testing.B) {
			var cfg *tls.Config
			if wire == "tls" {
				cfg = testTLS(b)
			}
			s := startServerWire(b, []string{token}, func(context.Context, Message) Message { return &StatusResult{} }, cfg)
			cpu := processCPU(b)
			defer reportCPU(b, cpu)
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				cs, err := Dial(ctx, s.addr, token, "bench", s.transport)
				cancel()
				require.NoError(b, err)
				_ = cs.Close()
			}
		})
	}
}

func benchThroughput(b *testing.B, wire string) {
	const token = "bench-token-0123456789abcdef"
	var cfg *tls.Config
	if wire == "tls" {
		cfg = testTLS(b)
	}
	s := startServerWire(b, []string{token}, func(_ context.Context, req Message) Message {
		return &CachePutResult{Stored: len(req.(*CachePut).Entry) > 0}
	}, cfg)
	cs := s.dial(b, token)
	text := []byte("static int f(int x) { return x * 2 + 1; } /* preprocessed C */\n")
	for _, size := range []int{64 << 10, 1 << 20, 16 << 20} {
		for _, kind := range []string{"text", "random"} {
			payload := make([]byte, size)
			if kind == "random" {
				_, _ = rand.Read(payload)
			} else {
				for i := range payload {
					payload[i] = text[i%len(text)]
				}
			}
			b.Run(fmt.Sprintf("%s-%dKiB", kind, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				req := &CachePut{Project: "bench", Key: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Entry: payload}
				cpu := processCPU(b)
				for b.Loop() {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					_, err := cs.Call(ctx, req, MsgCachePutResult)
					cancel()
					require.NoError(b, err)
				}
				reportCPU(b, cpu)
			})
		}
	}
}

// processCPU is the CPU time (user and system) the process used so far:
// client and server together, as they share it.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since before (both sides'),
// in microseconds: less sensitive than wall time to a busy machine.
func reportCPU(b *testing.B, before time.Duration) {
	b.ReportMetric(float64((processCPU(b)-before).Microseconds())/float64(b.N), "cpu-us/op")
}
