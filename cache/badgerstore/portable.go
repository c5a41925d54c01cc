package badgerstore

import (
	"fmt"

	"github.com/dcc-build/dcc/cache"
	"github.com/dgraph-io/badger/v4"
)

// MaxPortableEntry bounds the plain size of an entry exchanged with a shared
// cache (EncodePortableEntry, DecodePortableEntry).
const MaxPortableEntry = 64 << 20

// EncodePortableEntry encodes e as the cache stores it (lz4, with a BLAKE3
// checksum), for a shared cache on another machine.
func EncodePortableEntry(e cache.Entry) ([]byte, error) {
	return encodeEntry(e, MaxPortableEntry)
}

// DecodePortableEntry verifies and decodes bytes from a shared cache: they
// come from another machine and are checked like a damaged local value (a
// bad checksum, size or layout is an error, never a wrong entry).
func DecodePortableEntry(b []byte) (cache.Entry, error) {
	return decodeEntry(b, MaxPortableEntry)
}

// PutEncodedEntry stores under k an entry already encoded by
// EncodePortableEntry (the daemon encodes an entry once for its own cache
// and the shared one). It is cache.ErrTooLarge past MaxValueSize.
func (s *BadgerStore) PutEncodedEntry(k cache.Key, val []byte) error {
	if int64(len(val)) > s.opts.MaxValueSize {
		return fmt.Errorf("cache: put entry %s: %w: %d bytes stored, limit %d",
			k, cache.ErrTooLarge, len(val), s.opts.MaxValueSize)
	}
	return s.put(kindEntry, k, func(*badger.Txn) ([]byte, error) { return val, nil })
}
