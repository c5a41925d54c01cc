package badgerstore

import (
	"errors"
	"fmt"
	"github.com/dcc-build/dcc/cache"

	"github.com/dgraph-io/badger/v4"
)

// maxTxnRetries bounds the retries of a transaction that lost a conflict.
const maxTxnRetries = 16

// update runs fn in a read-write transaction, retrying on conflicts. fn must
// reset whatever it computes, since it may run several times.
func (s *BadgerStore) update(fn func(txn *badger.Txn) error) error {
	var err error
	for range maxTxnRetries {
		if err = s.db.Update(fn); !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}

func kindName(kind byte) string {
	if kind == kindEntry {
		return "entry"
	}
	return "manifest"
}

func (s *BadgerStore) counter(kind byte) interface{ Add(int64) int64 } {
	if kind == kindEntry {
		return &s.entries
	}
	return &s.manifests
}

// get reads the value under (kind, k) and passes it to decode inside the
// read transaction. A value that fails to decode, or whose index record is
// missing or damaged, is removed, counted and reported as cache.ErrCorrupt.
func (s *BadgerStore) get(kind byte, k cache.Key, decode func([]byte) error) error {
	unlock, err := s.begin()
	if err != nil {
		return err
	}
	defer unlock()
	dk, ik := dataKey(kind, k), indexKey(kind, k)
	var (
		version uint64
		rec     indexRecord
		damaged error
	)
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(dk)
		if err != nil {
			return err
		}
		version = item.Version()
		if err := item.Value(func(v []byte) error {
			damaged = decode(v)
			return nil
		}); err != nil {
			return err
		}
		if damaged != nil {
			return nil
		}
		item, err = txn.Get(ik)
		if errors.Is(err, badger.ErrKeyNotFound) {
			damaged = errors.New("no index record")
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			rec, damaged = decodeIndexRecord(v)
			return nil
		})
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return cache.ErrNotFound
	case err != nil:
		return wrapBadger(fmt.Sprintf("get %s %s", kindName(kind), k), err)
	case damaged != nil:
		s.dropDamaged(kind, k, version, damaged)
		return fmt.Errorf("%w: %s %s: %v", cache.ErrCorrupt, kindName(kind), k, damaged)
	}
	s.touch(ik, rec.access)
	return nil
}

// dropDamaged counts a damaged item and removes it, unless it was replaced
// since it was read (its data key has another version).
func (s *BadgerStore) dropDamaged(kind byte, k cache.Key, version uint64, cause error) {
	s.corrupt.Add(1)
	s.log.Warn("removing a damaged item", "kind", kindName(kind), "key", k.String(), "err", cause)
	v := victim{kind: kind, key: k, guard: dataKey(kind, k), version: version}
	if _, err := s.removeBatch([]victim{v}); err != nil {
		s.log.Warn("removing a damaged item", "key", k.String(), "err", err)
	}
}

// put stores the value built by build under (kind, k) with a fresh index
// record, in one transaction, and updates the usage counters.
func (s *BadgerStore) put(kind byte, k cache.Key, build func(txn *badger.Txn) ([]byte, error)) error {
	unlock, err := s.begin()
	if err != nil {
		return err
	}
	defer unlock()
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	dk, ik := dataKey(kind, k), indexKey(kind, k)
	access := s.opts.now().UnixMilli()
	var (
		delta   int64
		existed bool
	)
	err = s.update(func(txn *badger.Txn) error {
		oldSize, ok, err := s.countedSize(txn, kind, k)
		if err != nil {
			return err
		}
		val, err := build(txn)
		if err != nil {
			return err
		}
		rec := indexRecord{size: itemSize(len(val)), access: access}
		if err := txn.Set(dk, val); err != nil {
			return err
		}
		if err := txn.Set(ik, rec.encode()); err != nil {
			return err
		}
		delta, existed = rec.size-oldSize, ok
		return nil
	})
	if err != nil {
		return wrapBadger(fmt.Sprintf("put %s %s", kindName(kind), k), err)
	}
	s.bytes.Add(delta)
	if existed {
		s.dirty.Store(true)
	} else {
		s.counter(kind).Add(1)
	}
	if s.bytes.Load() > s.opts.MaxSize {
		s.kick()
	}
	return nil
}

