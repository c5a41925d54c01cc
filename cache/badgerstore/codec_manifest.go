package badgerstore

import (
	"encoding/binary"
	"fmt"
	"github.com/dcc-build/dcc/cache"
)

// maxPathLen bounds a path recorded in a manifest (PATH_MAX on Linux).
const maxPathLen = 4096

// Plain layout of a manifest (paths are stored once, results refer to them):
//
//	paths    uvarint count, then per path: uvarint length, bytes
//	results  uvarint count, then per result:
//	         32-byte result key,
//	         uvarint file count, then per file: uvarint path index, 32-byte digest,
//	         uvarint absent count, then per absent path: uvarint path index

func checkPath(p string) error {
	if p == "" || len(p) > maxPathLen {
		return fmt.Errorf("cache: manifest path %.60q: length must be 1 to %d", p, maxPathLen)
	}
	return nil
}

// encodeManifest returns m as a stored value; a manifest whose plain encoding
// exceeds maxPlain is cache.ErrTooLarge.
func encodeManifest(m cache.Manifest, maxPlain int64) ([]byte, error) {
	index := map[string]int{}
	var paths []string
	intern := func(p string) (int, error) {
		if i, ok := index[p]; ok {
			return i, nil
		}
		if err := checkPath(p); err != nil {
			return 0, err
		}
		index[p] = len(paths)
		paths = append(paths, p)
		return len(paths) - 1, nil
	}
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(m.Results)))
	for _, r := range m.Results {
		body = append(body, r.Result[:]...)
		body = binary.AppendUvarint(body, uint64(len(r.Files)))
		for _, f := range r.Files {
			i, err := intern(f.Path)
			if err != nil {
				return nil, err
			}
			body = binary.AppendUvarint(body, uint64(i))
			body = append(body, f.Digest[:]...)
		}
		body = binary.AppendUvarint(body, uint64(len(r.Absent)))
		for _, p := range r.Absent {
			i, err := intern(p)
			if err != nil {
				return nil, err
			}
			body = binary.AppendUvarint(body, uint64(i))
		}
		if int64(len(body)) > maxPlain {
			return nil, fmt.Errorf("%w: manifest over %d bytes", cache.ErrTooLarge, maxPlain)
		}
	}
	plain := binary.AppendUvarint(nil, uint64(len(paths)))
	for _, p := range paths {
		plain = appendLenBytes(plain, []byte(p))
	}
	plain = append(plain, body...)
	if int64(len(plain)) > maxPlain {
		return nil, fmt.Errorf("%w: manifest of %d bytes, limit %d", cache.ErrTooLarge, len(plain), maxPlain)
	}
	return seal(kindManifest, plain)
}

// decodeManifest verifies and decodes a stored manifest. Files and Absent
// are nil when empty.
func decodeManifest(v []byte, maxPlain int64) (cache.Manifest, error) {
	plain, err := unseal(kindManifest, v, maxPlain)
	if err != nil {
		return cache.Manifest{}, err
	}
	return parseManifest(plain)
}

// parseManifest decodes the plain bytes of a manifest.
func parseManifest(plain []byte) (cache.Manifest, error) {
	r := &reader{b: plain}
	paths := make([]string, r.count("path count", 2))
	for i := range paths {
		b := r.lenBytes("path")
		if r.err == nil && (len(b) == 0 || len(b) > maxPathLen) {
			r.fail("path of %d bytes", len(b))
		}
		paths[i] = string(b)
	}
	path := func() string {
		i := r.uvarint("path index")
		if r.err == nil && i >= uint64(len(paths)) {
			r.fail("path index %d of %d", i, len(paths))
		}
		if r.err != nil {
			return ""
		}
		return paths[i]
	}
	var m cache.Manifest
	if n := r.count("result count", checksumSize+2); n > 0 {
		m.Results = make([]cache.ManifestResult, n)
	}
	for i := range m.Results {
		res := &m.Results[i]
		r.fixed("result key", res.Result[:])
		if n := r.count("file count", 1+len(cache.Digest{})); n > 0 {
			res.Files = make([]cache.FileDigest, n)
		}
		for j := range res.Files {
			res.Files[j].Path = path()
			r.fixed("digest", res.Files[j].Digest[:])
		}
		if n := r.count("absent count", 1); n > 0 {
			res.Absent = make([]string, n)
		}
		for j := range res.Absent {
			res.Absent[j] = path()
		}
		if r.err != nil {
			break
		}
	}
	if err := r.done(); err != nil {
		return cache.Manifest{}, err
	}
	return m, nil
}
