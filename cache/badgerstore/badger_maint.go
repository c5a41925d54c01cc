package badgerstore

import (
	"errors"
	"time"

	"github.com/dcc-build/dcc/badgerquiet"
	"github.com/dgraph-io/badger/v4"
)

const (
	// maxPendingTouches wakes the background worker to write access times.
	maxPendingTouches = 4096
	// touchBatch is how many access times one transaction writes.
	touchBatch = 256
	// maxGCRounds bounds the value-log files one GC pass rewrites.
	maxGCRounds = 64
)

// kick wakes the background worker without blocking.
func (s *BadgerStore) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// background writes access times, keeps the size limit, collects
// value-log garbage and runs Badger's compactors only while needed, until
// Close.
func (s *BadgerStore) background() {
	defer close(s.done)
	timer := time.NewTimer(s.opts.FlushInterval)
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
		next := s.opts.FlushInterval
		if s.settleCompaction() {
			next = min(next, badgerquiet.CompactingCheck)
		}
		timer.Reset(next)
	}
}

// maintain writes pending access times, evicts past the size limit and runs
// value-log GC after an eviction, after Clear, or when gcDue and something
// was deleted since the last GC. It reports whether GC ran.
func (s *BadgerStore) maintain(gcDue bool) bool {
	unlock, err := s.begin()
	if err != nil {
		return false
	}
	defer unlock()
	if err := s.flushTouches(); err != nil {
		s.log.Warn("writing access times", "err", err)
	}
	n, err := s.evict()
	if err != nil {
		s.log.Warn("eviction", "err", err)
	}
	requested := s.gcNow.Swap(false)
	if n > 0 || requested || (gcDue && s.dirty.Load()) {
		s.collectGarbage()
		return true
	}
	return false
}

// collectGarbage flushes the memtable, so that compaction records what
// deletes freed in the value log, then rewrites value-log files that are
// mostly garbage. The caller holds an operation (begin).
func (s *BadgerStore) collectGarbage() {
	s.dirty.Store(false)
	if err := s.flushMemtable(); err != nil {
		s.log.Warn("flushing the memtable before value-log GC", "err", err)
	}
	rewrites := 0
	for rewrites < maxGCRounds {
		err := s.valueLogGCRound()
		if err != nil {
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
				s.log.Warn("value-log GC", "err", wrapBadger("value-log GC", err))
			}
			break
		}
		rewrites++
	}
	s.log.Debug("value-log GC done", "files_rewritten", rewrites)
}

// valueLogGCRound rewrites at most one value-log file. Writes wait meanwhile:
// Badger v4.9.6 starts a rewrite by reading the memtable's max version
// (DB.MaxVersion) without the lock its writer goroutine would need, a data
// race the race detector reports when a write runs at the same time.
func (s *BadgerStore) valueLogGCRound() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.db.RunValueLogGC(s.opts.GCDiscardRatio)
}

// flushMemtable forces Badger to flush its memtable: value-log GC reclaims
// nothing until deletes leave the memtable. Writing a sentinel key and
// dropping its prefix is the one way Badger offers; writes wait meanwhile.
func (s *BadgerStore) flushMemtable() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(sentinelKey, []byte{1})
	}); err != nil {
		return wrapBadger("writing the flush sentinel", err)
	}
	return wrapBadger("dropping the flush sentinel", s.db.DropPrefix(prefixSentinel))
}

// touch records an access to the item whose index key is ik and whose stored
// access time is stored, if that is older than TouchInterval. The time is
// written later, in a batch.
func (s *BadgerStore) touch(ik []byte, stored int64) {
	now := s.opts.now().UnixMilli()
	if now-stored < s.opts.TouchInterval.Milliseconds() {
		return
	}
	s.touchMu.Lock()
	s.touches[string(ik)] = now
	n := len(s.touches)
	s.touchMu.Unlock()
	if n >= maxPendingTouches {
		s.kick()
	}
}

// flushTouches writes the pending access times of items that still exist.
// The caller holds an operation (begin) or the store lock.
func (s *BadgerStore) flushTouches() error {
	// One flush at a time: an eviction that flushes must see the access
	// times that a flush already in progress is writing.
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.touchMu.Lock()
	pending := s.touches
	s.touches = make(map[string]int64, len(pending))
	s.touchMu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	keys := make([]string, 0, len(pending))
	for k := range pending {
		keys = append(keys, k)
	}
	for len(keys) > 0 {
		batch := keys[:min(touchBatch, len(keys))]
		keys = keys[len(batch):]
		err := s.update(func(txn *badger.Txn) error {
			for _, k := range batch {
				ik := []byte(k)
				rec, ok, err := s.readRecord(txn, ik)
				if err != nil {
					return err
				}
				if !ok || rec.access >= pending[k] {
					continue
				}
				rec.access = pending[k]
				if err := txn.Set(ik, rec.encode()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return wrapBadger("writing access times", err)
		}
	}
	return nil
}
