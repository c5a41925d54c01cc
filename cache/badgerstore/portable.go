package badgerstore

import "github.com/dcc-build/dcc/cache"

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
