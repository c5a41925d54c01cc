package server

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testClock is a clock that moves one second per reading.
type testClock struct{ t atomic.Int64 }

func (c *testClock) now() time.Time { return time.Unix(1_700_000_000+c.t.Add(1), 0) }

// openTestStore opens a store in a fresh directory (or dir), closed at cleanup.
func openTestStore(t *testing.T, dir string, opts StoreOptions) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if opts.now == nil {
		opts.now = (&testClock{}).now
	}
	s, err := OpenStore(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// key returns a distinct key for i.
func key(i int) [32]byte {
	var k [32]byte
	copy(k[:], fmt.Sprintf("key-%d", i))
	return k
}

func TestStoreSharedEntries(t *testing.T) {
	s := openTestStore(t, "", StoreOptions{})
	_, ok, err := s.Get("p", key(1))
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, s.Put("p", key(1), []byte("entry one")))
	got, ok, err := s.Get("p", key(1))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "entry one", string(got))

	// Projects are separate namespaces, and "a" is not a prefix of "ab".
	for _, p := range []string{"", "P", "pp"} {
		_, ok, err = s.Get(p, key(1))
		require.NoError(t, err)
		assert.False(t, ok, "project %q", p)
	}
	// Replacing keeps one item.
	require.NoError(t, s.Put("p", key(1), []byte("entry two")))
	got, _, _ = s.Get("p", key(1))
	assert.Equal(t, "entry two", string(got))
	_, items := s.Usage()
	assert.Equal(t, int64(1), items)
}

func TestStoreResults(t *testing.T) {
	s := openTestStore(t, "", StoreOptions{})
	obj := bytes.Repeat([]byte("object code "), 10000)
	res := &protocol.CompileResult{Stdout: []byte("out"), Stderr: []byte("warning: x"), Object: obj}
	require.NoError(t, s.PutResult("proj", key(7), res))
	got, ok, err := s.GetResult("proj", key(7))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, res.Stdout, got.Stdout)
	assert.Equal(t, res.Stderr, got.Stderr)
	assert.Equal(t, obj, got.Object)
	bytesUsed, _ := s.Usage()
	assert.Less(t, bytesUsed, int64(len(obj)/4), "results are compressed")

	// Results and shared entries with the same key are different items.
	_, ok, _ = s.Get("proj", key(7))
	assert.False(t, ok)

	err = s.PutResult("proj", key(8), &protocol.CompileResult{ExitCode: 1, Stderr: []byte("error")})
	assert.Error(t, err, "failed compiles are not stored")
	_, ok, _ = s.GetResult("proj", key(8))
	assert.False(t, ok)
}

func TestStoreCleanOneProject(t *testing.T) {
	s := openTestStore(t, "", StoreOptions{})
	for i := range 5 {
		require.NoError(t, s.Put("a", key(i), []byte("shared a")))
		require.NoError(t, s.Put("b", key(i), []byte("shared b")))
	}
	require.NoError(t, s.PutResult("a", key(100), &protocol.CompileResult{Object: []byte("obj a")}))
	require.NoError(t, s.PutResult("ab", key(100), &protocol.CompileResult{Object: []byte("obj ab")}))
	bytesBefore, items := s.Usage()
	assert.Equal(t, int64(12), items)

	n, err := s.Clean("a")
	require.NoError(t, err)
	assert.Equal(t, int64(6), n, "both kinds go")
	for i := range 5 {
		_, ok, _ := s.Get("a", key(i))
		assert.False(t, ok)
		got, ok, _ := s.Get("b", key(i))
		assert.True(t, ok)
		assert.Equal(t, "shared b", string(got))
	}
	_, ok, _ := s.GetResult("a", key(100))
	assert.False(t, ok)
	_, ok, _ = s.GetResult("ab", key(100))
	assert.True(t, ok, `cleaning "a" leaves "ab"`)
	bytesAfter, items := s.Usage()
	assert.Equal(t, int64(6), items)
	assert.Less(t, bytesAfter, bytesBefore)

	n, err = s.Clean("a")
	require.NoError(t, err)
	assert.Equal(t, int64(0), n)
	n, err = s.Clean("nothing-here")
	require.NoError(t, err)
	assert.Equal(t, int64(0), n)
}

func TestStoreEvictsLeastRecentlyUsed(t *testing.T) {
	const entry = 8 << 10
	s := openTestStore(t, "", StoreOptions{MaxSize: 64 << 10, TouchInterval: time.Millisecond, CheckInterval: 10 * time.Millisecond})
	value := bytes.Repeat([]byte{'v'}, entry)
	for i := range 5 {
		require.NoError(t, s.Put("", key(i), value))
	}
	// Use the first entry: it becomes the most recently used.
	_, ok, err := s.Get("", key(0))
	require.NoError(t, err)
	require.True(t, ok)
	// Three more put usage over the limit by less than one entry.
	for i := 5; i < 8; i++ {
		require.NoError(t, s.Put("", key(i), value))
	}
	require.Eventually(t, func() bool { b, _ := s.Usage(); return b <= 64<<10 }, 10*time.Second, 10*time.Millisecond)
	assert.Positive(t, s.Evicted())
	present := func(i int) bool { _, ok, _ := s.Get("", key(i)); return ok }
	assert.True(t, present(0), "the recently used entry stays")
	assert.False(t, present(1), "the least recently used entry goes")
	for i := 2; i < 8; i++ {
		assert.True(t, present(i), "entry %d stays", i)
	}
}

