package server

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sleepyOptions close the database after 50 ms idle, checked every 10 ms.
func sleepyOptions() StoreOptions {
	return StoreOptions{IdleClose: 50 * time.Millisecond, CheckInterval: 10 * time.Millisecond}
}

func TestStoreClosesWhileIdleAndOpensAgain(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, sleepyOptions())
	require.NoError(t, s.Put("p", key(1), []byte("entry one")))
	bytes, items := s.Usage()

	require.Eventually(t, s.sleeping, 20*time.Second, 5*time.Millisecond,
		"the database stays open with nothing to do")
	got, ok, err := s.Get("p", key(1))
	require.NoError(t, err)
	require.True(t, ok, "an entry written before the pause is there after it")
	assert.Equal(t, int64(1), s.reopened.Load())
	assert.Equal(t, "entry one", string(got))
	gotBytes, gotItems := s.Usage()
	assert.Equal(t, bytes, gotBytes)
	assert.Equal(t, items, gotItems)

	// Writes after the pause land too, and survive a restart.
	require.Eventually(t, s.sleeping, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Put("p", key(2), []byte("entry two")))
	require.NoError(t, s.Close())
	again := openTestStore(t, dir, StoreOptions{})
	got, ok, err = again.Get("p", key(2))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "entry two", string(got))
	_, items = again.Usage()
	assert.Equal(t, int64(2), items)
}

func TestStoreStaysOpenWhileUsed(t *testing.T) {
	opts := sleepyOptions()
	opts.IdleClose = 500 * time.Millisecond
	s := openTestStore(t, "", opts)
	for i, start := 0, time.Now(); time.Since(start) < 3*opts.IdleClose; i++ {
		require.NoError(t, s.Put("p", key(i), []byte("entry")))
		time.Sleep(20 * time.Millisecond)
	}
	assert.Zero(t, s.reopened.Load(), "closed while in use")
}

func TestStoreDirectoryStaysLockedWhileIdle(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, sleepyOptions())
	require.Eventually(t, s.sleeping, 20*time.Second, 5*time.Millisecond)

	_, err := OpenStore(dir, StoreOptions{})
	require.ErrorIs(t, err, ErrStoreInUse, "a second server opened the cache of one that sleeps")
	// The server start does not set the cache of another process aside.
	_, err = openOrStartOver(dir, StoreOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.ErrorIs(t, err, ErrStoreInUse)
	_, ok, err := s.Get("p", key(1))
	require.NoError(t, err, "the sleeping store opens again")
	assert.False(t, ok)
}
