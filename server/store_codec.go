package server

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"regexp"

	"github.com/dcc-build/dcc/protocol"
	"github.com/pierrec/lz4/v4"
)

// Badger key layout of the Store. Every key starts with a namespace and a
// format version; the project's name (length-prefixed, so that "a" is not a
// prefix of "ab") comes next, so that one project's items share a prefix.
//
//	d1/<len><project><kind><32-byte key>   value (see encodeValue)
//	x1/<len><project><kind><32-byte key>   index record: size and last access
//	s1/flush                               sentinel written and dropped to flush the memtable
//
// kind is kindResult (a compile result) or kindShared (a shared cache entry).
var (
	prefixData     = []byte("d1/")
	prefixIndex    = []byte("x1/")
	prefixSentinel = []byte("s1/")
	sentinelKey    = []byte("s1/flush")
)

// Kinds of stored items.
const (
	kindResult = 'r'
	kindShared = 'c'
)

// MaxProjectLen bounds a project name.
const MaxProjectLen = 128

var (
	// keyRE is a cache key as clients send it.
	keyRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// projectRE is a project name.
	projectRE = regexp.MustCompile(`^[A-Za-z0-9._-]{0,128}$`)
)

// ParseKey checks a key a client sent: 64 lowercase hex digits.
func ParseKey(s string) ([32]byte, error) {
	var k [32]byte
	if !keyRE.MatchString(s) {
		return k, refuse(protocol.CodeMalformed, "cache key %s refused: want 64 lowercase hex digits", quoteArg(s))
	}
	_, _ = hex.Decode(k[:], []byte(s))
	return k, nil
}

// CheckProject checks a project name a client sent: up to 128 of
// [A-Za-z0-9._-]; empty is the default project.
func CheckProject(p string) error {
	if !projectRE.MatchString(p) {
		return refuse(protocol.CodeMalformed, "project %s refused: want up to %d letters, digits, '.', '_' or '-'", quoteArg(p), MaxProjectLen)
	}
	return nil
}

// projectPrefix is prefix followed by the project's length and name.
func projectPrefix(prefix []byte, project string) []byte {
	b := make([]byte, 0, len(prefix)+1+len(project)+1+32)
	b = append(b, prefix...)
	b = append(b, byte(len(project)))
	return append(b, project...)
}

// itemKey is the data or index key of one item.
func itemKey(prefix []byte, project string, kind byte, k [32]byte) []byte {
	b := projectPrefix(prefix, project)
	b = append(b, kind)
	return append(b, k[:]...)
}

// splitItemKey returns the project, kind and key of a data or index key.
func splitItemKey(key []byte) (project string, kind byte, k [32]byte, err error) {
	if len(key) < 4+1+32 {
		return "", 0, k, fmt.Errorf("item key of %d bytes", len(key))
	}
	n := int(key[3])
	if len(key) != 4+n+1+32 {
		return "", 0, k, fmt.Errorf("item key of %d bytes for a project of %d", len(key), n)
	}
	project, kind = string(key[4:4+n]), key[4+n]
	copy(k[:], key[4+n+1:])
	return project, kind, k, nil
}

// indexRecord is the index value of one item.
type indexRecord struct {
	size   int64 // bytes counted toward the size limit
	access int64 // last access, Unix milliseconds
}

const (
	indexRecordVersion = 1
	indexRecordLen     = 1 + 8 + 8
)

func (r indexRecord) encode() []byte {
	b := make([]byte, indexRecordLen)
	b[0] = indexRecordVersion
	binary.BigEndian.PutUint64(b[1:], uint64(r.size))
	binary.BigEndian.PutUint64(b[9:], uint64(r.access))
	return b
}

func decodeIndexRecord(b []byte) (indexRecord, error) {
	if len(b) != indexRecordLen || b[0] != indexRecordVersion {
		return indexRecord{}, fmt.Errorf("%w: index record of %d bytes", errDamaged, len(b))
	}
	return indexRecord{size: int64(binary.BigEndian.Uint64(b[1:])), access: int64(binary.BigEndian.Uint64(b[9:]))}, nil
}

