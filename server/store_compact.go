package server

import "github.com/dcc-build/dcc/badgerquiet"

// The store opens its database without compactors and runs them only
// while Badger's levels need them (package badgerquiet): an idle host with
// its database open spent 8 ms of CPU a second on Badger's compactors, 200
// on one machine (the farm simulator) half of two CPUs. Its background
// work checks every CheckInterval, every badgerquiet.CompactingCheck while
// compacting.

// settleCompaction opens the database again with compactors when its
// levels need compacting, and without them once they no longer do
// (badgerquiet.Settle). It reports whether the store is compacting. A
// database that does not open again is opened by the next operation,
// quiet, as after a pause.
func (s *Store) settleCompaction() bool {
	now, reopened, err := badgerquiet.Settle(&s.mu, &s.db, &s.compacting, s.bopts, func() bool { return s.closed })
	if err != nil {
		s.log.Warn("changing the cache's compaction", "err", firstLine(err.Error()))
	}
	if reopened {
		if now {
			s.compactions.Add(1)
		}
		s.log.Debug("cache compaction", "compacting", now)
	}
	return now
}
