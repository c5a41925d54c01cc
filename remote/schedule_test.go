package remote

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote/remotetest"
)

// fullOfOthers sets up a pool of two hosts of two slots: a full of other
// clients' jobs, b of this pool's (held until the test ends); it returns
// them and the pool, whose watches are bounded by watchLimit.
func fullOfOthers(t *testing.T, watchLimit int) (a, b *remotetest.Server, p *Pool) {
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	a = remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 2})
	a.SetOthers(2)
	b = remotetest.Start(t, "127.0.0.3", remotetest.Options{Slots: 2, Gate: gate})
	p = newTestPool(t, []config.Host{hostOf(a.Addr, 2), hostOf(b.Addr, 2)}, Options{})
	p.mu.Lock()
	p.watchLimit = watchLimit
	p.mu.Unlock()
	ctx := context.Background()
	for i := range 2 {
		go p.CompileOr(ctx, gccKey, job("held"), fullLocal())
		waitFor(t, "a job in flight on b", func() bool { return inFlight(p)[b.Addr] == i+1 })
	}
	assert.Zero(t, inFlight(p)[a.Addr], "a is full of other clients' jobs")
	_, _, err := p.Compile(ctx, gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost, "b full of this pool's jobs, a of others'")
	return a, b, p
}

// waitingJob starts a job that may compile here, with the only local slot
// taken; its host's address arrives on the returned channel ("" on error).
func waitingJob(t *testing.T, p *Pool) chan string {
	local := make(chan struct{}, 1)
	local <- struct{}{}
	done := make(chan string, 1)
	go func() {
		_, h, _, err := p.CompileOr(context.Background(), gccKey, job("waits"), local)
		assert.NoError(t, err)
		done <- h
	}()
	return done
}

// A host whose last report says other clients fill it gets no job. A job
// that waits for a slot has the pool watch that host (not b, full of the
// pool's own jobs), and goes there as soon as the host says a slot freed.
func TestWaitingJobsWatchFullHosts(t *testing.T) {
	a, b, p := fullOfOthers(t, maxWatches)
	done := waitingJob(t, p)
	waitFor(t, "a watched", func() bool { return a.Watches() >= 1 })
	select {
	case h := <-done:
		t.Fatalf("went to %q while a was still full", h)
	case <-time.After(100 * time.Millisecond):
	}
	assert.Zero(t, b.Watches(), "b is full of the pool's own jobs: their replies tell")
	a.SetOthers(1)
	start := time.Now()
	assert.Equal(t, a.Addr, <-done)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, 1, a.Compiles())
	assert.Zero(t, a.Declines(), "the slot told was used")
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Zero(t, p.watching, "no job waits: no watch is left")
	assert.Nil(t, p.watchCtx)
}

// A slot a host tells of that no waiting job takes (one went elsewhere,
// or none waits any more) is declined, so that the host tells another
// client at once; a slot a job takes is not.
func TestUnusedSlotNoticeIsDeclined(t *testing.T) {
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1)}, Options{})
	_, _, err := p.Compile(context.Background(), gccKey, job("x")) // dials a
	require.NoError(t, err)
	p.mu.Lock()
	h := p.hosts[0]
	h.watching = true
	p.watching++
	p.dials.Add(1)
	go p.awaitSlot(context.Background(), h, h.sess, h.gen) // a has its slot free: told at once
	p.mu.Unlock()
	waitFor(t, "the slot declined", func() bool { return a.Declines() == 1 })
	assert.Equal(t, 1, a.Watches())
}

// A job that may wait for a slot (CompileOr) asks the host not to queue it;
// one that may not (Compile) lets the host queue it.
func TestCompileOrAsksNotToQueue(t *testing.T) {
	var noQueue []bool
	var mu sync.Mutex
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1, Compile: func(_ context.Context, r *protocol.CompileRequest) protocol.Message {
		mu.Lock()
		noQueue = append(noQueue, r.NoQueue)
		mu.Unlock()
		return &protocol.CompileResult{Object: r.Preprocessed, Load: protocol.Load{Slots: 1}}
	}})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1)}, Options{})
	_, _, _, err := p.CompileOr(context.Background(), gccKey, job("may wait"), fullLocal())
	require.NoError(t, err)
	_, _, err = p.Compile(context.Background(), gccKey, job("may not"))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []bool{true, false}, noQueue)
}

