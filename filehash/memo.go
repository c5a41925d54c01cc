package filehash

import (
	"container/list"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Granularity is how recent a file's mtime or ctime may be for its hash to be
// remembered: a file modified less than this long ago may be modified again
// within the same timestamp, unseen by stat, so it is hashed but not trusted.
const Granularity = 2 * time.Second

// fileKey is the stat data a memoized hash is valid for: any change to the
// file changes at least one of them.
type fileKey struct {
	size         int64
	mtime, ctime int64 // nanoseconds since the epoch
	ino, dev     uint64
}

// memoEntry is one remembered hash.
type memoEntry struct {
	path string
	key  fileKey
	info Info
}

// Memo remembers file hashes by path, valid while the file's size, mtime,
// ctime, inode and device stay the same. It is safe for concurrent use.
type Memo struct {
	max int
	now func() time.Time // the clock; tests move it

	mu      sync.Mutex
	entries map[string]*list.Element // path → element of lru holding a *memoEntry
	lru     *list.List               // most recently used first

	hits, reads atomic.Int64
}

// Counters are a Memo's activity since it was made.
type Counters struct {
	// Hits counts hashes answered from the memo, with a stat and no read.
	Hits int64
	// Reads counts files read and hashed.
	Reads int64
	// Entries is the number of hashes remembered now.
	Entries int
}

// NewMemo returns a Memo remembering at most maxEntries hashes, dropping the
// least recently used one when full. maxEntries ≤ 0 remembers nothing.
func NewMemo(maxEntries int) *Memo {
	return &Memo{max: maxEntries, now: time.Now, entries: map[string]*list.Element{}, lru: list.New()}
}

// Hash returns the digest of the regular file at path (following symlinks).
// A remembered hash is returned when the file's stat data still match it;
// otherwise the file is read. path should be absolute: a relative one is
// resolved against this process's working directory. A missing file is an
// error wrapping fs.ErrNotExist.
func (m *Memo) Hash(path string) (Info, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Info{}, fmt.Errorf("filehash: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("filehash: %s: %w", path, ErrNotRegular)
	}
	if info, ok := m.lookup(path, keyOf(fi)); ok {
		m.hits.Add(1)
		return info, nil
	}
	info, key, stable, err := readFile(path)
	if err != nil {
		return Info{}, err
	}
	info.Changed, info.ModTime = max(key.mtime, key.ctime), key.mtime
	m.reads.Add(1)
	if stable && !m.recent(key) {
		m.store(path, key, info)
	}
	return info, nil
}

// Counters returns the memo's hit and read counts and its size.
func (m *Memo) Counters() Counters {
	m.mu.Lock()
	n := len(m.entries)
	m.mu.Unlock()
	return Counters{Hits: m.hits.Load(), Reads: m.reads.Load(), Entries: n}
}

// readFile hashes the file at path. key is its stat data when it was opened;
// stable is false when it changed while being read.
func readFile(path string) (info Info, key fileKey, stable bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fileKey{}, false, fmt.Errorf("filehash: %w", err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return Info{}, fileKey{}, false, fmt.Errorf("filehash: %w", err)
	}
	info, err = hashReader(f)
	if err != nil {
		return Info{}, fileKey{}, false, fmt.Errorf("filehash: %s: %w", path, err)
	}
	after, err := f.Stat()
	if err != nil {
		return Info{}, fileKey{}, false, fmt.Errorf("filehash: %w", err)
	}
	key = keyOf(before)
	return info, key, key == keyOf(after) && info.Size == key.size, nil
}

// recent reports whether the file was modified or changed within Granularity
// of now (or in the future: a skewed clock is not trusted either).
func (m *Memo) recent(k fileKey) bool {
	now := m.now().UnixNano()
	return now-k.mtime < int64(Granularity) || now-k.ctime < int64(Granularity)
}

// lookup returns the remembered hash of path if it is valid for key. A stale
// entry is dropped.
func (m *Memo) lookup(path string, key fileKey) (Info, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.entries[path]
	if !ok {
		return Info{}, false
	}
	e := el.Value.(*memoEntry)
	if e.key != key {
		m.lru.Remove(el)
		delete(m.entries, path)
		return Info{}, false
	}
	m.lru.MoveToFront(el)
	return e.info, true
}

// store remembers info as path's hash for key, evicting the least recently
// used entry when the memo is full.
func (m *Memo) store(path string, key fileKey, info Info) {
	if m.max <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[path]; ok {
		el.Value = &memoEntry{path: path, key: key, info: info}
		m.lru.MoveToFront(el)
		return
	}
	for len(m.entries) >= m.max {
		oldest := m.lru.Back()
		m.lru.Remove(oldest)
		delete(m.entries, oldest.Value.(*memoEntry).path)
	}
	m.entries[path] = m.lru.PushFront(&memoEntry{path: path, key: key, info: info})
}
