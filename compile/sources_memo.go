package compile

import (
	"os"
	"sync"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/includescan"
)

// scanMemo remembers the scan of each file content by digest.
type scanMemo struct {
	mu sync.Mutex
	m  map[cache.Digest]*includescan.File
}

// scan returns the directives and definitions of data, whose digest is d.
func (m *scanMemo) scan(d cache.Digest, data []byte) (*includescan.File, error) {
	m.mu.Lock()
	f, ok := m.m[d]
	m.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := includescan.ScanFile(data)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.m == nil || len(m.m) >= maxScanMemo {
		m.m = map[cache.Digest]*includescan.File{}
	}
	m.m[d] = f
	m.mu.Unlock()
	return f, nil
}

// maxContentBytes bounds the file contents the daemon keeps for units
// sent with their sources.
const maxContentBytes = 128 << 20

// contentCache keeps file contents by digest, so that the headers every
// unit sends are read once. The zero value is ready.
type contentCache struct {
	mu    sync.Mutex
	m     map[cache.Digest][]byte
	bytes int
}

// read returns the content of the file at path, whose digest the memo says
// is want: the kept copy, or the file read now with its own digest (it
// changed since the memo hashed it when the digests differ).
func (c *contentCache) read(path string, want cache.Digest) ([]byte, cache.Digest, error) {
	c.mu.Lock()
	data, ok := c.m[want]
	c.mu.Unlock()
	if ok {
		return data, want, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cache.Digest{}, err
	}
	got := filehash.HashBytes(data)
	if got != want || len(data) > maxContentBytes/64 {
		return data, got, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+len(data) > maxContentBytes {
		c.m, c.bytes = map[cache.Digest][]byte{}, 0
	}
	if _, dup := c.m[got]; !dup {
		c.m[got] = data
		c.bytes += len(data)
	}
	return data, got, nil
}
