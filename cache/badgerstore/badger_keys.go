package badgerstore

import (
	"encoding/binary"
	"fmt"
	"github.com/dcc-build/dcc/cache"
)

// Badger key layout. Every key starts with a namespace and format version.
//
//	e1/<32-byte key>         entry value (codec.go)
//	m1/<32-byte key>         manifest value
//	i1/<kind><32-byte key>   index record of an entry (kind 'e') or manifest ('m'):
//	                         the item's accounted size and last access time
//	s1/flush                 sentinel written and dropped to flush the memtable
var (
	prefixEntry    = []byte("e1/")
	prefixManifest = []byte("m1/")
	prefixIndex    = []byte("i1/")
	prefixSentinel = []byte("s1/")
	sentinelKey    = []byte("s1/flush")
)

const (
	dataKeyLen  = 3 + len(cache.Key{})
	indexKeyLen = 4 + len(cache.Key{})
	// indexRecordVersion leads every index record.
	indexRecordVersion = 1
	indexRecordLen     = 1 + 8 + 8
)

func dataKey(kind byte, k cache.Key) []byte {
	b := make([]byte, 0, dataKeyLen)
	if kind == kindEntry {
		b = append(b, prefixEntry...)
	} else {
		b = append(b, prefixManifest...)
	}
	return append(b, k[:]...)
}

func indexKey(kind byte, k cache.Key) []byte {
	b := make([]byte, 0, indexKeyLen)
	b = append(b, prefixIndex...)
	b = append(b, kind)
	return append(b, k[:]...)
}

// parseIndexKey returns the kind and key of an index key.
func parseIndexKey(ik []byte) (byte, cache.Key, error) {
	var k cache.Key
	if len(ik) != indexKeyLen || (ik[3] != kindEntry && ik[3] != kindManifest) {
		return 0, k, fmt.Errorf("cache: bad index key of %d bytes", len(ik))
	}
	copy(k[:], ik[4:])
	return ik[3], k, nil
}

// itemSize is what one stored item counts toward the size limit: its value,
// its keys and its index record.
func itemSize(valueLen int) int64 {
	return int64(valueLen + dataKeyLen + indexKeyLen + indexRecordLen)
}

// indexRecord is the index value of one entry or manifest.
type indexRecord struct {
	size   int64 // itemSize of the stored value
	access int64 // last access, Unix milliseconds
}

func (r indexRecord) encode() []byte {
	b := make([]byte, indexRecordLen)
	b[0] = indexRecordVersion
	binary.BigEndian.PutUint64(b[1:], uint64(r.size))
	binary.BigEndian.PutUint64(b[9:], uint64(r.access))
	return b
}

func decodeIndexRecord(b []byte) (indexRecord, error) {
	if len(b) != indexRecordLen || b[0] != indexRecordVersion {
		return indexRecord{}, fmt.Errorf("%w: index record of %d bytes", errBadValue, len(b))
	}
	r := indexRecord{
		size:   int64(binary.BigEndian.Uint64(b[1:])),
		access: int64(binary.BigEndian.Uint64(b[9:])),
	}
	if r.size <= 0 || r.size > 2*maxMaxValueSize {
		return indexRecord{}, fmt.Errorf("%w: index size %d", errBadValue, r.size)
	}
	return r, nil
}
