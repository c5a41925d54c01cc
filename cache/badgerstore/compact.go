package badgerstore

import (
	"time"

	"github.com/dcc-build/dcc/badgerquiet"
)

// The store opens its database without compactors and runs them only
// while Badger's levels need them (package badgerquiet): a daemon with its
// cache open woke 40 times a second for Badger's compactors, with nothing
// to compact. Its background work checks every FlushInterval, every
// badgerquiet.CompactingCheck while compacting.

// settleCompaction opens the database again with compactors when its
// levels need compacting, and without them once they no longer do. It
// reports whether the store is compacting. Operations wait meanwhile
// (10-30 ms). A database that does not open again closes the store: its
// operations fail with cache.ErrClosed, and the daemon compiles without
// it.
func (s *BadgerStore) settleCompaction() bool {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return false
	}
	db, compacting := s.db, s.compacting
	need := badgerquiet.Needs(db)
	s.mu.RUnlock()
	if need == compacting {
		return compacting
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.db != db {
		return s.compacting
	}
	start := time.Now()
	reopened, err := badgerquiet.Reopen(s.db, s.bopts, need)
	if err != nil {
		s.log.Warn("changing the cache's compaction", "err", err)
	}
	if reopened == nil {
		s.db, s.closed, s.compacting = nil, true, false
		return false
	}
	s.db, s.compacting = reopened, need
	if need {
		s.compactions.Add(1)
	}
	s.log.Debug("cache compaction", "compacting", need, "reopen", time.Since(start).Round(time.Millisecond))
	return need
}
