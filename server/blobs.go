package server

import (
	"bytes"
	"container/list"
	"sync"
)

// DefaultSourceCacheBytes bounds the file contents a server keeps from jobs
// sent with their sources.
const DefaultSourceCacheBytes = 256 << 20

// blobCache keeps the contents of files sent with jobs compiled from their
// sources, by digest, least recently used out first: a client sends each
// header to a host once, and later jobs name it by digest. Contents are
// kept only after their digest was checked. It is safe for concurrent use.
type blobCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	m     map[[32]byte]*list.Element
	lru   list.List // of *blob, most recent first
}

// blob is one kept content.
type blob struct {
	digest [32]byte
	data   []byte
}

// newBlobCache returns a cache of at most max bytes.
func newBlobCache(max int) *blobCache {
	return &blobCache{max: max, m: map[[32]byte]*list.Element{}}
}

// get returns the content kept under d.
func (c *blobCache) get(d [32]byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[d]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*blob).data, true
}

// put keeps data, whose digest is d.
func (c *blobCache) put(d [32]byte, data []byte) {
	if len(data) > c.max/16 {
		return // a huge file is not worth the room
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[d]; ok {
		c.lru.MoveToFront(el)
		return
	}
	// A copy: data shares the buffer of the whole request it came in.
	c.m[d] = c.lru.PushFront(&blob{digest: d, data: bytes.Clone(data)})
	c.bytes += len(data)
	for c.bytes > c.max {
		old := c.lru.Back()
		b := old.Value.(*blob)
		c.lru.Remove(old)
		delete(c.m, b.digest)
		c.bytes -= len(b.data)
	}
}
