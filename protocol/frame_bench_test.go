package protocol

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// preprocessedLike returns about size bytes of text shaped like a
// preprocessor's output: line markers, declarations and code built from a
// small vocabulary with varying names and numbers.
func preprocessedLike(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"int", "unsigned", "char", "const", "static", "return", "struct", "extern", "long", "void", "if", "while", "size_t", "uint8_t"}
	var b strings.Builder
	for b.Len() < size {
		switch r.IntN(8) {
		case 0:
			fmt.Fprintf(&b, "# %d \"/usr/include/x86_64-linux-gnu/bits/types%d.h\" 3 4\n", r.IntN(900), r.IntN(40))
		case 1:
			fmt.Fprintf(&b, "extern %s %s func_%d (%s *__restrict __s%d, %s __n) __attribute__ ((__nothrow__ , __leaf__));\n",
				words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(5000), words[r.IntN(len(words))], r.IntN(9), words[r.IntN(len(words))])
		default:
			fmt.Fprintf(&b, "    %s = s->%s_%d + (%s_%d >> %d) & 0x%x;\n", "v", "field", r.IntN(200), "w", r.IntN(300), r.IntN(16), r.IntN(1<<16))
		}
	}
	return []byte(b.String())
}

// BenchmarkEncodeCompileRequest measures framing a compile request with
// 128 KiB of preprocessed-like text (a typical unit), as the client does
// for every remote compile: encoding, lz4 and the write.
func BenchmarkEncodeCompileRequest(b *testing.B) {
	req := &CompileRequest{Toolchain: "gcc-12-x86_64", Language: "c", Args: []string{"-O2", "-c"},
		Preprocessed: preprocessedLike(128 << 10), SourceName: "deflate.c", ClientDir: "/home/u/zlib",
		Project: "zlib", CacheKey: strings.Repeat("ab", 32), TimeoutMS: 300000}
	frame, release, err := encodeFrame(req)
	require.NoError(b, err)
	wire := float64(len(frame)) / float64(len(req.Preprocessed))
	release()
	b.SetBytes(int64(len(req.Preprocessed)))
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteMessage(io.Discard, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(wire, "wire/text")
}
