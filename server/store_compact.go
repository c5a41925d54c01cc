package server

import (
	"time"

	"github.com/dcc-build/dcc/badgerquiet"
)

// The store opens its database without compactors and runs them only
// while Badger's levels need them (package badgerquiet): an idle host with
// its database open spent 8 ms of CPU a second on Badger's compactors, 200
// on one machine (the farm simulator) half of two CPUs. Its background
// work checks every CheckInterval, every badgerquiet.CompactingCheck while
// compacting.

// settleCompaction opens the database again with compactors when its
// levels need compacting, and without them once they no longer do. It
// reports whether the store is compacting. A store that sleeps or is
// closed is left alone.
func (s *Store) settleCompaction() bool {
	s.mu.RLock()
	db, compacting := s.db, s.compacting
	if s.closed || db == nil {
		s.mu.RUnlock()
		return false
	}
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
		s.log.Warn("changing the cache's compaction", "err", firstLine(err.Error()))
	}
	// Without a database the next operation opens it again, quiet, as
	// after a pause.
	s.db, s.compacting = reopened, need && reopened != nil
	if s.compacting {
		s.compactions.Add(1)
	}
	s.log.Debug("cache compaction", "compacting", s.compacting, "reopen", time.Since(start).Round(time.Millisecond))
	return s.compacting
}
