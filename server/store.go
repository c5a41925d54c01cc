package server

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dcc-build/dcc/badgerquiet"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// StoreOptions configure a Store. Zero fields take their defaults.
type StoreOptions struct {
	// MaxSize bounds the bytes stored (values, keys and index records).
	// Past it the least-recently-used items are evicted until usage is
	// under LowWatermark × MaxSize. Default DefaultCacheMaxSize.
	MaxSize int64
	// LowWatermark is the fraction of MaxSize eviction brings usage down
	// to, in (0, 1]. Default 0.9.
	LowWatermark float64
	// MaxEntrySize bounds one item before compression; larger ones are not
	// stored. Default protocol.MaxMessageSize.
	MaxEntrySize int64
	// TouchInterval is the granularity of access times. Default 1 minute.
	TouchInterval time.Duration
	// CheckInterval is how often the size limit is checked. Default 10 s.
	CheckInterval time.Duration
	// GCInterval is how often the value log is collected when something
	// was removed. Default 10 minutes.
	GCInterval time.Duration
	// IdleClose is how long the database stays open with no operation
	// before it is closed until the next one (store_sleep.go). It is
	// checked every CheckInterval. Default 30 s.
	IdleClose time.Duration
	// Logger receives the store's and Badger's warnings.
	Logger *slog.Logger

	// now is the clock (tests replace it).
	now func() time.Time
}

// withDefaults fills the zero fields of o.
func (o StoreOptions) withDefaults() StoreOptions {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultCacheMaxSize
	}
	if o.LowWatermark <= 0 || o.LowWatermark > 1 {
		o.LowWatermark = 0.9
	}
	if o.MaxEntrySize <= 0 {
		o.MaxEntrySize = protocol.MaxMessageSize
	}
	if o.TouchInterval <= 0 {
		o.TouchInterval = time.Minute
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = 10 * time.Second
	}
	if o.GCInterval <= 0 {
		o.GCInterval = 10 * time.Minute
	}
	if o.IdleClose <= 0 {
		o.IdleClose = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}

// ErrTooLarge is an item larger than the store accepts; nothing was written.
var ErrTooLarge = errors.New("server: cache item too large")

