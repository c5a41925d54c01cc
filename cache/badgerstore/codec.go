package badgerstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pierrec/lz4/v4"
	"github.com/zeebo/blake3"
)

// Stored value layout (every entry and manifest):
//
//	version  1 byte  (valueVersion)
//	kind     1 byte  (kindEntry or kindManifest)
//	codec    1 byte  (codecRaw or codecLZ4)
//	plainLen uvarint (length of the plain bytes)
//	checksum 32 bytes: BLAKE3 over the header bytes above and the plain bytes
//	payload  the plain bytes, raw or as one lz4 block
//
// The header enters the checksum so that a value can't be read as another
// kind or with another length without failing it.
const (
	valueVersion = 1

	kindEntry    = 'e'
	kindManifest = 'm'

	codecRaw = 0
	codecLZ4 = 1

	checksumSize = 32
	// maxHeaderSize: version, kind, codec and a 64-bit uvarint.
	maxHeaderSize = 3 + binary.MaxVarintLen64
	// lz4MaxRatio bounds how far one lz4 block can expand: a literal-free
	// sequence of 255-byte length extensions yields about 255 bytes per byte.
	lz4MaxRatio = 255
)

// errBadValue is the cause of every decoding failure; the store reports it
// to callers as cache.ErrCorrupt.
var errBadValue = errors.New("malformed value")

func badValue(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadValue, fmt.Sprintf(format, args...))
}

// seal frames plain as a stored value of the given kind: header, checksum and
// the plain bytes compressed with lz4 (kept raw when lz4 does not shrink them).
func seal(kind byte, plain []byte) ([]byte, error) {
	bound := lz4.CompressBlockBound(len(plain))
	out := make([]byte, maxHeaderSize+checksumSize+bound)
	out[0], out[1], out[2] = valueVersion, kind, codecLZ4
	h := 3 + binary.PutUvarint(out[3:], uint64(len(plain)))
	payload := out[h+checksumSize:]
	n := 0
	if len(plain) > 0 {
		var err error
		n, err = lz4.CompressBlock(plain, payload, nil)
		if err != nil {
			return nil, fmt.Errorf("cache: lz4 compress: %w", err)
		}
	}
	if n == 0 || n >= len(plain) {
		out[2] = codecRaw
		n = copy(payload, plain)
	}
	sum := checksum(out[:h], plain)
	copy(out[h:], sum[:])
	return out[:h+checksumSize+n], nil
}

// unseal checks a stored value's framing, decompresses it and verifies its
// checksum. It never returns more than maxPlain bytes, allocates at most that
// much, and the result never aliases v.
func unseal(kind byte, v []byte, maxPlain int64) ([]byte, error) {
	if len(v) < 4+checksumSize {
		return nil, badValue("%d bytes is shorter than a header", len(v))
	}
	if v[0] != valueVersion {
		return nil, badValue("format version %d", v[0])
	}
	if v[1] != kind {
		return nil, badValue("kind %q, want %q", v[1], kind)
	}
	plainLen, n := binary.Uvarint(v[3:])
	if n <= 0 {
		return nil, badValue("bad length")
	}
	h := 3 + n
	if len(v) < h+checksumSize {
		return nil, badValue("truncated header")
	}
	payload := v[h+checksumSize:]
	if plainLen > uint64(maxPlain) {
		return nil, badValue("length %d exceeds limit %d", plainLen, maxPlain)
	}
	var plain []byte
	switch v[2] {
	case codecRaw:
		if uint64(len(payload)) != plainLen {
			return nil, badValue("raw payload of %d bytes, header says %d", len(payload), plainLen)
		}
		plain = append([]byte(nil), payload...)
	case codecLZ4:
		if plainLen > uint64(len(payload))*lz4MaxRatio {
			return nil, badValue("length %d impossible from %d compressed bytes", plainLen, len(payload))
		}
		plain = make([]byte, plainLen)
		got, err := lz4.UncompressBlock(payload, plain)
		if err != nil {
			return nil, badValue("lz4: %v", err)
		}
		if uint64(got) != plainLen {
			return nil, badValue("lz4 gave %d bytes, header says %d", got, plainLen)
		}
	default:
		return nil, badValue("codec %d", v[2])
	}
	sum := checksum(v[:h], plain)
	if [checksumSize]byte(v[h:h+checksumSize]) != sum {
		return nil, badValue("checksum mismatch")
	}
	return plain, nil
}

func checksum(header, plain []byte) [checksumSize]byte {
	h := blake3.New()
	_, _ = h.Write(header)
	_, _ = h.Write(plain)
	var sum [checksumSize]byte
	h.Sum(sum[:0])
	return sum
}

// reader decodes the plain bytes of a value; every length is checked against
// what is left, so a hostile value can't make it read past the end or
// allocate more than the value's own size.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = badValue(format, args...)
	}
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a number of items that each take at least minSize bytes.
func (r *reader) count(what string, minSize int) int {
	v := r.uvarint(what)
	if r.err == nil && v > uint64(len(r.b)/minSize) {
		r.fail("%s %d exceeds what %d bytes can hold", what, v, len(r.b))
		return 0
	}
	return int(v)
}

// bytes returns the next n bytes, sharing the plain buffer (capacity capped).
func (r *reader) bytes(what string, n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("%s of %d bytes past the end", what, n)
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

// lenBytes reads a uvarint length and that many bytes.
func (r *reader) lenBytes(what string) []byte {
	return r.bytes(what, r.uvarint(what+" length"))
}

func (r *reader) fixed(what string, dst []byte) {
	copy(dst, r.bytes(what, uint64(len(dst))))
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	return r.err
}

func appendLenBytes(b, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
