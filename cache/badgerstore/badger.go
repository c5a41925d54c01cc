// Package badgerstore is the cache.Store kept in Badger: entries and manifests
// encoded with a format version, lz4 and a BLAKE3 checksum, an index of sizes
// and access times for least-recently-used eviction under a size limit, and
// value-log garbage collection. One process at a time may open a directory.
package badgerstore

import (
	"errors"
	"fmt"
	"github.com/dcc-build/dcc/cache"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// BadgerStore is the cache.Store kept in a Badger database directory, with a size
// limit kept by least-recently-used eviction and value-log garbage
// collection run in the background.
type BadgerStore struct {
	// db changes only while mu is write-locked (compact.go); nil when it
	// did not open again.
	db *badger.DB
	// bopts are the options db is opened with, without compactors.
	bopts badger.Options
	opts  Options
	log   *slog.Logger
	// compacting is whether db runs Badger's compactors; guarded by mu.
	compacting bool
	// compactions counts the openings with compactors.
	compactions atomic.Int64

	// mu is read-locked by every operation and write-locked by Clear and Close.
	mu     sync.RWMutex
	closed bool
	// writeMu is read-locked by every write and write-locked while the
	// memtable is flushed, because Badger refuses writes during DropPrefix.
	writeMu sync.RWMutex

	bytes, entries, manifests atomic.Int64
	corrupt, evicted          atomic.Int64
	// dirty: something was deleted or replaced since the last value-log GC.
	dirty atomic.Bool
	// gcNow asks the background worker for a value-log GC (after Clear).
	gcNow atomic.Bool

	touchMu sync.Mutex
	flushMu sync.Mutex       // held while access times are written
	touches map[string]int64 // index key → access time (Unix ms) to record

	evictMu   sync.Mutex
	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ cache.Store = (*BadgerStore)(nil)

// Open opens (creating if needed) the store in dir. Only one process at a
// time may open a directory. Zero fields of opts take their defaults.
func Open(dir string, opts Options) (*BadgerStore, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	bopts := opts.badgerOptions(dir)
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, wrapBadger("open "+dir, err)
	}
	s := &BadgerStore{
		db:      db,
		bopts:   bopts,
		opts:    opts,
		log:     opts.Logger.With("component", "cache"),
		touches: map[string]int64{},
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if err := s.loadUsage(); err != nil {
		_ = db.Close()
		return nil, err
	}
	go s.background()
	if s.bytes.Load() > opts.MaxSize {
		s.kick()
	}
	return s, nil
}

// begin starts an operation: it fails with cache.ErrClosed after Close,
// or when the database did not open again (compact.go).
func (s *BadgerStore) begin() (unlock func(), err error) {
	s.mu.RLock()
	if s.closed || s.db == nil {
		s.mu.RUnlock()
		return nil, cache.ErrClosed
	}
	return s.mu.RUnlock, nil
}

// GetEntry returns the entry under k and records the access for eviction.
func (s *BadgerStore) GetEntry(k cache.Key) (cache.Entry, error) {
	var e cache.Entry
	err := s.get(kindEntry, k, func(v []byte) (err error) {
		e, err = decodeEntry(v, s.opts.MaxEntrySize)
		return err
	})
	if err != nil {
		return cache.Entry{}, err
	}
	return e, nil
}

// PutEntry stores e under k in one transaction, replacing any earlier entry.
// An entry over MaxEntrySize, or over MaxValueSize once encoded, is
// cache.ErrTooLarge.
func (s *BadgerStore) PutEntry(k cache.Key, e cache.Entry) error {
	val, err := encodeEntry(e, s.opts.MaxEntrySize)
	if err != nil {
		return fmt.Errorf("cache: put entry %s: %w", k, err)
	}
	if int64(len(val)) > s.opts.MaxValueSize {
		return fmt.Errorf("cache: put entry %s: %w: %d bytes stored, limit %d",
			k, cache.ErrTooLarge, len(val), s.opts.MaxValueSize)
	}
	return s.put(kindEntry, k, func(*badger.Txn) ([]byte, error) { return val, nil })
}

// GetManifest returns the manifest under k and records the access.
func (s *BadgerStore) GetManifest(k cache.Key) (cache.Manifest, error) {
	var m cache.Manifest
	err := s.get(kindManifest, k, func(v []byte) (err error) {
		m, err = decodeManifest(v, s.opts.MaxEntrySize)
		return err
	})
	if err != nil {
		return cache.Manifest{}, err
	}
	return m, nil
}

// AddManifestResult puts r first in the manifest under k, drops an older
// result with the same inputs (files with their digests, and absent paths)
// and keeps at most MaxManifestResults, in one transaction. A damaged
// manifest is replaced (and counted).
func (s *BadgerStore) AddManifestResult(k cache.Key, r cache.ManifestResult) error {
	var damaged error
	err := s.put(kindManifest, k, func(txn *badger.Txn) ([]byte, error) {
		damaged = nil
		var m cache.Manifest
		item, err := txn.Get(dataKey(kindManifest, k))
		switch {
		case err == nil:
			if err := item.Value(func(v []byte) error {
				m, damaged = decodeManifest(v, s.opts.MaxEntrySize)
				return nil
			}); err != nil {
				return nil, err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return nil, err
		}
		m.Results = addResult(m.Results, r, s.opts.MaxManifestResults)
		val, err := encodeManifest(m, s.opts.MaxEntrySize)
		if err != nil {
			return nil, err
		}
		if int64(len(val)) > s.opts.MaxValueSize {
			return nil, fmt.Errorf("%w: manifest of %d bytes stored, limit %d", cache.ErrTooLarge, len(val), s.opts.MaxValueSize)
		}
		return val, nil
	})
	if err != nil {
		return err
	}
	if damaged != nil {
		s.corrupt.Add(1)
		s.log.Warn("replaced a damaged manifest", "key", k.String(), "err", damaged)
	}
	return nil
}

// Usage reports the bytes stored (values, keys and index records of entries
// and manifests) and the number of entries. It reads counters kept in memory.
func (s *BadgerStore) Usage() (bytes int64, entries int64) {
	return s.bytes.Load(), s.entries.Load()
}

// Manifests reports the number of manifests stored.
func (s *BadgerStore) Manifests() int64 { return s.manifests.Load() }

// Corrupt reports how many damaged entries and manifests were found (and
// removed) since Open.
func (s *BadgerStore) Corrupt() int64 { return s.corrupt.Load() }

// Evicted reports how many entries and manifests eviction removed since Open.
func (s *BadgerStore) Evicted() int64 { return s.evicted.Load() }

// Clear removes every entry and manifest.
func (s *BadgerStore) Clear() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.db == nil {
		return cache.ErrClosed
	}
	s.touchMu.Lock()
	clear(s.touches)
	s.touchMu.Unlock()
	if err := s.db.DropPrefix(prefixEntry, prefixManifest, prefixIndex); err != nil {
		return wrapBadger("clear", err)
	}
	s.bytes.Store(0)
	s.entries.Store(0)
	s.manifests.Store(0)
	s.gcNow.Store(true)
	s.kick()
	return nil
}

// Close writes pending access times, stops the background worker and closes
// the database. Later calls return the first call's result.
func (s *BadgerStore) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.db == nil { // it did not open again (compact.go)
			s.closed = true
			return
		}
		if err := s.flushTouches(); err != nil {
			s.log.Warn("writing access times on close", "err", err)
		}
		s.closed = true
		s.closeErr = wrapBadger("close", s.db.Close())
	})
	return s.closeErr
}