// Store is the server's Badger database: the result cache (compile results
// under the key the server computes from each request) and the shared cache
// (opaque entries clients put and get), both in per-project namespaces, with
// a size limit kept by least-recently-used eviction. Values carry a CRC-32C;
// one that fails it is removed and reads as a miss. Every method is safe for
// concurrent use. One process at a time may open a directory. A store with
// no operation for a while closes its database until the next one, and
// Badger's compactors run only while its levels need them.
type Store struct {
	// db is nil while the store sleeps (store_sleep.go).
	db    *badger.DB
	bopts badger.Options
	opts  StoreOptions
	log   *slog.Logger
	// lock holds the directory's lock file from OpenStore to Close.
	lock *os.File
	// lastUse is when the last operation began (UnixNano).
	lastUse atomic.Int64
	// reopened counts the openings after a pause.
	reopened atomic.Int64
	// compacting is whether the database runs Badger's compactors
	// (store_compact.go); guarded by mu.
	compacting bool
	// compactions counts the openings with compactors.
	compactions atomic.Int64

	// mu is read-locked by every operation and write-locked by Close and
	// while the database is closed or opened again.
	mu     sync.RWMutex
	closed bool
	// writeMu is read-locked by every write and write-locked while the
	// memtable is flushed or the value log collected: Badger refuses writes
	// during DropPrefix, and its value-log GC races with concurrent writes.
	writeMu sync.RWMutex
	// maintMu serializes eviction and cleaning.
	maintMu sync.Mutex

	bytes, items    atomic.Int64
	evicted, damage atomic.Int64
	dirty           atomic.Bool // something was removed since the last GC
	gcNow           atomic.Bool

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// OpenStore opens (creating if needed) the store in dir.
func OpenStore(dir string, opts StoreOptions) (*Store, error) {
	opts = opts.withDefaults()
	lock, err := lockStoreDir(dir)
	if err != nil {
		return nil, err
	}
	maxValue := opts.MaxEntrySize + valueHeaderLen + opts.MaxEntrySize/200 + 64
	// Values are lz4 already (or compressed here): no Badger compression,
	// so no block cache either. A cache may lose its last writes in a
	// crash; every value is checksummed and a lost one is a miss.
	bopts := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{opts.Logger.With("component", "badger")}).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(3).
		WithBaseTableSize(2 << 20).
		WithValueThreshold(4 << 10).
		WithValueLogFileSize(maxValue + maxValue/4 + 1<<20).
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithNumGoroutines(2).
		WithMetricsEnabled(false).
		WithSyncWrites(false).
		WithDetectConflicts(true)
	bopts = badgerquiet.Quiet(bopts)
	db, err := badger.Open(bopts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open cache %s: %s", dir, firstLine(err.Error()))
	}
	s := &Store{db: db, bopts: bopts, opts: opts, log: opts.Logger.With("component", "store"), lock: lock,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	s.lastUse.Store(time.Now().UnixNano())
	if err := s.loadUsage(); err != nil {
		_ = db.Close()
		lock.Close()
		return nil, err
	}
	go s.background()
	if s.bytes.Load() > opts.MaxSize {
		s.kick()
	}
	return s, nil
}

// GetResult returns the compile result stored under the server's result
// key in project, and whether there was one.
func (s *Store) GetResult(project string, key [32]byte) (*protocol.CompileResult, bool, error) {
	payload, ok, err := s.get(project, kindResult, key)
	if err != nil || !ok {
		return nil, false, err
	}
	res, err := decodeResult(payload)
	if err != nil {
		s.damaged(project, kindResult, key, err)
		return nil, false, nil
	}
	return res, true, nil
}

// PutResult stores a successful compile's result (exit code 0) under key
// in project. Failed compiles are not stored.
func (s *Store) PutResult(project string, key [32]byte, res *protocol.CompileResult) error {
	if res.ExitCode != 0 {
		return errors.New("server: a failed compile is not cached")
	}
	return s.put(project, kindResult, key, encodeResult(res), true)
}

// Get returns the shared cache entry under key in project.
func (s *Store) Get(project string, key [32]byte) ([]byte, bool, error) {
	return s.get(project, kindShared, key)
}

// Put stores a shared cache entry under key in project, replacing any
// earlier one. Entries are stored as given (clients compress them).
func (s *Store) Put(project string, key [32]byte, entry []byte) error {
	return s.put(project, kindShared, key, entry, false)
}

// Usage reports the bytes counted toward the size limit and the items stored.
func (s *Store) Usage() (bytes, items int64) { return s.bytes.Load(), s.items.Load() }

// Evicted reports how many items eviction removed since OpenStore.
func (s *Store) Evicted() int64 { return s.evicted.Load() }

// get reads and checks one item, recording the access.
func (s *Store) get(project string, kind byte, key [32]byte) ([]byte, bool, error) {
	unlock, err := s.begin()
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	dk, ik := itemKey(prefixData, project, kind, key), itemKey(prefixIndex, project, kind, key)
	var (
		val []byte
		rec indexRecord
		bad error
	)
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(dk)
		if err != nil {
			return err
		}
		if val, err = item.ValueCopy(nil); err != nil {
			return err
		}
		item, err = txn.Get(ik)
		if errors.Is(err, badger.ErrKeyNotFound) {
			bad = fmt.Errorf("%w: no index record", errDamaged)
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			rec, bad = decodeIndexRecord(v)
			return nil
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache get: %s", firstLine(err.Error()))
	}
	var payload []byte
	if bad == nil {
		payload, bad = decodeValue(val, s.opts.MaxEntrySize)
	}
	if bad != nil {
		s.damaged(project, kind, key, bad)
		return nil, false, nil
	}
	s.touch(ik, rec)
	return payload, true, nil
}

// damaged counts and removes an item that failed its checks.
func (s *Store) damaged(project string, kind byte, key [32]byte, cause error) {
	s.damage.Add(1)
	s.log.Warn("removing a damaged cache item", "project", project, "kind", string(kind), "err", cause)
	if _, _, err := s.removeItems([]victim{{project: project, kind: kind, key: key}}); err != nil {
		s.log.Warn("removing a damaged cache item", "err", err)
	}
}

// touch records an access when the stored one is older than TouchInterval.
func (s *Store) touch(ik []byte, rec indexRecord) {
	now := s.opts.now().UnixMilli()
	if now-rec.access < s.opts.TouchInterval.Milliseconds() {
		return
	}
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	err := s.update(func(txn *badger.Txn) error {
		item, err := txn.Get(ik)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var cur indexRecord
		var derr error
		if err := item.Value(func(v []byte) error { cur, derr = decodeIndexRecord(v); return nil }); err != nil || derr != nil {
			return err
		}
		if cur.access >= now {
			return nil
		}
		cur.access = now
		return txn.Set(ik, cur.encode())
	})
	if err != nil {
		s.log.Debug("recording a cache access", "err", firstLine(err.Error()))
	}
}

// put stores one item with a fresh index record in one transaction.
func (s *Store) put(project string, kind byte, key [32]byte, payload []byte, compress bool) error {
	if int64(len(payload)) > s.opts.MaxEntrySize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(payload), s.opts.MaxEntrySize)
	}
	val := encodeValue(payload, compress)
	size := itemSize(len(val), len(project))
	if size > s.opts.MaxSize/2 {
		return fmt.Errorf("%w: %d bytes, more than half the cache's size limit", ErrTooLarge, size)
	}
	unlock, err := s.begin()
	if err != nil {
		return err
	}
	defer unlock()
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	dk, ik := itemKey(prefixData, project, kind, key), itemKey(prefixIndex, project, kind, key)
	rec := indexRecord{size: size, access: s.opts.now().UnixMilli()}
	var oldSize int64
	var existed bool
	err = s.update(func(txn *badger.Txn) error {
		oldSize, existed = 0, false
		item, err := txn.Get(ik)
		switch {
		case err == nil:
			existed = true
			if err := item.Value(func(v []byte) error {
				if old, derr := decodeIndexRecord(v); derr == nil {
					oldSize = old.size
				}
				return nil
			}); err != nil {
				return err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		if err := txn.Set(dk, val); err != nil {
			return err
		}
		return txn.Set(ik, rec.encode())
	})
	if err != nil {
		return fmt.Errorf("cache put: %s", firstLine(err.Error()))
	}
	s.bytes.Add(size - oldSize)
	if existed {
		s.dirty.Store(true)
	} else {
		s.items.Add(1)
	}
	if s.bytes.Load() > s.opts.MaxSize {
		s.kick()
	}
	return nil
}

// maxTxnRetries bounds the retries of a transaction that lost a conflict.
const maxTxnRetries = 16

// update runs fn in a read-write transaction, retrying on conflicts.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	var err error
	for range maxTxnRetries {
		if err = s.db.Update(fn); !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}

// Close stops the background work and closes the database. Later calls
// return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		if s.db != nil {
			if err := s.db.Close(); err != nil {
				s.closeErr = fmt.Errorf("close cache: %s", firstLine(err.Error()))
			}
		}
		s.lock.Close()
	})
	return s.closeErr
}
