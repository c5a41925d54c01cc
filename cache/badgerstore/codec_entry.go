package badgerstore

import (
	"encoding/binary"
	"fmt"
	"github.com/dcc-build/dcc/cache"
	"maps"
	"slices"
)

// maxFileKindLen bounds the names in cache.Entry.Files ("object", "deps", ...).
const maxFileKindLen = 255

// Plain layout of an entry:
//
//	exit code  varint
//	stdout     uvarint length, bytes
//	stderr     uvarint length, bytes
//	files      uvarint count, then per file in name order:
//	           uvarint name length, name, uvarint data length, data

// entryPlainSize returns the size of e's plain encoding, checking its file
// names.
func entryPlainSize(e cache.Entry) (int64, error) {
	size := int64(binary.MaxVarintLen64 * 4)
	size += int64(len(e.Stdout)) + int64(len(e.Stderr))
	for name, data := range e.Files {
		if name == "" || len(name) > maxFileKindLen {
			return 0, fmt.Errorf("cache: output kind %.40q: length must be 1 to %d", name, maxFileKindLen)
		}
		size += int64(2*binary.MaxVarintLen64+len(name)) + int64(len(data))
	}
	return size, nil
}

// encodeEntry returns e as a stored value; an entry whose plain encoding
// exceeds maxPlain is cache.ErrTooLarge.
func encodeEntry(e cache.Entry, maxPlain int64) ([]byte, error) {
	size, err := entryPlainSize(e)
	if err != nil {
		return nil, err
	}
	if size > maxPlain {
		return nil, fmt.Errorf("%w: %d bytes before compression, limit %d", cache.ErrTooLarge, size, maxPlain)
	}
	b := make([]byte, 0, size)
	b = binary.AppendVarint(b, int64(e.ExitCode))
	b = appendLenBytes(b, e.Stdout)
	b = appendLenBytes(b, e.Stderr)
	b = binary.AppendUvarint(b, uint64(len(e.Files)))
	for _, name := range slices.Sorted(maps.Keys(e.Files)) {
		b = appendLenBytes(b, []byte(name))
		b = appendLenBytes(b, e.Files[name])
	}
	return seal(kindEntry, b)
}

// decodeEntry verifies and decodes a stored entry. Empty stdout and stderr
// decode as nil, Files is never nil, and an empty file is a non-nil empty
// slice.
func decodeEntry(v []byte, maxPlain int64) (cache.Entry, error) {
	plain, err := unseal(kindEntry, v, maxPlain)
	if err != nil {
		return cache.Entry{}, err
	}
	return parseEntry(plain)
}

// parseEntry decodes the plain bytes of an entry; the entry shares them.
func parseEntry(plain []byte) (cache.Entry, error) {
	r := &reader{b: plain}
	var e cache.Entry
	code := r.varint("exit code")
	if code < -1<<31 || code > 1<<31-1 {
		r.fail("exit code %d", code)
	}
	e.ExitCode = int(code)
	e.Stdout = nilIfEmpty(r.lenBytes("stdout"))
	e.Stderr = nilIfEmpty(r.lenBytes("stderr"))
	n := r.count("file count", 2)
	e.Files = make(map[string][]byte, n)
	prev := ""
	for i := 0; i < n && r.err == nil; i++ {
		name := string(r.lenBytes("file name"))
		data := r.lenBytes("file data")
		switch {
		case r.err != nil:
		case name == "" || len(name) > maxFileKindLen:
			r.fail("file name of %d bytes", len(name))
		case i > 0 && name <= prev:
			r.fail("file names out of order")
		default:
			if data == nil {
				data = []byte{}
			}
			e.Files[name] = data
		}
		prev = name
	}
	if err := r.done(); err != nil {
		return cache.Entry{}, err
	}
	return e, nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
