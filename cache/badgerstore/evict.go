package badgerstore

import (
	"slices"

	"github.com/dcc-build/dcc/cache/lru"
	"github.com/dgraph-io/badger/v4"
)

// removeChunk is how many items one eviction transaction removes.
const removeChunk = 64

// evict removes least-recently-used entries and manifests when usage is over
// MaxSize, until it is under LowWatermark × MaxSize. An item used or
// replaced while eviction runs is kept. The caller holds an operation
// (begin). It returns how many items it removed.
func (s *BadgerStore) evict() (int, error) {
	s.evictMu.Lock()
	defer s.evictMu.Unlock()
	if s.bytes.Load() <= s.opts.MaxSize {
		return 0, nil
	}
	if err := s.flushTouches(); err != nil {
		return 0, err
	}
	target := int64(float64(s.opts.MaxSize) * s.opts.LowWatermark)
	victims, err := s.oldest(s.bytes.Load() - target)
	if err != nil {
		return 0, err
	}
	before := s.bytes.Load()
	removed, err := s.removeAll(victims)
	s.evicted.Add(int64(removed))
	s.log.Debug("evicted least-recently-used items", "items", removed,
		"freed", before-s.bytes.Load(), "usage", s.bytes.Load(), "max_size", s.opts.MaxSize)
	return removed, err
}

// removeAll removes victims in transactions of removeChunk items.
func (s *BadgerStore) removeAll(victims []victim) (int, error) {
	total := 0
	for chunk := range slices.Chunk(victims, removeChunk) {
		n, err := s.removeBatch(chunk)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// oldest scans the index and returns the least-recently-used items whose
// sizes add up to at least excess, oldest first. Items with a damaged index
// record come first. Memory is bounded by the number of items returned.
func (s *BadgerStore) oldest(excess int64) ([]victim, error) {
	if excess <= 0 {
		return nil, nil
	}
	oldest := lru.NewOldest(excess, func(v victim) int64 { return v.access }, func(v victim) int64 { return v.size })
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefixIndex
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			kind, k, err := parseIndexKey(item.Key())
			if err != nil {
				continue
			}
			v := victim{kind: kind, key: k, guard: item.KeyCopy(nil), version: item.Version()}
			if err := item.Value(func(b []byte) error {
				rec, derr := decodeIndexRecord(b)
				if derr == nil {
					v.access, v.size = rec.access, rec.size
				}
				return nil
			}); err != nil {
				return err
			}
			oldest.Offer(v)
		}
		return nil
	})
	if err != nil {
		return nil, wrapBadger("scanning the index", err)
	}
	return oldest.Items(), nil
}
