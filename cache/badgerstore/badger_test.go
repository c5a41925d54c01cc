package badgerstore

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/dcc-build/dcc/cache"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"
)

// fakeClock is a settable clock for access times.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// quietLogger drops everything below errors.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelError}))
}

func testOptions() Options {
	o := DefaultOptions()
	o.Logger = quietLogger()
	o.MemTableSize = 4 << 20
	o.FlushInterval = time.Hour
	o.GCInterval = time.Hour
	return o
}

func openStore(t testing.TB, dir string, opts Options) *BadgerStore {
	t.Helper()
	s, err := Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testKey(i int) cache.Key { return cache.Key(blake3.Sum256(fmt.Appendf(nil, "key %d", i))) }

// rawSet is the test hook that writes a raw value straight into Badger.
func rawSet(t *testing.T, s *BadgerStore, key, value []byte) {
	t.Helper()
	require.NoError(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }))
}

func rawGet(t *testing.T, s *BadgerStore, key []byte) []byte {
	t.Helper()
	var v []byte
	require.NoError(t, s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	}))
	return v
}

func rawDelete(t *testing.T, s *BadgerStore, key []byte) {
	t.Helper()
	require.NoError(t, s.db.Update(func(txn *badger.Txn) error { return txn.Delete(key) }))
}

// scanUsage recomputes the usage from the index, to check the counters.
func scanUsage(t *testing.T, s *BadgerStore) (bytes, entries, manifests int64) {
	t.Helper()
	fresh := &BadgerStore{db: s.db, log: quietLogger()}
	require.NoError(t, fresh.loadUsage())
	return fresh.bytes.Load(), fresh.entries.Load(), fresh.manifests.Load()
}

func assertUsageConsistent(t *testing.T, s *BadgerStore) {
	t.Helper()
	b, e, m := scanUsage(t, s)
	gotB, gotE := s.Usage()
	assert.Equal(t, b, gotB, "bytes")
	assert.Equal(t, e, gotE, "entries")
	assert.Equal(t, m, s.Manifests(), "manifests")
}

func TestEntryRoundTrip(t *testing.T) {
	s := openStore(t, t.TempDir(), testOptions())
	for i, tc := range entryCases() {
		t.Run(tc.name, func(t *testing.T) {
			k := testKey(i)
			require.NoError(t, s.PutEntry(k, tc.e))
			got, err := s.GetEntry(k)
			require.NoError(t, err)
			assertEntryEqual(t, tc.e, got)
		})
	}
	_, entries := s.Usage()
	assert.Equal(t, int64(len(entryCases())), entries)
	assertUsageConsistent(t, s)
}

func TestPutEntryReplaces(t *testing.T) {
	s := openStore(t, t.TempDir(), testOptions())
	k := testKey(1)
	require.NoError(t, s.PutEntry(k, cache.Entry{Stdout: []byte("old"), Files: map[string][]byte{"object": randomBytes(1, 10000)}}))
	require.NoError(t, s.PutEntry(k, cache.Entry{Stdout: []byte("new")}))
	got, err := s.GetEntry(k)
	require.NoError(t, err)
	assert.Equal(t, []byte("new"), got.Stdout)
	assert.Empty(t, got.Files)
	bytes, entries := s.Usage()
	assert.Equal(t, int64(1), entries)
	assert.Less(t, bytes, int64(1000))
	assertUsageConsistent(t, s)
}

func TestGetMissing(t *testing.T) {
	s := openStore(t, t.TempDir(), testOptions())
	_, err := s.GetEntry(testKey(1))
	assert.ErrorIs(t, err, cache.ErrNotFound)
	_, err = s.GetManifest(testKey(1))
	assert.ErrorIs(t, err, cache.ErrNotFound)
	require.NoError(t, s.PutEntry(testKey(1), cache.Entry{}))
	_, err = s.GetManifest(testKey(1))
	assert.ErrorIs(t, err, cache.ErrNotFound, "entries and manifests have separate namespaces")
}

