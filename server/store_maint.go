package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dcc-build/dcc/badgerquiet"
	"github.com/dcc-build/dcc/cache/lru"
	"github.com/dgraph-io/badger/v4"
)

const (
	// removeChunk is how many items one removal transaction deletes.
	removeChunk = 256
	// maxGCRounds bounds the value-log files one GC pass rewrites.
	maxGCRounds = 64
	// gcDiscardRatio: a value-log file is rewritten when this much of it is garbage.
	gcDiscardRatio = 0.5
)

// victim is an item to remove.
type victim struct {
	project string
	kind    byte
	key     [32]byte
	access  int64
	size    int64
}

// Clean removes every item (results and shared entries) of project and
// reports how many it removed.
func (s *Store) Clean(project string) (int64, error) {
	unlock, err := s.begin()
	if err != nil {
		return 0, err
	}
	defer unlock()
	s.maintMu.Lock()
	defer s.maintMu.Unlock()
	var total int64
	prefix := projectPrefix(prefixIndex, project)
	for {
		victims, err := s.scan(prefix, removeChunk)
		if err != nil {
			return total, err
		}
		if len(victims) == 0 {
			break
		}
		n, _, err := s.removeItems(victims)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	// Values whose index record was lost are not counted, but go too.
	if err := s.removeOrphans(projectPrefix(prefixData, project)); err != nil {
		return total, err
	}
	s.gcNow.Store(true)
	s.kick()
	return total, nil
}

// scan returns up to limit items whose index keys start with prefix.
func (s *Store) scan(prefix []byte, limit int) ([]victim, error) {
	var out []victim
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < limit; it.Next() {
			project, kind, key, err := splitItemKey(it.Item().Key())
			if err != nil {
				continue
			}
			out = append(out, victim{project: project, kind: kind, key: key})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache scan: %s", firstLine(err.Error()))
	}
	return out, nil
}

// removeOrphans deletes the data keys under prefix that have no index record.
func (s *Store) removeOrphans(prefix []byte) error {
	var orphans [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix, opt.PrefetchValues = prefix, false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			dk := it.Item().KeyCopy(nil)
			ik := append(bytes.Clone(prefixIndex), dk[len(prefixData):]...)
			if _, err := txn.Get(ik); errors.Is(err, badger.ErrKeyNotFound) {
				orphans = append(orphans, dk)
			}
		}
		return nil
	})
	if err != nil || len(orphans) == 0 {
		return err
	}
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	for chunk := range slices.Chunk(orphans, removeChunk) {
		if err := s.update(func(txn *badger.Txn) error {
			for _, k := range chunk {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("cache remove: %s", firstLine(err.Error()))
		}
	}
	s.dirty.Store(true)
	return nil
}

// removeItems deletes the victims that still exist, in one transaction
// per chunk, and updates the usage counters. It returns how many items and
// bytes it removed.
func (s *Store) removeItems(vs []victim) (int, int64, error) {
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	var removed int
	var freed int64
	for chunk := range slices.Chunk(vs, removeChunk) {
		var n int
		var f int64
		err := s.update(func(txn *badger.Txn) error {
			n, f = 0, 0
			for _, v := range chunk {
				ik := itemKey(prefixIndex, v.project, v.kind, v.key)
				item, err := txn.Get(ik)
				if errors.Is(err, badger.ErrKeyNotFound) {
					// No record: the value (if any) was never counted.
					if err := txn.Delete(itemKey(prefixData, v.project, v.kind, v.key)); err != nil {
						return err
					}
					continue
				}
				if err != nil {
					return err
				}
				if v.access != 0 {
					// Eviction: keep an item used since the scan.
					var rec indexRecord
					var derr error
					if err := item.Value(func(b []byte) error { rec, derr = decodeIndexRecord(b); return nil }); err != nil {
						return err
					}
					if derr == nil && rec.access > v.access {
						continue
					}
				}
				var size int64
				if err := item.Value(func(b []byte) error {
					if rec, derr := decodeIndexRecord(b); derr == nil {
						size = rec.size
					}
					return nil
				}); err != nil {
					return err
				}
				if err := txn.Delete(itemKey(prefixData, v.project, v.kind, v.key)); err != nil {
					return err
				}
				if err := txn.Delete(ik); err != nil {
					return err
				}
				n++
				f += size
			}
			return nil
		})
		if err != nil {
			return removed, freed, fmt.Errorf("cache remove: %s", firstLine(err.Error()))
		}
		removed += n
		freed += f
		s.items.Add(-int64(n))
		s.bytes.Add(-f)
	}
	if removed > 0 {
		s.dirty.Store(true)
	}
	return removed, freed, nil
}

// evict removes least-recently-used items while usage is over MaxSize,
// down to LowWatermark × MaxSize. It returns how many it removed.
func (s *Store) evict() (int, error) {
	s.maintMu.Lock()
	defer s.maintMu.Unlock()
	if s.bytes.Load() <= s.opts.MaxSize {
		return 0, nil
	}
	target := int64(float64(s.opts.MaxSize) * s.opts.LowWatermark)
	victims, err := s.oldest(s.bytes.Load() - target)
	if err != nil {
		return 0, err
	}
	n, freed, err := s.removeItems(victims)
	s.evicted.Add(int64(n))
	s.log.Debug("evicted least-recently-used items", "items", n, "freed", freed, "usage", s.bytes.Load(), "max_size", s.opts.MaxSize)
	return n, err
}

// oldest returns the least-recently-used items whose sizes add up to at
// least excess, oldest first. Memory is bounded by the items returned.
func (s *Store) oldest(excess int64) ([]victim, error) {
	oldest := lru.NewOldest(excess, func(v victim) int64 { return v.access }, func(v victim) int64 { return v.size })
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefixIndex
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			project, kind, key, err := splitItemKey(item.Key())
			if err != nil {
				continue
			}
			v := victim{project: project, kind: kind, key: key}
			if err := item.Value(func(b []byte) error {
				if rec, derr := decodeIndexRecord(b); derr == nil {
					v.access, v.size = max(rec.access, 1), rec.size
				} else {
					v.access = 1
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
		return nil, fmt.Errorf("cache index scan: %s", firstLine(err.Error()))
	}
	return oldest.Items(), nil
}

// loadUsage restores the usage counters from the index records.
func (s *Store) loadUsage() error {
	return s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefixIndex
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := it.Item().Value(func(b []byte) error {
				if rec, derr := decodeIndexRecord(b); derr == nil {
					s.bytes.Add(rec.size)
				}
				s.items.Add(1)
				return nil
			}); err != nil {
				return fmt.Errorf("cache usage: %s", firstLine(err.Error()))
			}
		}
		return nil
	})
}

