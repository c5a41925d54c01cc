package badgerstore

import (
	"testing"
	"time"

	"github.com/dcc-build/dcc/badgerquiet"
	"github.com/dcc-build/dcc/cache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// levels returns the compactors s's database runs and its level-0 tables.
func levels(t *testing.T, s *BadgerStore) (compactors, levelZero int) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	require.False(t, s.closed, "the store closed")
	return s.db.Opts().NumCompactors, s.db.Levels()[0].NumTables
}

// fillLevelZero writes random 3 KiB entries (kept in Badger's tables) from
// key first on until level 0 has tables tables, and returns the next key.
// It fails the test when the writes stall: the store is then left open,
// since closing it would wait for them.
func fillLevelZero(t *testing.T, s *BadgerStore, first, tables int) int {
	t.Helper()
	next := first
	done := make(chan error, 1)
	go func() {
		for ; next < first+100_000; next++ {
			if _, n := levels(t, s); n >= tables {
				break
			}
			e := cache.Entry{Files: map[string][]byte{"object": randomBytes(uint64(next), 3<<10)}}
			if err := s.PutEntry(testKey(next), e); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("writes stalled with level 0 at %d tables", tables)
	}
	return next
}

func TestCacheRunsNoCompactorWhileQuiet(t *testing.T) {
	s := openStore(t, t.TempDir(), testOptions())
	require.NoError(t, s.PutEntry(testKey(1), cache.Entry{Stdout: []byte("x")}))
	compactors, _ := levels(t, s)
	assert.Zero(t, compactors, "an idle cache runs Badger's compactors")
	assert.False(t, s.settleCompaction(), "one entry needs no compaction")
}

func TestCacheCompactsLevelZeroThenGoesQuiet(t *testing.T) {
	o := testOptions()
	o.MemTableSize = 1 << 20
	o.FlushInterval = 10 * time.Millisecond
	s := openStore(t, t.TempDir(), o)
	n := fillLevelZero(t, s, 0, 3)
	require.Eventually(t, func() bool {
		compactors, levelZero := levels(t, s)
		return compactors == 0 && levelZero < 3 && s.compactions.Load() > 0
	}, 30*time.Second, 5*time.Millisecond, "level 0 not compacted, or the compactors still run")
	for _, i := range []int{0, n / 2, n - 1} {
		_, err := s.GetEntry(testKey(i))
		require.NoError(t, err, "entry %d", i)
	}
}

func TestCacheQuietWritesDoNotStall(t *testing.T) {
	o := testOptions()
	o.MemTableSize = 1 << 20
	s, err := Open(t.TempDir(), o) // FlushInterval an hour: no check runs
	require.NoError(t, err)
	n := fillLevelZero(t, s, 0, badgerquiet.L0Stall+2)
	t.Cleanup(func() { _ = s.Close() })

	require.True(t, s.settleCompaction())
	require.Eventually(t, func() bool { return !s.settleCompaction() }, 30*time.Second, 10*time.Millisecond)
	_, levelZero := levels(t, s)
	assert.Less(t, levelZero, 3)
	_, err = s.GetEntry(testKey(n - 1))
	require.NoError(t, err)
}