func TestManifestResults(t *testing.T) {
	opts := testOptions()
	opts.MaxManifestResults = 3
	s := openStore(t, t.TempDir(), opts)
	k := testKey(1)
	res := func(id byte, digest byte, absent ...string) cache.ManifestResult {
		return cache.ManifestResult{
			Files: []cache.FileDigest{
				{Path: "/usr/include/stdio.h", Digest: cache.Digest{1}},
				{Path: "a.h", Digest: cache.Digest{digest}},
			},
			Absent: absent,
			Result: cache.Key{id},
		}
	}
	results := func() []byte {
		m, err := s.GetManifest(k)
		require.NoError(t, err)
		var ids []byte
		for _, r := range m.Results {
			ids = append(ids, r.Result[0])
		}
		return ids
	}
	require.NoError(t, s.AddManifestResult(k, res(1, 10)))
	m, err := s.GetManifest(k)
	require.NoError(t, err)
	assert.Equal(t, cache.Manifest{Results: []cache.ManifestResult{res(1, 10)}}, m)

	steps := []struct {
		name string
		add  cache.ManifestResult
		want []byte
	}{
		{"newest first", res(2, 20), []byte{2, 1}},
		{"absent paths distinguish", res(3, 20, "b.h"), []byte{3, 2, 1}},
		{"same inputs replace", res(4, 10), []byte{4, 3, 2}},
		{"bounded", res(5, 50), []byte{5, 4, 3}},
		{"file order does not matter", cache.ManifestResult{
			Files:  []cache.FileDigest{{Path: "a.h", Digest: cache.Digest{20}}, {Path: "/usr/include/stdio.h", Digest: cache.Digest{1}}},
			Absent: []string{"b.h"},
			Result: cache.Key{6},
		}, []byte{6, 5, 4}},
	}
	for _, st := range steps {
		require.NoError(t, s.AddManifestResult(k, st.add), st.name)
		assert.Equal(t, st.want, results(), st.name)
	}
	assert.Equal(t, int64(1), s.Manifests())
	_, entries := s.Usage()
	assert.Zero(t, entries, "manifests are not entries")
	assertUsageConsistent(t, s)
}

// corruption is one way a stored item can be damaged, applied through the
// raw Badger hook.
type corruption struct {
	name   string
	damage func(t *testing.T, s *BadgerStore, kind byte, k cache.Key)
	// uncounted: the damage removes what the usage counters know of the
	// item, so they are right again only after reopening.
	uncounted bool
}

func corruptions() []corruption {
	mutate := func(f func(v []byte) []byte) func(*testing.T, *BadgerStore, byte, cache.Key) {
		return func(t *testing.T, s *BadgerStore, kind byte, k cache.Key) {
			dk := dataKey(kind, k)
			rawSet(t, s, dk, f(rawGet(t, s, dk)))
		}
	}
	return []corruption{
		{name: "flipped payload byte", damage: mutate(func(v []byte) []byte { v[len(v)-3] ^= 0x10; return v })},
		{name: "flipped checksum byte", damage: mutate(func(v []byte) []byte { v[6] ^= 0x01; return v })},
		{name: "truncated", damage: mutate(func(v []byte) []byte { return v[:len(v)/2] })},
		{name: "empty", damage: mutate(func([]byte) []byte { return []byte{} })},
		{name: "unknown version", damage: mutate(func(v []byte) []byte { v[0] = 9; return v })},
		{name: "other kind", damage: mutate(func(v []byte) []byte {
			if v[1] == kindEntry {
				v[1] = kindManifest
			} else {
				v[1] = kindEntry
			}
			return v
		})},
		{name: "damaged index record", damage: func(t *testing.T, s *BadgerStore, kind byte, k cache.Key) {
			rawSet(t, s, indexKey(kind, k), []byte{7, 7, 7})
		}},
		{name: "missing index record", uncounted: true, damage: func(t *testing.T, s *BadgerStore, kind byte, k cache.Key) {
			rawDelete(t, s, indexKey(kind, k))
		}},
	}
}

func TestCorruptEntryIsRemovedAndCounted(t *testing.T) {
	good := cache.Entry{Files: map[string][]byte{"object": textBytes(9000), "deps": []byte("a.o: a.c\n")}, Stderr: []byte("w\n")}
	for _, c := range corruptions() {
		for _, kind := range []byte{kindEntry, kindManifest} {
			t.Run(c.name+" "+kindName(kind), func(t *testing.T) {
				dir := t.TempDir()
				s := openStore(t, dir, testOptions())
				k, other := testKey(1), testKey(2)
				get := func(k cache.Key) (cache.Entry, error) { return s.GetEntry(k) }
				if kind == kindEntry {
					require.NoError(t, s.PutEntry(k, good))
					require.NoError(t, s.PutEntry(other, good))
				} else {
					require.NoError(t, s.AddManifestResult(k, sampleManifest().Results[0]))
					require.NoError(t, s.AddManifestResult(other, sampleManifest().Results[0]))
					get = func(k cache.Key) (cache.Entry, error) { _, err := s.GetManifest(k); return cache.Entry{}, err }
				}
				c.damage(t, s, kind, k)

				got, err := get(k)
				require.ErrorIs(t, err, cache.ErrCorrupt)
				assert.Empty(t, got.Files, "no entry with the error")
				assert.Equal(t, int64(1), s.Corrupt())
				_, err = get(k)
				assert.ErrorIs(t, err, cache.ErrNotFound, "the damaged item was removed")
				_, err = get(other)
				assert.NoError(t, err, "the other item is intact")
				want := itemSizeOf(t, s, kind, other)
				if !c.uncounted {
					assertUsageConsistent(t, s)
					b, _ := s.Usage()
					assert.Equal(t, want, b, "only the intact item is counted")
				}
				require.NoError(t, s.Close())
				s = openStore(t, dir, testOptions())
				b, _ := s.Usage()
				assert.Equal(t, want, b, "only the intact item is counted after reopening")
				_, err = get(k)
				assert.ErrorIs(t, err, cache.ErrNotFound)
			})
		}
	}
}

