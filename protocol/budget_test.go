package protocol

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBudget(t *testing.T) {
	b := NewBudget(100)
	ctx := context.Background()
	require.NoError(t, b.acquire(ctx, 60))
	require.ErrorIs(t, b.acquire(ctx, 101), ErrTooLarge, "more than the whole budget fails at once")

	// A request that does not fit waits for memory, and gives up with its
	// context.
	// The clock starts before the deadline is set, so that the wait
	// measured is never shorter than the context's.
	start := time.Now()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := b.acquire(short, 50)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	assert.Equal(t, int64(60), b.InUse())

	// Memory given back lets a waiting request in.
	got := make(chan error, 1)
	go func() { got <- b.acquire(ctx, 50) }()
	select {
	case err := <-got:
		t.Fatalf("acquired before the memory was given back: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	b.release(60)
	require.NoError(t, <-got)
	assert.Equal(t, int64(50), b.InUse())
	b.release(50)
	assert.Zero(t, b.InUse())
}
