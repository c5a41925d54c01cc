package protocol

import (
	"context"
	"fmt"
	"sync"
)

// Budget bounds the memory that requests being read and answered may hold
// at once, across every session of a server: each request takes its
// declared size (decoded and on the wire) before its payload is read and
// gives it back when answered. A client sending many large requests at once
// (an lz4 frame can declare 255 times its size) then waits instead of
// exhausting the server. The zero value is not usable; see NewBudget.
type Budget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	total int64
	used  int64
}

// NewBudget returns a Budget of total bytes.
func NewBudget(total int64) *Budget {
	b := &Budget{total: total}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// DefaultBudget is the memory a server's requests may hold at once: four
// requests of the largest size, decoded and on the wire (512 MiB).
const DefaultBudget = 4 * 2 * MaxMessageSize

// acquire takes n bytes, waiting while they are in use by others, until ctx
// ends. It fails at once when n exceeds the whole budget.
func (b *Budget) acquire(ctx context.Context, n int64) error {
	if n > b.total {
		return fmt.Errorf("%w: a request of %d bytes, more than the server's budget of %d", ErrTooLarge, n, b.total)
	}
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.cond.Broadcast()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used+n > b.total {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("protocol: waiting for memory: %w", err)
		}
		b.cond.Wait()
	}
	b.used += n
	return nil
}

// release gives back n bytes taken by acquire.
func (b *Budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.cond.Broadcast()
}

// InUse returns the bytes taken now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
