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
//
// Beside it, each stream a server accepts takes its receive window (what
// yamux may buffer for it unread) until the stream is closed, from a share
// of its own of half the budget (WindowShare): requests and windows never
// leave each other waiting, and the memory held is at most 1.5 times the
// budget.
type Budget struct {
	mu      sync.Mutex
	cond    *sync.Cond
	total   int64
	used    int64
	windows int64
}

// WindowShare is the size of a Budget's share for the windows of streams:
// one in WindowShare of the budget.
const WindowShare = 2

// NewBudget returns a Budget of total bytes.
func NewBudget(total int64) *Budget {
	b := &Budget{total: total}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// DefaultBudget is the memory a server's requests may hold at once: four
// requests of the largest size, decoded and on the wire (512 MiB).
const DefaultBudget = 4 * 2 * MaxMessageSize

// acquireWindow takes a stream's window of n bytes from the windows' share,
// waiting while it is full, until ctx ends. releaseWindow gives it back.
func (b *Budget) acquireWindow(ctx context.Context, n int64) error {
	return b.wait(ctx, func() bool { return b.windows+n <= max(b.total/WindowShare, n) },
		func() { b.windows += n })
}

// releaseWindow gives back a window taken by acquireWindow.
func (b *Budget) releaseWindow(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.windows -= n
	b.cond.Broadcast()
}

// acquire takes n bytes, waiting while they are in use by others, until ctx
// ends. It fails at once when n exceeds the whole budget.
func (b *Budget) acquire(ctx context.Context, n int64) error {
	if n > b.total {
		return fmt.Errorf("%w: a request of %d bytes, more than the server's budget of %d", ErrTooLarge, n, b.total)
	}
	return b.wait(ctx, func() bool { return b.used+n <= b.total }, func() { b.used += n })
}

// wait runs take once fits reports true, waiting until ctx ends.
func (b *Budget) wait(ctx context.Context, fits func() bool, take func()) error {
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.cond.Broadcast()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !fits() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("protocol: waiting for memory: %w", err)
		}
		b.cond.Wait()
	}
	take()
	return nil
}

// release gives back n bytes taken by acquire.
func (b *Budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.cond.Broadcast()
}

// InUse returns the bytes taken now by requests.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// WindowsInUse returns the bytes taken now by the windows of streams.
func (b *Budget) WindowsInUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.windows
}