func itemSizeOf(t *testing.T, s *BadgerStore, kind byte, k cache.Key) int64 {
	return itemSize(len(rawGet(t, s, dataKey(kind, k))))
}

func TestDamagedManifestIsReplacedOnAdd(t *testing.T) {
	s := openStore(t, t.TempDir(), testOptions())
	k := testKey(1)
	require.NoError(t, s.AddManifestResult(k, cache.ManifestResult{Result: cache.Key{1}}))
	rawSet(t, s, dataKey(kindManifest, k), []byte("garbage"))
	require.NoError(t, s.AddManifestResult(k, cache.ManifestResult{Result: cache.Key{2}}))
	m, err := s.GetManifest(k)
	require.NoError(t, err)
	assert.Equal(t, cache.Manifest{Results: []cache.ManifestResult{{Result: cache.Key{2}}}}, m)
	assert.Equal(t, int64(1), s.Corrupt())
	assertUsageConsistent(t, s)
}

func TestTooLarge(t *testing.T) {
	opts := testOptions()
	opts.MaxValueSize = 64 << 10
	opts.MaxEntrySize = 256 << 10
	s := openStore(t, t.TempDir(), opts)
	paths := make([]cache.FileDigest, 5000)
	for i := range paths {
		paths[i] = cache.FileDigest{Path: fmt.Sprintf("/usr/include/header-%d.h", i), Digest: cache.Digest(blake3.Sum256([]byte{byte(i)}))}
	}
	tests := []struct {
		name string
		put  func() error
	}{
		{"over MaxEntrySize", func() error {
			return s.PutEntry(testKey(1), cache.Entry{Files: map[string][]byte{"object": textBytes(300 << 10)}})
		}},
		{"over MaxValueSize once encoded", func() error {
			return s.PutEntry(testKey(2), cache.Entry{Files: map[string][]byte{"object": randomBytes(1, 100<<10)}})
		}},
		{"manifest over MaxValueSize", func() error {
			return s.AddManifestResult(testKey(3), cache.ManifestResult{Files: paths})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.put()
			require.ErrorIs(t, err, cache.ErrTooLarge)
			assert.Less(t, len(err.Error()), 300, "no dump of the value in the error")
		})
	}
	b, entries := s.Usage()
	assert.Zero(t, b)
	assert.Zero(t, entries)
	assert.Zero(t, s.Manifests())
	require.NoError(t, s.PutEntry(testKey(4), cache.Entry{Files: map[string][]byte{"object": textBytes(200 << 10)}}),
		"compressible data under MaxEntrySize fits")
}

func TestReopenKeepsDataUsageAndAccessTimes(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	opts := testOptions()
	opts.now = clock.Now
	s, err := Open(dir, opts)
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, s.PutEntry(testKey(i), cache.Entry{Files: map[string][]byte{"object": randomBytes(uint64(i), 1000*i)}}))
	}
	require.NoError(t, s.AddManifestResult(testKey(100), sampleManifest().Results[0]))
	bytes, entries := s.Usage()
	clock.Advance(time.Hour)
	_, err = s.GetEntry(testKey(3)) // its access time is written on Close
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")

	s = openStore(t, dir, opts)
	b2, e2 := s.Usage()
	assert.Equal(t, bytes, b2)
	assert.Equal(t, entries, e2)
	assert.Equal(t, int64(1), s.Manifests())
	for i := range 20 {
		got, err := s.GetEntry(testKey(i))
		require.NoError(t, err)
		assert.Len(t, got.Files["object"], 1000*i)
	}
	var rec indexRecord
	require.NoError(t, s.db.View(func(txn *badger.Txn) error {
		var ok bool
		var err error
		rec, ok, err = s.readRecord(txn, indexKey(kindEntry, testKey(3)))
		assert.True(t, ok)
		return err
	}))
	assert.Equal(t, clock.Now().UnixMilli(), rec.access)
}

