package badgerstore

import (
	"errors"
	"github.com/dcc-build/dcc/cache"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomEntry is an entry whose stored size depends only on n.
func randomEntry(seed uint64, n int) cache.Entry {
	return cache.Entry{Files: map[string][]byte{"object": randomBytes(seed, n)}}
}

// runMaintenance runs one round of the background work now.
func runMaintenance(t *testing.T, s *BadgerStore) {
	t.Helper()
	unlock, err := s.begin()
	require.NoError(t, err)
	defer unlock()
	require.NoError(t, s.flushTouches())
	_, err = s.evict()
	require.NoError(t, err)
}

func present(t *testing.T, s *BadgerStore, keys ...int) (in, out []int) {
	t.Helper()
	for _, i := range keys {
		_, err := s.GetEntry(testKey(i))
		switch {
		case err == nil:
			in = append(in, i)
		case errors.Is(err, cache.ErrNotFound):
			out = append(out, i)
		default:
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	return in, out
}

func TestEvictionLeastRecentlyUsedFirst(t *testing.T) {
	tests := []struct {
		name    string
		used    []int // read after all are written, in this order
		evicted []int
	}{
		{"unused: oldest written go first", nil, []int{0, 1, 2}},
		{"read entries are kept", []int{0, 1, 2, 3, 4}, []int{5, 6, 7}},
		{"order of reads counts", []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, []int{9, 8, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			opts := testOptions()
			opts.now = clock.Now
			const n = 10000
			v, err := encodeEntry(randomEntry(0, n), opts.withDefaults().MaxEntrySize)
			require.NoError(t, err)
			size := itemSize(len(v))
			// 12 items fit; the low watermark is 10.8 items, so the 13th
			// evicts three.
			opts.MaxSize = 12 * size
			s := openStore(t, t.TempDir(), opts)
			for i := range 10 {
				clock.Advance(time.Minute)
				require.NoError(t, s.PutEntry(testKey(i), randomEntry(uint64(i), n)))
			}
			for _, i := range tc.used {
				clock.Advance(2 * time.Minute)
				_, err := s.GetEntry(testKey(i))
				require.NoError(t, err)
			}
			for i := 10; i < 13; i++ {
				clock.Advance(time.Minute)
				require.NoError(t, s.PutEntry(testKey(i), randomEntry(uint64(i), n)))
			}
			runMaintenance(t, s)

			_, out := present(t, s, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
			assert.ElementsMatch(t, tc.evicted, out)
			assert.Equal(t, int64(len(tc.evicted)), s.Evicted())
			b, entries := s.Usage()
			assert.LessOrEqual(t, float64(b), float64(opts.MaxSize)*opts.withDefaults().LowWatermark)
			assert.Equal(t, int64(13-len(tc.evicted)), entries)
			assertUsageConsistent(t, s)
		})
	}
}

func TestEvictionKeepsStoreUnderLimit(t *testing.T) {
	tests := []struct {
		name string
		put  func(s *BadgerStore, i int) error
	}{
		{"entries", func(s *BadgerStore, i int) error {
			return s.PutEntry(testKey(i), randomEntry(uint64(i), 5000+i%7*1000))
		}},
		{"manifests", func(s *BadgerStore, i int) error {
			files := make([]cache.FileDigest, 100)
			for j := range files {
				files[j] = cache.FileDigest{Path: string(rune('a'+j%26)) + "/" + testKey(j).String(), Digest: cache.Digest(testKey(i + j))}
			}
			return s.AddManifestResult(testKey(i), cache.ManifestResult{Files: files, Result: testKey(i)})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.MaxSize = 256 << 10
			opts.FlushInterval = 20 * time.Millisecond
			s := openStore(t, t.TempDir(), opts)
			for i := range 300 {
				require.NoError(t, tc.put(s, i))
			}
			require.Eventually(t, func() bool {
				b, _ := s.Usage()
				return b <= opts.MaxSize
			}, 10*time.Second, 10*time.Millisecond, "background eviction")
			assert.Positive(t, s.Evicted())
			assertUsageConsistent(t, s)
			if tc.name == "entries" {
				_, err := s.GetEntry(testKey(299))
				assert.NoError(t, err, "the newest entry is kept")
			}
		})
	}
}

func TestEvictionKeepsItemsUsedDuringIt(t *testing.T) {
	clock := newFakeClock()
	opts := testOptions()
	opts.now = clock.Now
	s := openStore(t, t.TempDir(), opts)
	for i := range 5 {
		clock.Advance(time.Minute)
		require.NoError(t, s.PutEntry(testKey(i), randomEntry(uint64(i), 1000)))
	}
	b, _ := s.Usage()
	victims, err := s.oldest(b)
	require.NoError(t, err)
	require.Len(t, victims, 5)
	// cache.Entry 0 is used and entry 1 replaced after the scan chose them.
	clock.Advance(time.Hour)
	_, err = s.GetEntry(testKey(0))
	require.NoError(t, err)
	require.NoError(t, s.flushTouches())
	require.NoError(t, s.PutEntry(testKey(1), randomEntry(1, 2000)))

	removed, err := s.removeAll(victims)
	require.NoError(t, err)
	assert.Equal(t, 3, removed)
	in, _ := present(t, s, 0, 1, 2, 3, 4)
	assert.Equal(t, []int{0, 1}, in)
	assertUsageConsistent(t, s)
}

func TestOldestCoversExcessWithOldestItems(t *testing.T) {
	clock := newFakeClock()
	opts := testOptions()
	opts.now = clock.Now
	s := openStore(t, t.TempDir(), opts)
	// Written in an order unrelated to key order, with varied sizes.
	order := []int{7, 2, 9, 0, 5, 1, 8, 3, 6, 4}
	sizes := map[cache.Key]int64{}
	for _, i := range order {
		clock.Advance(time.Minute)
		require.NoError(t, s.PutEntry(testKey(i), randomEntry(uint64(i), 1000+i*300)))
		sizes[testKey(i)] = itemSizeOf(t, s, kindEntry, testKey(i))
	}
	tests := []struct {
		name   string
		excess int64
		want   int
	}{
		{"nothing", 0, 0},
		{"one byte", 1, 1},
		{"exactly the oldest", sizes[testKey(7)], 1},
		{"just over the oldest", sizes[testKey(7)] + 1, 2},
		{"three", sizes[testKey(7)] + sizes[testKey(2)] + sizes[testKey(9)], 3},
		{"everything", 1 << 40, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			victims, err := s.oldest(tc.excess)
			require.NoError(t, err)
			require.Len(t, victims, tc.want)
			var total int64
			for j, v := range victims {
				assert.Equal(t, testKey(order[j]), v.key, "victim %d", j)
				total += v.size
			}
			if tc.want < len(order) {
				assert.GreaterOrEqual(t, total, tc.excess)
			}
		})
	}
}

// vlogBytes is the size of the value-log files in dir.
func vlogBytes(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	require.NoError(t, err)
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		total += fi.Size()
	}
	return total
}

func TestValueLogGCReclaimsSpace(t *testing.T) {
	const n, count = 200 << 10, 150 // 30 MiB of incompressible values
	tests := []struct {
		name    string
		maxSize int64
		drop    func(t *testing.T, s *BadgerStore)
	}{
		{"after eviction", 6 << 20, func(t *testing.T, s *BadgerStore) {}},
		{"after clear", 1 << 30, func(t *testing.T, s *BadgerStore) { require.NoError(t, s.Clear()) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions()
			opts.MaxSize = tc.maxSize
			opts.MaxValueSize = 256 << 10
			s := openStore(t, dir, opts)
			for i := range count {
				require.NoError(t, s.PutEntry(testKey(i), randomEntry(uint64(i), n)))
			}
			tc.drop(t, s)
			unlock, err := s.begin()
			require.NoError(t, err)
			_, err = s.evict()
			require.NoError(t, err)
			s.collectGarbage()
			unlock()
			b, _ := s.Usage()
			assert.LessOrEqual(t, b, tc.maxSize)
			got := vlogBytes(t, dir)
			t.Logf("value log: %d MiB for %d MiB stored", got>>20, b>>20)
			written := int64(n * count)
			assert.Less(t, got, written/2, "GC gave back most of the space")
			if tc.maxSize < written {
				_, err := s.GetEntry(testKey(count - 1))
				assert.NoError(t, err, "recent entries survive GC")
			}
		})
	}
}

func TestGCWithoutDeletesIsHarmless(t *testing.T) {
	s := openStore(t, t.TempDir(), testOptions())
	require.NoError(t, s.PutEntry(testKey(1), randomEntry(1, 100<<10)))
	unlock, err := s.begin()
	require.NoError(t, err)
	s.collectGarbage()
	unlock()
	got, err := s.GetEntry(testKey(1))
	require.NoError(t, err)
	assert.Len(t, got.Files["object"], 100<<10)
	err = s.db.RunValueLogGC(0.5)
	assert.True(t, errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected), "%v", err)
}