// readRecord reads the index record at ik; ok is false when there is none
// or it is damaged (a damaged record was never counted in the usage).
func (s *BadgerStore) readRecord(txn *badger.Txn, ik []byte) (rec indexRecord, ok bool, err error) {
	item, err := txn.Get(ik)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return indexRecord{}, false, nil
	}
	if err != nil {
		return indexRecord{}, false, err
	}
	var derr error
	if err := item.Value(func(v []byte) error {
		rec, derr = decodeIndexRecord(v)
		return nil
	}); err != nil {
		return indexRecord{}, false, err
	}
	if derr != nil {
		return indexRecord{}, false, nil
	}
	return rec, true, nil
}

// countedSize returns what the usage counters hold for the item (kind, k):
// an item is counted while it has an index record, at the size recorded
// there. A record that was damaged after it was counted (loadUsage removes
// those it finds) is taken to have counted the stored value's size.
func (s *BadgerStore) countedSize(txn *badger.Txn, kind byte, k cache.Key) (int64, bool, error) {
	ik := indexKey(kind, k)
	rec, ok, err := s.readRecord(txn, ik)
	if err != nil || ok {
		return rec.size, ok, err
	}
	if _, err := txn.Get(ik); errors.Is(err, badger.ErrKeyNotFound) {
		return 0, false, nil
	}
	item, err := txn.Get(dataKey(kind, k))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	var size int64
	err = item.Value(func(v []byte) error {
		size = itemSize(len(v))
		return nil
	})
	return size, true, err
}

// victim is an item to remove, if guard still has the given version.
type victim struct {
	kind    byte
	key     cache.Key
	guard   []byte
	version uint64
	access  int64
	size    int64
}

// removeBatch removes the victims whose guard is unchanged, in one
// transaction, and updates the usage counters. It returns how many it removed.
func (s *BadgerStore) removeBatch(vs []victim) (int, error) {
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	var freed, entries, manifests int64
	var removed int
	err := s.update(func(txn *badger.Txn) error {
		freed, entries, manifests, removed = 0, 0, 0, 0
		for _, v := range vs {
			item, err := txn.Get(v.guard)
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if item.Version() != v.version {
				continue
			}
			size, ok, err := s.countedSize(txn, v.kind, v.key)
			if err != nil {
				return err
			}
			if err := txn.Delete(dataKey(v.kind, v.key)); err != nil {
				return err
			}
			if err := txn.Delete(indexKey(v.kind, v.key)); err != nil {
				return err
			}
			removed++
			if !ok {
				continue
			}
			freed += size
			if v.kind == kindEntry {
				entries++
			} else {
				manifests++
			}
		}
		return nil
	})
	if err != nil {
		return 0, wrapBadger("remove", err)
	}
	s.bytes.Add(-freed)
	s.entries.Add(-entries)
	s.manifests.Add(-manifests)
	if removed > 0 {
		s.dirty.Store(true)
	}
	return removed, nil
}

// loadUsage restores the usage counters from the index records, removing
// items whose index record is damaged.
func (s *BadgerStore) loadUsage() error {
	var bad []victim
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefixIndex
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			kind, k, kerr := parseIndexKey(item.Key())
			var rec indexRecord
			var derr error
			if err := item.Value(func(v []byte) error {
				rec, derr = decodeIndexRecord(v)
				return nil
			}); err != nil {
				return err
			}
			switch {
			case kerr != nil:
				s.log.Warn("ignoring a malformed index key", "err", kerr)
			case derr != nil:
				bad = append(bad, victim{kind: kind, key: k, guard: item.KeyCopy(nil), version: item.Version()})
			default:
				s.bytes.Add(rec.size)
				s.counter(kind).Add(1)
			}
		}
		return nil
	})
	if err != nil {
		return wrapBadger("reading the index", err)
	}
	if len(bad) > 0 {
		s.corrupt.Add(int64(len(bad)))
		s.log.Warn("removing items with damaged index records", "count", len(bad))
		if _, err := s.removeAll(bad); err != nil {
			return err
		}
	}
	return nil
}
