// Package badgerquiet runs a Badger database's compactors only while its
// levels need them. Badger's compactors wake every 50 ms whether or not
// there is anything to compact: a process with an idle database open
// spent 8 ms of CPU a second on them (0.1 ms without), and woke 40 times a
// second. A store opens its database with Quiet options (no compactor),
// checks Needs now and then, and opens it again with Compacting options
// while it returns true (Reopen), then with Quiet ones once it returns
// false. A quiet database never stalls writes on level 0, so a write
// cannot wait for a compaction only the store's own check can start.
package badgerquiet

import (
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

const (
	// Compactors is how many compactors run while a store compacts.
	Compactors = 2
	// L0Stall is the number of level-0 tables at which Badger makes writes
	// wait for its compactors, while they run.
	L0Stall = 8
	// quietL0Stall lifts that limit while no compactor runs.
	quietL0Stall = 1 << 20
	// CompactingCheck is how often a compacting store should check whether
	// Badger's levels are back within their targets.
	CompactingCheck = time.Second
)

// Quiet returns opts without compactors and without the level-0 stall.
func Quiet(opts badger.Options) badger.Options {
	return opts.WithNumCompactors(0).WithNumLevelZeroTablesStall(quietL0Stall)
}

// Compacting returns opts with Compactors compactors and the L0Stall limit.
func Compacting(opts badger.Options) badger.Options {
	return opts.WithNumCompactors(Compactors).WithNumLevelZeroTablesStall(L0Stall)
}

// Needs reports whether Badger's compactors would find work in db: level
// 0 at NumLevelZeroTables tables or more, or a level past its target.
// Badger sets a level's Score only when it is 1 or more.
func Needs(db *badger.DB) bool {
	for _, l := range db.Levels() {
		if (l.Level == 0 && l.Score >= 1) || l.Adjusted >= 1 {
			return true
		}
	}
	return false
}

// Reopen closes db and opens it again with quiet's options made
// Compacting when compacting, else as they are. The caller holds its
// store's lock: no operation may use db meanwhile. When the database does
// not open again, the result is nil and the error.
func Reopen(db *badger.DB, quiet badger.Options, compacting bool) (*badger.DB, error) {
	opts := quiet
	if compacting {
		opts = Compacting(quiet)
	}
	closeErr := db.Close()
	reopened, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("reopen %s (compactors %d): %w", opts.Dir, opts.NumCompactors, err)
	}
	if closeErr != nil {
		return reopened, fmt.Errorf("close %s before reopening it: %w", opts.Dir, closeErr)
	}
	return reopened, nil
}

// Settle reopens the database *db with compactors when its levels need
// them, and without them once they no longer do; *compacting says which
// it runs. mu guards both: Settle looks under the read lock and reopens
// under the write lock, so the store's operations wait meanwhile (10-30
// ms). A nil *db, or a store whose closed reports true (called under mu),
// is left alone. It reports whether the database runs compactors now and
// whether it was opened again; when it did not open again, *db is nil and
// err says why.
func Settle(mu *sync.RWMutex, db **badger.DB, compacting *bool, quiet badger.Options, closed func() bool) (now, reopened bool, err error) {
	mu.RLock()
	current, was := *db, *compacting
	if current == nil || closed() {
		mu.RUnlock()
		return false, false, nil
	}
	need := Needs(current)
	mu.RUnlock()
	if need == was {
		return was, false, nil
	}

	mu.Lock()
	defer mu.Unlock()
	if *db != current || closed() {
		return *compacting, false, nil
	}
	*db, err = Reopen(current, quiet, need)
	*compacting = need && *db != nil
	return *compacting, true, err
}
