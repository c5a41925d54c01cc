package remote

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote/remotetest"
)

// A host whose last report says other clients fill it gets no job until
// that report has aged; then one job goes there, and its reply brings the
// host's load again.
func TestOthersLoadFillsAHostUntilItAges(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 2})
	a.SetOthers(2)
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Slots: 2, Gate: gate})
	clock := newFakeClock()
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 2), hostOf(b.Addr, 2)}, Options{Now: clock.Now})
	ctx := context.Background()
	for i := range 2 {
		go p.Compile(ctx, gccKey, job("held"))
		waitFor(t, "a job in flight on b", func() bool { return inFlight(p)[b.Addr] == i+1 })
	}
	assert.Zero(t, inFlight(p)[a.Addr], "a is full of other clients' jobs")
	_, _, err := p.Compile(ctx, gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost, "b full of this pool's jobs, a of others'")

	clock.Advance(defaultLoadSpan / 4)
	_, _, err = p.Compile(ctx, gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost, "a quarter aged: half a slot of a counts as free, less than a whole one")

	clock.Advance(defaultLoadSpan / 4)
	a.SetOthers(1)
	_, host, err := p.Compile(ctx, gccKey, job("x"))
	require.NoError(t, err)
	assert.Equal(t, a.Addr, host, "the report aged: a is tried again")
	_, _, err = p.Compile(ctx, gccKey, job("x"))
	require.NoError(t, err, "its reply said one slot of two is free")
	assert.Equal(t, 2, a.Compiles())
}

// A job that finds every host busy waits for a host slot when no local
// slot is free either, and gets the first host slot that frees.
func TestCompileOrWaitsForAHostSlot(t *testing.T) {
	gate := make(chan struct{})
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1, Gate: gate})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1)}, Options{})
	ctx := context.Background()
	held := make(chan error, 1)
	go func() { _, _, err := p.Compile(ctx, gccKey, job("held")); held <- err }()
	waitFor(t, "a job in flight", func() bool { return inFlight(p)[a.Addr] == 1 })

	local := make(chan struct{}, 1)
	local <- struct{}{} // the only local slot is taken
	type outcome struct {
		host      string
		tookLocal bool
		err       error
	}
	done := make(chan outcome, 1)
	go func() {
		_, host, tookLocal, err := p.CompileOr(ctx, gccKey, job("waits"), local)
		done <- outcome{host, tookLocal, err}
	}()
	select {
	case o := <-done:
		t.Fatalf("returned while the host and the local slot were both taken: %+v", o)
	case <-time.After(200 * time.Millisecond):
	}
	close(gate)
	require.NoError(t, <-held)
	o := <-done
	require.NoError(t, o.err)
	assert.False(t, o.tookLocal)
	assert.Equal(t, a.Addr, o.host)
	assert.Len(t, local, 1, "the local slot is untouched")
	assert.Equal(t, 2, a.Compiles())
}

// A job waiting for a host takes a local slot when one frees first, and
// gives the host's slot up.
func TestCompileOrTakesALocalSlotFreedFirst(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1, Gate: gate})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1)}, Options{})
	ctx := context.Background()
	go p.Compile(ctx, gccKey, job("held"))
	waitFor(t, "a job in flight", func() bool { return inFlight(p)[a.Addr] == 1 })

	local := make(chan struct{}, 1)
	local <- struct{}{}
	done := make(chan error, 1)
	var tookLocal atomic.Bool
	go func() {
		_, _, took, err := p.CompileOr(ctx, gccKey, job("waits"), local)
		tookLocal.Store(took)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	<-local // the local compile ends
	err := <-done
	require.ErrorIs(t, err, ErrNoHost)
	assert.True(t, tookLocal.Load())
	assert.Len(t, local, 1, "the job holds the local slot")
	assert.Equal(t, map[string]int{a.Addr: 1}, inFlight(p), "no host slot counted for it")
	p.mu.Lock()
	assert.Empty(t, p.waiters)
	p.mu.Unlock()
}

// A waiting job whose context ends leaves the queue and holds nothing.
func TestCompileOrGivesUpWithItsContext(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1, Gate: gate})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1)}, Options{})
	go p.Compile(context.Background(), gccKey, job("held"))
	waitFor(t, "a job in flight", func() bool { return inFlight(p)[a.Addr] == 1 })
	local := make(chan struct{}, 1)
	local <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, took, err := p.CompileOr(ctx, gccKey, job("waits"), local)
	require.ErrorIs(t, err, ErrNoHost)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, took)
	assert.Equal(t, map[string]int{a.Addr: 1}, inFlight(p))
	p.mu.Lock()
	assert.Empty(t, p.waiters)
	p.mu.Unlock()
}

// A host that answers "busy" knew better than this pool: the job waits
// for a slot again instead of compiling here, and goes once the busy
// host's report has aged.
func TestCompileOrWaitsAgainAfterBusy(t *testing.T) {
	var calls atomic.Int32
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 2, Compile: func(_ context.Context, r *protocol.CompileRequest) protocol.Message {
		if calls.Add(1) == 1 {
			return &protocol.Error{Code: protocol.CodeBusy, Message: "full"}
		}
		return &protocol.CompileResult{Object: r.Preprocessed}
	}})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 2)}, Options{})
	local := make(chan struct{}, 1)
	local <- struct{}{}
	start := time.Now()
	res, host, took, err := p.CompileOr(context.Background(), gccKey, job("x"), local)
	require.NoError(t, err)
	assert.False(t, took)
	assert.Equal(t, a.Addr, host)
	assert.Equal(t, "x", string(res.Object))
	assert.Equal(t, int32(2), calls.Load())
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, int64(1), p.Status()[0].Busy)
}
