// Package filehash computes content digests of files (BLAKE3-256) and
// memoizes them by path and stat data, so that a warm rebuild stats headers
// instead of reading them again.
package filehash

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/dcc-build/dcc/cache"
	"github.com/zeebo/blake3"
)

// Info is what hashing a file finds.
type Info struct {
	// Digest is the BLAKE3-256 digest of the content.
	Digest cache.Digest
	// Size is the content's length in bytes.
	Size int64
	// TimeMacros is true when the content contains __DATE__, __TIME__ or
	// __TIMESTAMP__: a compile that reads it depends on the clock, so direct
	// mode must not be used for it (as in ccache).
	TimeMacros bool
	// Changed is the later of the file's modification and status-change
	// times (Unix nanoseconds) when it was hashed.
	Changed int64
	// ModTime is the file's modification time (Unix nanoseconds) when it
	// was hashed.
	ModTime int64
	// AssemblerReads is true when the content names an assembler directive
	// that reads another file (.incbin, .include, in any case): inline
	// assembly in C, or an assembler source, makes the assembler read a
	// file no preprocessor reports, so such a compile is not cached.
	AssemblerReads bool
	// Probes is true when the content contains __has_include (or
	// __has_include_next): the preprocessor looked for files it does not
	// report, found or not.
	Probes bool
}

// ErrNotRegular is wrapped by the error Memo.Hash returns for a path that is
// not a regular file (a directory, a device).
var ErrNotRegular = errors.New("not a regular file")

// HashBytes returns the BLAKE3-256 digest of data.
func HashBytes(data []byte) cache.Digest { return blake3.Sum256(data) }

var (
	macroDate  = []byte("__DATE__")
	macroTime  = []byte("__TIME") // __TIME__ and __TIMESTAMP__
	hasInclude = []byte("__has_include")
	// longestMac is the longest pattern the scans look for ("__has_include"
	// and ".incbin" are shorter, "__TIMESTAMP__" the longest), so a chunk
	// keeps that much of the previous one.
	longestMac = len("__TIMESTAMP__") + 1
)

// assemblerReadDirectives are the assembler directives that read a file, in
// lower case (the GNU assembler reads directive names in any case).
var assemblerReadDirectives = [][]byte{[]byte("incbin"), []byte("include")}

// HasAssemblerReads reports whether data names .incbin or .include, in any
// case, followed by something other than a letter, digit or underscore
// (so ".IncludeLoc" in C++ does not count). Comments and strings count too:
// a false positive only costs caching that one compile.
func HasAssemblerReads(data []byte) bool {
	for rest := data; ; {
		i := bytes.IndexByte(rest, '.')
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
		if len(rest) == 0 || (rest[0]|0x20) != 'i' {
			continue
		}
		for _, d := range assemblerReadDirectives {
			if len(rest) >= len(d) && bytes.EqualFold(rest[:len(d)], d) &&
				(len(rest) == len(d) || !isIdentByte(rest[len(d)])) {
				return true
			}
		}
	}
}

// HasIncludeProbes reports whether data contains __has_include (which also
// finds __has_include_next).
func HasIncludeProbes(data []byte) bool { return bytes.Contains(data, hasInclude) }

// isIdentByte reports whether c can continue a C identifier.
func isIdentByte(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

// HasTimeMacros reports whether data contains __DATE__, __TIME__ or
// __TIMESTAMP__ anywhere (comments and strings included: a false positive
// only costs direct mode).
func HasTimeMacros(data []byte) bool {
	if bytes.Contains(data, macroDate) {
		return true
	}
	for rest := data; ; {
		i := bytes.Index(rest, macroTime)
		if i < 0 {
			return false
		}
		rest = rest[i+len(macroTime):]
		if bytes.HasPrefix(rest, []byte("__")) || bytes.HasPrefix(rest, []byte("STAMP__")) {
			return true
		}
	}
}

// chunkSize is how much of a file is read and hashed at a time.
const chunkSize = 64 << 10

// buffers holds read buffers: a chunk plus room for the tail of the previous
// chunk, so a macro name split across two reads is still found.
var buffers = sync.Pool{New: func() any { b := make([]byte, longestMac-1+chunkSize); return &b }}

// hashReader reads r to its end, returning its digest, length and whether it
// contains a time macro.
func hashReader(r io.Reader) (Info, error) {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	buf := *bp
	h := blake3.New()
	var info Info
	carry := 0 // bytes at buf's start kept from the previous read
	for {
		n, err := r.Read(buf[carry:])
		if n > 0 {
			_, _ = h.Write(buf[carry : carry+n]) // a hash.Hash never fails
			info.Size += int64(n)
			window := buf[:carry+n]
			if !info.TimeMacros && HasTimeMacros(window) {
				info.TimeMacros = true
			}
			if !info.AssemblerReads && HasAssemblerReads(window) {
				info.AssemblerReads = true
			}
			if !info.Probes && HasIncludeProbes(window) {
				info.Probes = true
			}
			if keep := longestMac - 1; len(window) > keep {
				carry = copy(buf, window[len(window)-keep:])
			} else {
				carry = len(window)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Info{}, fmt.Errorf("read: %w", err)
		}
	}
	copy(info.Digest[:], h.Sum(nil))
	return info, nil
}
