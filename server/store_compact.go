package server

import (
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Badger compacts with goroutines that wake every 50 ms whether or not
// there is anything to compact: an idle dcc-server with its database open
// spent 8 ms of CPU a second on them (0.1 ms without), and 200 hosts on one
// machine (the farm simulator) more than half of two CPUs. The store opens
// its database without compactors ("quiet") and opens it again with them
// only while Badger's levels need compacting: level 0 has reached
// NumLevelZeroTables tables, or a level is past its target. Its background
// work checks every CheckInterval, every compactingCheck while compacting.
// A quiet database never stalls writes on level 0 (quietL0Stall), so a
// write cannot wait for a compaction only the background can start.

const (
	// storeCompactors is how many compactors run while the store compacts.
	storeCompactors = 2
	// storeL0Stall is the number of level-0 tables at which Badger makes
	// writes wait for its compactors, while they run.
	storeL0Stall = 8
	// quietL0Stall lifts that limit while no compactor runs.
	quietL0Stall = 1 << 20
	// compactingCheck is how often a compacting store checks whether
	// Badger's levels are back within their targets.
	compactingCheck = time.Second
)

// quietOptions returns opts without compactors and without the level-0
// stall: the options the store opens its database with.
func quietOptions(opts badger.Options) badger.Options {
	return opts.WithNumCompactors(0).WithNumLevelZeroTablesStall(quietL0Stall)
}

// compactingOptions returns opts with compactors and the level-0 stall.
func compactingOptions(opts badger.Options) badger.Options {
	return opts.WithNumCompactors(storeCompactors).WithNumLevelZeroTablesStall(storeL0Stall)
}

// levelsNeedCompaction reports whether Badger's compactors would find work
// in levels: level 0 at NumLevelZeroTables tables or more, or a level past
// its target. Badger sets Score only on levels whose score is 1 or more.
func levelsNeedCompaction(levels []badger.LevelInfo) bool {
	for _, l := range levels {
		if (l.Level == 0 && l.Score >= 1) || l.Adjusted >= 1 {
			return true
		}
	}
	return false
}

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
	need := levelsNeedCompaction(db.Levels())
	s.mu.RUnlock()
	if need == compacting {
		return compacting
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.db != db {
		return s.compacting
	}
	opts := s.bopts
	if need {
		opts = compactingOptions(s.bopts)
	}
	start := time.Now()
	if err := s.db.Close(); err != nil {
		s.log.Warn("closing the cache to change its compaction", "err", firstLine(err.Error()))
	}
	s.db, s.compacting = nil, false
	reopened, err := badger.Open(opts)
	if err != nil {
		// The next operation opens it again, quiet, as after a pause.
		s.log.Warn("reopening the cache to change its compaction", "err", firstLine(err.Error()))
		return false
	}
	s.db, s.compacting = reopened, need
	if need {
		s.compactions.Add(1)
	}
	s.log.Debug("cache compaction", "compacting", need, "reopen", time.Since(start).Round(time.Millisecond))
	return need
}