func TestClear(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testOptions())
	require.NoError(t, err)
	for i := range 50 {
		require.NoError(t, s.PutEntry(testKey(i), cache.Entry{Files: map[string][]byte{"object": randomBytes(uint64(i), 20000)}}))
		require.NoError(t, s.AddManifestResult(testKey(i), cache.ManifestResult{Result: testKey(i)}))
	}
	require.NoError(t, s.Clear())
	b, entries := s.Usage()
	assert.Zero(t, b)
	assert.Zero(t, entries)
	assert.Zero(t, s.Manifests())
	_, err = s.GetEntry(testKey(1))
	assert.ErrorIs(t, err, cache.ErrNotFound)
	_, err = s.GetManifest(testKey(1))
	assert.ErrorIs(t, err, cache.ErrNotFound)
	require.NoError(t, s.PutEntry(testKey(1), cache.Entry{Stdout: []byte("again")}))
	require.NoError(t, s.Close())

	s = openStore(t, dir, testOptions())
	_, entries = s.Usage()
	assert.Equal(t, int64(1), entries, "cleared entries stay gone after reopening")
	_, err = s.GetEntry(testKey(2))
	assert.ErrorIs(t, err, cache.ErrNotFound)
}

func TestClosed(t *testing.T) {
	s, err := Open(t.TempDir(), testOptions())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = s.GetEntry(testKey(1))
	assert.ErrorIs(t, err, cache.ErrClosed)
	assert.ErrorIs(t, s.PutEntry(testKey(1), cache.Entry{}), cache.ErrClosed)
	_, err = s.GetManifest(testKey(1))
	assert.ErrorIs(t, err, cache.ErrClosed)
	assert.ErrorIs(t, s.AddManifestResult(testKey(1), cache.ManifestResult{}), cache.ErrClosed)
	assert.ErrorIs(t, s.Clear(), cache.ErrClosed)
}

func TestOpenTwiceFails(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir, testOptions())
	_, err := Open(dir, testOptions())
	assert.Error(t, err, "one process (and one store) per directory")
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Options)
		ok     bool
	}{
		{"defaults", func(*Options) {}, true},
		{"zero means default", func(o *Options) { *o = Options{} }, true},
		{"negative size", func(o *Options) { o.MaxSize = -1 }, false},
		{"watermark above 1", func(o *Options) { o.LowWatermark = 1.5 }, false},
		{"value size too small", func(o *Options) { o.MaxValueSize = 10 }, false},
		{"value size too big", func(o *Options) { o.MaxValueSize = 2 << 30 }, false},
		{"entry size too small", func(o *Options) { o.MaxEntrySize = 10 }, false},
		{"discard ratio 1", func(o *Options) { o.GCDiscardRatio = 1 }, false},
		{"tiny memtable", func(o *Options) { o.MemTableSize = 1000 }, false},
		{"negative interval", func(o *Options) { o.GCInterval = -time.Second }, false},
		{"negative results", func(o *Options) { o.MaxManifestResults = -1 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.change(&o)
			err := o.Validate()
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
				_, oerr := Open(t.TempDir(), o)
				assert.Error(t, oerr, "Open validates")
			}
		})
	}
}

func TestBadgerOptions(t *testing.T) {
	o := DefaultOptions().withDefaults()
	b := o.badgerOptions("/x")
	assert.LessOrEqual(t, b.ValueThreshold, b.MemTableSize*15/100)
	assert.Greater(t, b.ValueLogFileSize, o.MaxValueSize)
	assert.Less(t, b.ValueLogFileSize, int64(2<<30))
	big := Options{MaxValueSize: maxMaxValueSize}.withDefaults()
	assert.Less(t, big.badgerOptions("/x").ValueLogFileSize, int64(2<<30))
	assert.Zero(t, b.BlockCacheSize)
}

func TestBadgerLoggerSanitizes(t *testing.T) {
	var buf bytes.Buffer
	l := newBadgerLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	l.Infof("chatty %d", 1)
	l.Debugf("chattier")
	assert.Empty(t, buf.String(), "info and debug stay below warning")
	l.Warningf("Value with size %d exceeded limit. Value:\n%s", 5, "00000000  de ad be ef")
	assert.Contains(t, buf.String(), "Value with size 5 exceeded limit")
	assert.NotContains(t, buf.String(), "de ad")
	l.Errorf("%s", bytes.Repeat([]byte("x"), 5000))
	assert.Less(t, buf.Len(), 1000)

	err := wrapBadger("put", fmt.Errorf("wrapped: %w\n00000000  de ad", badger.ErrConflict))
	assert.ErrorIs(t, err, badger.ErrConflict)
	assert.NotContains(t, err.Error(), "de ad")
}