// itemSize is what one item counts toward the size limit: its value, its
// two keys and its index record.
func itemSize(valueLen, projectLen int) int64 {
	return int64(valueLen + 2*(4+projectLen+1+32) + indexRecordLen)
}

// Value layout:
//
//	[0]     format version (1)
//	[1]     codec: 0 raw, 1 lz4 block
//	[2:6]   CRC-32C of the decoded payload
//	[6:10]  decoded length
//	[10:]   payload
const (
	valueVersion   = 1
	codecRaw       = 0
	codecLZ4       = 1
	valueHeaderLen = 10
	// compressMin: smaller payloads are stored raw.
	compressMin = 512
)

// errDamaged marks a stored value or record that fails its checks.
var errDamaged = errors.New("damaged value")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeValue wraps payload with its checksum, lz4-compressing it when
// compress is set and that makes it smaller.
func encodeValue(payload []byte, compress bool) []byte {
	if compress && len(payload) >= compressMin {
		buf := make([]byte, valueHeaderLen+lz4.CompressBlockBound(len(payload)))
		n, err := lz4.CompressBlock(payload, buf[valueHeaderLen:], nil)
		if err == nil && n > 0 && n < len(payload) {
			putHeader(buf, codecLZ4, payload)
			return buf[:valueHeaderLen+n]
		}
	}
	buf := make([]byte, valueHeaderLen+len(payload))
	putHeader(buf, codecRaw, payload)
	copy(buf[valueHeaderLen:], payload)
	return buf
}

func putHeader(buf []byte, codec byte, payload []byte) {
	buf[0], buf[1] = valueVersion, codec
	binary.BigEndian.PutUint32(buf[2:], crc32.Checksum(payload, castagnoli))
	binary.BigEndian.PutUint32(buf[6:], uint32(len(payload)))
}

// decodeValue checks and unwraps a stored value, allocating at most
// maxLen bytes.
func decodeValue(v []byte, maxLen int64) ([]byte, error) {
	if len(v) < valueHeaderLen || v[0] != valueVersion {
		return nil, fmt.Errorf("%w: bad header", errDamaged)
	}
	n := int64(binary.BigEndian.Uint32(v[6:]))
	if n > maxLen {
		return nil, fmt.Errorf("%w: decoded length %d over %d", errDamaged, n, maxLen)
	}
	var payload []byte
	switch v[1] {
	case codecRaw:
		if int64(len(v)-valueHeaderLen) != n {
			return nil, fmt.Errorf("%w: length mismatch", errDamaged)
		}
		payload = append([]byte(nil), v[valueHeaderLen:]...)
	case codecLZ4:
		payload = make([]byte, n)
		got, err := lz4.UncompressBlock(v[valueHeaderLen:], payload)
		if err != nil || int64(got) != n {
			return nil, fmt.Errorf("%w: lz4 payload does not decompress", errDamaged)
		}
	default:
		return nil, fmt.Errorf("%w: codec %d", errDamaged, v[1])
	}
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(v[2:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errDamaged)
	}
	return payload, nil
}

// encodeResult is the payload of a successful compile: stdout and stderr,
// length-prefixed, then the object.
func encodeResult(res *protocol.CompileResult) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(res.Stdout)+len(res.Stderr)+len(res.Object))
	b = binary.AppendUvarint(b, uint64(len(res.Stdout)))
	b = append(b, res.Stdout...)
	b = binary.AppendUvarint(b, uint64(len(res.Stderr)))
	b = append(b, res.Stderr...)
	return append(b, res.Object...)
}

// decodeResult reads what encodeResult wrote.
func decodeResult(b []byte) (*protocol.CompileResult, error) {
	res := &protocol.CompileResult{}
	for _, dst := range []*[]byte{&res.Stdout, &res.Stderr} {
		n, used := binary.Uvarint(b)
		if used <= 0 || n > uint64(len(b)-used) {
			return nil, fmt.Errorf("%w: result layout", errDamaged)
		}
		*dst = b[used : used+int(n)]
		b = b[used+int(n):]
	}
	res.Object = b
	return res, nil
}
