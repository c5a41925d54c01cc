package server

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dcc-build/dcc/badgerquiet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// levelZeroTables returns how many tables level 0 of s's open database has.
func levelZeroTables(t *testing.T, s *Store) int {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	require.NotNil(t, s.db, "the database sleeps")
	return s.db.Levels()[0].NumTables
}

// compactors returns how many compactors s's open database runs.
func compactors(t *testing.T, s *Store) int {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	require.NotNil(t, s.db, "the database sleeps")
	return s.db.Opts().NumCompactors
}

// addLevelZeroTables writes an entry and closes the database n times (as
// a pause does: Badger flushes its memtable to a level-0 table), so that
// level 0 gains n tables; entries first, first+1, ... are written.
func addLevelZeroTables(t *testing.T, s *Store, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		require.NoError(t, s.Put("p", key(i), []byte("entry")))
		s.mu.Lock()
		err := s.db.Close()
		s.db, s.compacting = nil, false
		s.mu.Unlock()
		require.NoError(t, err)
	}
	end, err := s.begin()
	require.NoError(t, err)
	end()
}

func TestStoreRunsNoCompactorWhileQuiet(t *testing.T) {
	s := openTestStore(t, "", StoreOptions{CheckInterval: time.Hour})
	require.NoError(t, s.Put("p", key(1), []byte("entry")))
	assert.Zero(t, compactors(t, s), "an idle database runs Badger's compactors")
	assert.False(t, s.settleCompaction(), "one entry needs no compaction")
	assert.Zero(t, compactors(t, s))
}

func TestStoreCompactsLevelZeroThenGoesQuiet(t *testing.T) {
	s := openTestStore(t, "", StoreOptions{CheckInterval: 10 * time.Millisecond, IdleClose: time.Hour})
	const tables = 4
	addLevelZeroTables(t, s, 0, tables)

	// The helper's own closing races with the background's checks: wait
	// for the end state, a compacted level 0 with no compactor running.
	require.Eventually(t, func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return s.db != nil && !s.compacting && s.db.Opts().NumCompactors == 0 &&
			s.db.Levels()[0].NumTables < 3
	}, 20*time.Second, 5*time.Millisecond, "level 0 not compacted, or the compactors still run")
	assert.Positive(t, s.compactions.Load())
	for i := range tables {
		got, ok, err := s.Get("p", key(i))
		require.NoError(t, err)
		require.True(t, ok, "entry %d lost in the compaction", i)
		assert.Equal(t, "entry", string(got))
	}
}

func TestStoreQuietWritesDoNotStall(t *testing.T) {
	// Without background checks, level 0 grows past the stall limit Badger
	// keeps while its compactors run: writes must go on regardless. A 1 MiB
	// memtable makes level-0 tables quickly.
	s, err := OpenStore(t.TempDir(), StoreOptions{CheckInterval: time.Hour})
	require.NoError(t, err)
	s.mu.Lock()
	require.NoError(t, s.db.Close())
	s.bopts = s.bopts.WithMemTableSize(1 << 20)
	s.db = nil
	s.mu.Unlock()
	end, err := s.begin()
	require.NoError(t, err)
	end()

	const tables = badgerquiet.L0Stall + 2
	rng := rand.New(rand.NewPCG(1, 2))
	entry := make([]byte, 3<<10) // under Badger's value threshold: in the tables
	written := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ; written < 100_000 && levelZeroTables(t, s) < tables; written++ {
			for i := range entry {
				entry[i] = byte(rng.Uint32())
			}
			if err := s.Put("p", key(written), entry); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		// The store is left open: closing it would wait for the write.
		t.Fatalf("writes stalled with level 0 at %d tables", levelZeroTables(t, s))
	}
	t.Cleanup(func() { _ = s.Close() })
	require.GreaterOrEqual(t, levelZeroTables(t, s), tables)

	// The next check compacts it.
	require.True(t, s.settleCompaction())
	require.Eventually(t, func() bool { return !s.settleCompaction() }, 30*time.Second, 10*time.Millisecond)
	assert.Less(t, levelZeroTables(t, s), 3)
	for _, i := range []int{0, written / 2, written - 1} {
		_, ok, err := s.Get("p", key(i))
		require.NoError(t, err)
		assert.True(t, ok, "entry %d", i)
	}
}