// Past the bound of watches, a host full of others' jobs is asked for its
// load again once its report is old, and gets the waiting job when the
// answer has a free slot.
func TestWaitingJobsAskUnwatchedFullHostsAgain(t *testing.T) {
	a, _, p := fullOfOthers(t, 0)
	done := waitingJob(t, p)
	waitFor(t, "a asked for its load again", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.probes >= 2
	})
	select {
	case h := <-done:
		t.Fatalf("went to %q while a was still full", h)
	default:
	}
	assert.Zero(t, a.Watches())
	a.SetOthers(1)
	assert.Equal(t, a.Addr, <-done)
	p.mu.Lock()
	assert.LessOrEqual(t, p.probing, maxProbes)
	p.mu.Unlock()
}

// A job that finds every host busy waits for a host slot when no local
// slot is free either, and gets the first host slot that frees.
func TestCompileOrWaitsForAHostSlot(t *testing.T) {
	gate := make(chan struct{})
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1, Gate: gate})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1)}, Options{})
	ctx := context.Background()
	held := make(chan error, 1)
	// Its slot; a pool queues nothing at a full host.
	go func() { _, _, _, err := p.CompileOr(ctx, gccKey, job("held"), fullLocal()); held <- err }()
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
	assert.Equal(t, map[string]int{a.Addr: 1}, inFlight(p), "it waits here, not in the host's queue")
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
	holdFull(t, p, a.Addr)

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
	holdFull(t, p, a.Addr)
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

// Waiting jobs are served in their turn, and a job that waits again after
// a "busy" answer keeps the turn it first had.
func TestWaitersKeepTheirTurn(t *testing.T) {
	p := newTestPool(t, nil, Options{})
	p.mu.Lock()
	defer p.mu.Unlock()
	first := p.wait(gccKey, nil, 0)
	second := p.wait(gccKey, nil, 0)
	require.True(t, p.unwait(first)) // sent, and refused as busy
	again := p.wait(gccKey, nil, first.turn)
	third := p.wait(gccKey, nil, 0)
	assert.Equal(t, []*waiter{again, second, third}, p.waiters)
	assert.Less(t, again.turn, second.turn)
	for _, w := range p.waiters {
		p.unwait(w)
	}
}

// holdFull sends a 1-slot host held by its gate its slot's job (a pool
// queues nothing at a full host), and waits until it is in flight.
func holdFull(t *testing.T, p *Pool, addr string) {
	t.Helper()
	go p.CompileOr(context.Background(), gccKey, job("held"), fullLocal())
	waitFor(t, "a job in flight", func() bool { return inFlight(p)[addr] == 1 })
}

// fullLocal is a semaphore of local slots with none free.
func fullLocal() chan struct{} {
	local := make(chan struct{}, 1)
	local <- struct{}{}
	return local
}

// A host's report counts the jobs of this pool's session there as they
// were when it was made. One that ended before the report is read (its
// own reply read first) is no other client's: the slot it held is free,
// and the next job goes to the host, not to a free slot here.
func TestReportCountingAnEndedJobLeavesItsSlotFree(t *testing.T) {
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1, Compile: func(_ context.Context, r *protocol.CompileRequest) protocol.Message {
		// Made while a job of this session still held the slot.
		return &protocol.CompileResult{Object: r.Preprocessed, Load: protocol.Load{Slots: 1, Running: 1, Mine: 1}}
	}})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1)}, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // only against a hang
	defer cancel()
	_, _, err := p.Compile(ctx, gccKey, job("first"))
	require.NoError(t, err)

	free := make(chan struct{}, 1) // a slot here, free
	res, host, tookLocal, err := p.CompileOr(ctx, gccKey, job("second"), free)
	require.NoError(t, err)
	assert.False(t, tookLocal, "the host's slot looked taken by another client")
	assert.Equal(t, a.Addr, host)
	assert.Equal(t, "second", string(res.Object))
	assert.Equal(t, 2, a.Compiles())
}