// entryFor builds an entry whose parts all name its key and version, so a
// reader can tell a mix of two writes from a whole entry.
func entryFor(k cache.Key, version int) cache.Entry {
	tag := fmt.Appendf(nil, "%s/%d;", k, version)
	return cache.Entry{
		Files:  map[string][]byte{"object": bytes.Repeat(tag, 100+version%7*50), "deps": tag},
		Stdout: tag,
		Stderr: tag,
	}
}

func checkEntryFor(t *testing.T, k cache.Key, e cache.Entry) {
	tag := e.Stdout
	if !assert.True(t, bytes.HasPrefix(tag, []byte(k.String()+"/")), "entry for another key") {
		return
	}
	assert.Equal(t, tag, e.Stderr)
	assert.Equal(t, tag, e.Files["deps"])
	assert.Zero(t, len(e.Files["object"])%len(tag))
	assert.True(t, bytes.HasPrefix(e.Files["object"], tag))
	assert.Equal(t, e.Files["object"], bytes.Repeat(tag, len(e.Files["object"])/len(tag)))
}

func TestConcurrentPutGet(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxSize int64
	}{{"no eviction", 0}, {"evicting", 200 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.MaxSize = tc.maxSize
			opts.TouchInterval = time.Nanosecond
			opts.FlushInterval = 10 * time.Millisecond
			s := openStore(t, t.TempDir(), opts)
			const workers, ops, keys = 16, 300, 40
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range ops {
						k := testKey((w*7 + i) % keys)
						switch i % 4 {
						case 0:
							assert.NoError(t, s.PutEntry(k, entryFor(k, w*ops+i)))
						case 1:
							assert.NoError(t, s.AddManifestResult(k, cache.ManifestResult{
								Files:  []cache.FileDigest{{Path: fmt.Sprintf("h%d.h", i%5)}},
								Result: k,
							}))
						case 2:
							m, err := s.GetManifest(k)
							if err == nil {
								assert.LessOrEqual(t, len(m.Results), opts.withDefaults().MaxManifestResults)
							} else {
								assert.ErrorIs(t, err, cache.ErrNotFound)
							}
						default:
							e, err := s.GetEntry(k)
							if errors.Is(err, cache.ErrNotFound) {
								continue
							}
							if assert.NoError(t, err) {
								checkEntryFor(t, k, e)
							}
						}
					}
				})
			}
			wg.Wait()
			assert.Zero(t, s.Corrupt())
			assertUsageConsistent(t, s)
			if tc.maxSize > 0 {
				require.Eventually(t, func() bool {
					b, _ := s.Usage()
					return b <= tc.maxSize
				}, 10*time.Second, 10*time.Millisecond)
				assertUsageConsistent(t, s)
			}
		})
	}
}

// benchEntry is a result with an object file of the given size (three
// quarters text, one quarter random) and a 2 KiB .d file.
func benchEntry(size int) cache.Entry {
	obj := append(textBytes(size*3/4), randomBytes(9, size/4)...)
	return cache.Entry{Files: map[string][]byte{"object": obj, "deps": textBytes(2 << 10)}}
}

var benchSizes = []struct {
	name string
	size int
}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// latencies records per-operation times and reports their percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	slices.Sort(l)
	if len(l) == 0 {
		return
	}
	b.ReportMetric(float64(l[len(l)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(l[len(l)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkGetEntry(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			s := openStore(b, b.TempDir(), testOptions())
			keys := make([]cache.Key, 200)
			e := benchEntry(bs.size)
			for i := range keys {
				keys[i] = testKey(i)
				require.NoError(b, s.PutEntry(keys[i], e))
			}
			b.SetBytes(int64(bs.size + 2<<10))
			var lat latencies
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := s.GetEntry(keys[i%len(keys)]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			lat.report(b)
		})
	}
}

func BenchmarkPutEntry(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			s := openStore(b, b.TempDir(), testOptions())
			keys := make([]cache.Key, 10000)
			for i := range keys {
				keys[i] = testKey(i)
			}
			e := benchEntry(bs.size)
			b.SetBytes(int64(bs.size + 2<<10))
			var lat latencies
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if err := s.PutEntry(keys[i%len(keys)], e); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			lat.report(b)
		})
	}
}