func TestStoreSizeLimits(t *testing.T) {
	s := openTestStore(t, "", StoreOptions{MaxSize: 1 << 20, MaxEntrySize: 256 << 10})
	err := s.Put("", key(1), make([]byte, 300<<10))
	assert.ErrorIs(t, err, ErrTooLarge)
	// Over half the cache: not stored either.
	s2 := openTestStore(t, "", StoreOptions{MaxSize: 100 << 10})
	err = s2.Put("", key(1), make([]byte, 60<<10))
	assert.ErrorIs(t, err, ErrTooLarge)
	_, items := s2.Usage()
	assert.Zero(t, items)
}

func TestStoreDamagedValueIsAMiss(t *testing.T) {
	s := openTestStore(t, "", StoreOptions{})
	require.NoError(t, s.Put("p", key(1), []byte("good entry")))
	require.NoError(t, s.PutResult("p", key(2), &protocol.CompileResult{Object: []byte("object")}))
	// Flip a byte of each stored value.
	for _, k := range [][]byte{itemKey(prefixData, "p", kindShared, key(1)), itemKey(prefixData, "p", kindResult, key(2))} {
		require.NoError(t, s.db.Update(func(txn *badger.Txn) error {
			item, err := txn.Get(k)
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			v[len(v)-1] ^= 0xff
			return txn.Set(k, v)
		}))
	}
	_, ok, err := s.Get("p", key(1))
	require.NoError(t, err)
	assert.False(t, ok)
	_, ok, err = s.GetResult("p", key(2))
	require.NoError(t, err)
	assert.False(t, ok)
	_, items := s.Usage()
	assert.Zero(t, items, "damaged items are removed")
}

func TestStoreReopenKeepsEntriesAndUsage(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, StoreOptions{})
	require.NoError(t, err)
	require.NoError(t, s.Put("p", key(1), []byte("kept")))
	b1, n1 := s.Usage()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	_, _, err = s.Get("p", key(1))
	assert.ErrorIs(t, err, ErrClosed)

	s = openTestStore(t, dir, StoreOptions{})
	got, ok, err := s.Get("p", key(1))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "kept", string(got))
	b2, n2 := s.Usage()
	assert.Equal(t, b1, b2)
	assert.Equal(t, n1, n2)
}

func TestStoreSecondOpenerFails(t *testing.T) {
	dir := t.TempDir()
	openTestStore(t, dir, StoreOptions{})
	_, err := OpenStore(dir, StoreOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Base(dir))
}

func TestStoreConcurrentUse(t *testing.T) {
	s := openTestStore(t, "", StoreOptions{MaxSize: 256 << 10, CheckInterval: 5 * time.Millisecond, TouchInterval: time.Millisecond})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := key(w*1000 + i%10)
				_ = s.Put(fmt.Sprintf("p%d", w%3), k, bytes.Repeat([]byte{byte(i)}, 4<<10))
				_, _, _ = s.Get(fmt.Sprintf("p%d", w%3), k)
				if i%20 == 0 {
					_, _ = s.Clean(fmt.Sprintf("p%d", (w+1)%3))
				}
			}
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool { b, _ := s.Usage(); return b <= 256<<10 }, 10*time.Second, 10*time.Millisecond)
}

func TestParseKeyAndProject(t *testing.T) {
	good := strings.Repeat("0123456789abcdef", 4)
	k, err := ParseKey(good)
	require.NoError(t, err)
	assert.Equal(t, byte(0x01), k[0])
	for _, bad := range []string{"", strings.Repeat("A", 64), good[:63], good + "0", "../" + good[3:], strings.Repeat("g", 64)} {
		_, err := ParseKey(bad)
		var ref *Refusal
		require.True(t, errors.As(err, &ref), "%q", bad)
		assert.Equal(t, protocol.CodeMalformed, ref.Code)
	}
	for _, p := range []string{"", "zlib", "my-project_1.2", strings.Repeat("p", 128)} {
		assert.NoError(t, CheckProject(p), "%q", p)
	}
	for _, p := range []string{"../x", "a/b", "a b", strings.Repeat("p", 129), "x\x00", "é"} {
		assert.Error(t, CheckProject(p), "%q", p)
	}
}

func TestValueCodec(t *testing.T) {
	for _, payload := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte("compressible "), 1000)} {
		for _, compress := range []bool{false, true} {
			v := encodeValue(payload, compress)
			got, err := decodeValue(v, 1<<20)
			require.NoError(t, err)
			assert.Equal(t, len(payload), len(got))
			assert.True(t, bytes.Equal(payload, got))
		}
	}
	v := encodeValue(bytes.Repeat([]byte("x"), 5000), true)
	_, err := decodeValue(v, 100)
	assert.ErrorIs(t, err, errDamaged, "a decoded length over the limit allocates nothing")
	for _, bad := range [][]byte{nil, {1}, {2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 9, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 0, 0, 0, 5}} {
		_, err := decodeValue(bad, 1<<20)
		assert.ErrorIs(t, err, errDamaged, "%v", bad)
	}
	_, err = decodeResult([]byte{0xff})
	assert.ErrorIs(t, err, errDamaged)
}
