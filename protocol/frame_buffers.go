package protocol

import (
	"sync"

	"github.com/pierrec/lz4/v4"
)

// Buffers for encoding frames: a client frames a unit's whole preprocessed
// text (typically 100 KiB to a few MiB) for every remote compile, and fresh
// buffers of that size are zeroed and faulted in each time. Buffers past
// maxPooledBuffer are left to the garbage collector, so that one huge
// message does not stay allocated.
const maxPooledBuffer = 8 << 20

var bufferPool sync.Pool // of *[]byte

// getBuffer returns a buffer of length 0 and capacity at least n.
func getBuffer(n int) *[]byte {
	if b, ok := bufferPool.Get().(*[]byte); ok {
		if cap(*b) >= n {
			*b = (*b)[:0]
			return b
		}
		bufferPool.Put(b)
	}
	b := make([]byte, 0, n)
	return &b
}

// putBuffer gives a buffer back for reuse (nil is ignored).
func putBuffer(b *[]byte) {
	if b != nil && cap(*b) <= maxPooledBuffer {
		bufferPool.Put(b)
	}
}

// largeBlock is the payload size from which compressBlock uses the
// reference implementation's fast algorithm: on blocks of 64 KiB and more it
// is faster (measured on preprocessed-like text: BenchmarkEncodeCompileRequest)
// for a slightly larger output.
const largeBlock = 64 << 10

var cCompatPool = sync.Pool{New: func() any { return new(lz4.CompressorCCompat) }}

// compressBlock compresses src into dst as one lz4 block (the format
// lz4.UncompressBlock reads), as lz4.CompressBlock does.
func compressBlock(src, dst []byte) (int, error) {
	if len(src) < largeBlock {
		return lz4.CompressBlock(src, dst, nil)
	}
	c := cCompatPool.Get().(*lz4.CompressorCCompat)
	defer cCompatPool.Put(c)
	return c.CompressBlock(src, dst)
}
