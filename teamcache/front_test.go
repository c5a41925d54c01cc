package teamcache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/filestore"
)

const k1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// stall is a backend that answers nothing until the request's context ends.
type stall struct{ gets int }

func (s *stall) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s.gets++
	<-ctx.Done()
	return nil, false, ctx.Err()
}

func (s *stall) Put(ctx context.Context, key string, entry []byte) error {
	<-ctx.Done()
	return ctx.Err()
}

// broken is a backend that fails at once.
type broken struct{ gets int }

func (b *broken) Get(context.Context, string) ([]byte, bool, error) {
	b.gets++
	return nil, false, errors.New("connection refused")
}

func (b *broken) Put(context.Context, string, []byte) error { return errors.New("connection refused") }

// clock is a clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func dirStore(t *testing.T) *filestore.Store {
	s, err := filestore.New(t.TempDir())
	require.NoError(t, err)
	return s
}

func TestFrontSlowAndDeadBackendsCostTheirTimeoutOnce(t *testing.T) {
	slow, dead, good := &stall{}, &broken{}, dirStore(t)
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	f := teamcache.NewFront([]teamcache.Named{
		{Name: "slow", Backend: slow, Timeout: 50 * time.Millisecond},
		{Name: "dead", Backend: dead},
		{Name: "dir", Backend: good},
	}, teamcache.Options{Now: c.Now})
	defer f.Close()
	require.NoError(t, good.Put(context.Background(), k1, teamcache.Seal(k1, []byte("payload"), nil)))

	start := time.Now()
	got, ok := f.Get(context.Background(), k1)
	took := time.Since(start)
	require.True(t, ok, "served by the backend that works")
	assert.Equal(t, "payload", string(got))
	assert.Less(t, took, 500*time.Millisecond, "the slow backend cost its timeout, no more")

	// Both failing backends are backed off: the next lookup skips them.
	start = time.Now()
	_, ok = f.Get(context.Background(), k1)
	require.True(t, ok)
	assert.Less(t, time.Since(start), 30*time.Millisecond, "a backed-off backend is not asked")
	assert.Equal(t, 1, slow.gets)
	assert.Equal(t, 1, dead.gets)
	c.add(teamcache.DefaultMinBackoff)
	f.Get(context.Background(), k1)
	assert.Equal(t, 2, slow.gets, "asked again after its backoff")
	assert.Equal(t, 2, dead.gets, "asked again after its backoff")

	st := f.Stats()
	assert.Equal(t, int64(2), st[0].Timeouts)
	assert.Equal(t, int64(2), st[1].Errors)
	assert.Equal(t, int64(3), st[2].Hits)
}

func TestFrontRefusesForgedEntries(t *testing.T) {
	dir := dirStore(t)
	team := []byte("team key")
	f := teamcache.NewFront([]teamcache.Named{{Name: "dir", Backend: dir}}, teamcache.Options{TeamKey: team})
	defer f.Close()
	// A writer with access to the storage but not the key.
	require.NoError(t, dir.Put(context.Background(), k1, teamcache.Seal(k1, []byte("trojan"), nil)))
	_, ok := f.Get(context.Background(), k1)
	assert.False(t, ok, "an unsigned entry is not served")
	require.NoError(t, dir.Put(context.Background(), k1, []byte("garbage")))
	_, ok = f.Get(context.Background(), k1)
	assert.False(t, ok, "a damaged entry is not served")
	assert.Equal(t, int64(2), f.Stats()[0].Refused)

	f.Put(k1, []byte("genuine"))
	f.Close()
	got, ok := f.Get(context.Background(), k1)
	require.True(t, ok)
	assert.Equal(t, "genuine", string(got))
}

func TestFrontWritesAreBoundedAndSkipReadOnly(t *testing.T) {
	slow := &stall{}
	ro := dirStore(t)
	f := teamcache.NewFront([]teamcache.Named{
		{Name: "slow", Backend: slow, Timeout: time.Second},
		{Name: "ro", Backend: ro, ReadOnly: true},
	}, teamcache.Options{WriteQueue: 2})
	start := time.Now()
	for range 10 {
		f.Put(k1, []byte("x"))
	}
	assert.Less(t, time.Since(start), 100*time.Millisecond, "a put never waits for the storage")
	st := f.Stats()
	assert.GreaterOrEqual(t, st[0].Dropped, int64(7), "past the queue, writes are dropped")
	assert.Zero(t, st[1].Dropped, "a read-only backend is not written, nor counted")
	f.Close()
	_, found, err := ro.Get(context.Background(), k1)
	require.NoError(t, err)
	assert.False(t, found, "nothing written to the read-only backend")
}