// kick wakes the background worker without blocking.
func (s *Store) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// background keeps the size limit, collects value-log garbage, runs
// Badger's compactors only while needed and closes the database while
// idle, until Close.
func (s *Store) background() {
	defer close(s.done)
	timer := time.NewTimer(s.opts.CheckInterval)
	defer timer.Stop()
	lastGC := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
		if s.maintain(time.Since(lastGC) >= s.opts.GCInterval) {
			lastGC = time.Now()
		}
		next := s.opts.CheckInterval
		if s.settleCompaction() {
			next = min(next, badgerquiet.CompactingCheck)
		}
		s.sleepIfIdle()
		timer.Reset(next)
	}
}

// maintain evicts past the size limit and runs value-log GC after an
// eviction or a Clean, or when gcDue and something was removed. It reports
// whether GC ran.
func (s *Store) maintain(gcDue bool) bool {
	unlock, ok := s.beginAwake()
	if !ok {
		return false
	}
	defer unlock()
	n, err := s.evict()
	if err != nil {
		s.log.Warn("cache eviction", "err", err)
	}
	if n > 0 || s.gcNow.Swap(false) || (gcDue && s.dirty.Load()) {
		s.collectGarbage()
		return true
	}
	return false
}

// collectGarbage flushes the memtable (value-log GC reclaims nothing until
// deletes leave it) and rewrites value-log files that are mostly garbage.
func (s *Store) collectGarbage() {
	s.dirty.Store(false)
	if err := s.flushMemtable(); err != nil {
		s.log.Warn("flushing the memtable before value-log GC", "err", err)
	}
	for range maxGCRounds {
		s.writeMu.Lock()
		err := s.db.RunValueLogGC(gcDiscardRatio)
		s.writeMu.Unlock()
		if err != nil {
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
				s.log.Warn("value-log GC", "err", firstLine(err.Error()))
			}
			return
		}
	}
}

// flushMemtable makes Badger flush its memtable by writing a sentinel key
// and dropping its prefix; writes wait meanwhile.
func (s *Store) flushMemtable() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(sentinelKey, []byte{1}) }); err != nil {
		return fmt.Errorf("write the flush sentinel: %s", firstLine(err.Error()))
	}
	if err := s.db.DropPrefix(prefixSentinel); err != nil {
		return fmt.Errorf("drop the flush sentinel: %s", firstLine(err.Error()))
	}
	return nil
}

// badgerLogger routes Badger's log to slog (errors and warnings as such,
// the rest at debug level), one line each, cut short: some Badger messages
// embed a hexdump of a value.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) log(level slog.Level, format string, args []any) {
	if b.l.Enabled(context.Background(), level) {
		b.l.Log(context.Background(), level, firstLine(fmt.Sprintf(format, args...)))
	}
}

// Errorf logs a Badger error.
func (b badgerLogger) Errorf(f string, a ...any) { b.log(slog.LevelError, f, a) }

// Warningf logs a Badger warning.
func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a) }

// Infof logs Badger's information at debug level.
func (b badgerLogger) Infof(f string, a ...any) { b.log(slog.LevelDebug, f, a) }

// Debugf logs Badger's debug messages.
func (b badgerLogger) Debugf(f string, a ...any) { b.log(slog.LevelDebug, f, a) }

// firstLine keeps the first line of msg, at most 300 bytes of it.
func firstLine(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] + " [...]"
	}
	if len(msg) > 300 {
		msg = msg[:300] + " [...]"
	}
	return msg
}
