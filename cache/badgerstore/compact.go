package badgerstore

import "github.com/dcc-build/dcc/badgerquiet"

// The store opens its database without compactors and runs them only
// while Badger's levels need them (package badgerquiet): a daemon with its
// cache open woke 40 times a second for Badger's compactors, with nothing
// to compact. Its background work checks every FlushInterval, every
// badgerquiet.CompactingCheck while compacting.

// settleCompaction opens the database again with compactors when its
// levels need compacting, and without them once they no longer do
// (badgerquiet.Settle). It reports whether the store is compacting. A
// database that does not open again leaves the store without one: its
// operations fail with cache.ErrClosed, and the daemon compiles without
// it.
func (s *BadgerStore) settleCompaction() bool {
	now, reopened, err := badgerquiet.Settle(&s.mu, &s.db, &s.compacting, s.bopts, func() bool { return s.closed })
	if err != nil {
		s.log.Warn("changing the cache's compaction", "err", err)
	}
	if reopened {
		if now {
			s.compactions.Add(1)
		}
		s.log.Debug("cache compaction", "compacting", now)
	}
	return now
}
