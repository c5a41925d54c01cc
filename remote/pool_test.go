package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote/remotetest"
)

// inFlight returns the pool's jobs in flight per host address.
func inFlight(p *Pool) map[string]int {
	out := map[string]int{}
	for _, s := range p.Status() {
		out[s.Addr] = s.InFlight
	}
	return out
}

func TestCompileGoesToMostFreeSlots(t *testing.T) {
	gate := make(chan struct{})
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Gate: gate})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Gate: gate})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 2), hostOf(b.Addr, 3)}, Options{})

	// Free slots: a 2, b 3. Each job goes where most are free (a tie to
	// either host).
	type outcome struct {
		host string
		err  error
	}
	const jobs = 5
	results := make(chan outcome, jobs)
	caps := map[string]int{a.Addr: 2, b.Addr: 3}
	for i := range jobs {
		before := inFlight(p)
		mostFree := 0
		for addr, c := range caps {
			mostFree = max(mostFree, c-before[addr])
		}
		go func() {
			res, host, err := p.Compile(context.Background(), gccKey, job(fmt.Sprint(i)))
			if err == nil && string(res.Object) != "object from "+host+" of "+fmt.Sprint(i) {
				err = fmt.Errorf("job %d: wrong object %q from %s", i, res.Object, host)
			}
			results <- outcome{host, err}
		}()
		waitFor(t, fmt.Sprintf("job %d in flight", i), func() bool {
			n := 0
			for _, v := range inFlight(p) {
				n += v
			}
			return n == i+1
		})
		after := inFlight(p)
		for addr, c := range caps {
			if after[addr] > before[addr] {
				assert.Equal(t, mostFree, c-before[addr], "job %d went to %s, which had the most free slots", i, addr)
			}
		}
	}
	assert.Equal(t, map[string]int{a.Addr: 2, b.Addr: 3}, inFlight(p))

	// Every slot is taken: the next job is refused at once.
	start := time.Now()
	_, _, err := p.Compile(context.Background(), gccKey, job("extra"))
	require.ErrorIs(t, err, ErrNoHost)
	assert.Contains(t, err.Error(), "every host is busy")
	assert.Less(t, time.Since(start), time.Second)

	close(gate)
	for range jobs {
		o := <-results
		require.NoError(t, o.err)
	}
	st := p.Status()
	assert.Equal(t, []int64{2, 2, 0}, []int64{st[0].Sent, st[0].OK, st[0].Failed})
	assert.Equal(t, []int64{3, 3, 0}, []int64{st[1].Sent, st[1].OK, st[1].Failed})
	assert.Equal(t, map[string]int{a.Addr: 0, b.Addr: 0}, inFlight(p))
	assert.Equal(t, 2, a.Compiles())
	assert.Equal(t, 3, b.Compiles())
}

// Among hosts with as many free slots, a job goes to its key's owner in
// the shared cache (which stores the result there itself); with more free
// slots elsewhere, the free slots win.
func TestCompilePrefersSharedOwnerAmongEquals(t *testing.T) {
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 2), hostOf(b.Addr, 2)}, Options{})
	ctx := context.Background()
	_, _, err := p.Compile(ctx, gccKey, job("dial")) // connects both hosts
	require.NoError(t, err)
	waitFor(t, "both hosts connected", func() bool {
		for _, st := range p.Status() {
			if !st.Connected {
				return false
			}
		}
		return true
	})
	byOwner := map[string]int{}
	for i := range 20 {
		req := job(fmt.Sprint(i))
		req.CacheKey = fmt.Sprintf("%064x", i*7919)
		owner := p.SharedOwner(req.CacheKey)
		require.Equal(t, p.Owners(req.CacheKey)[0], owner, "both hosts are up: the first in rendezvous order")
		_, host, err := p.Compile(ctx, gccKey, req)
		require.NoError(t, err)
		assert.Equal(t, owner, host, "job %d", i)
		byOwner[host]++
	}
	assert.Len(t, byOwner, 2, "keys spread over both owners: %v", byOwner)

	// The owner busier than another host: the free slots win.
	gate := make(chan struct{})
	defer close(gate)
	c := remotetest.Start(t, "127.0.0.4", remotetest.Options{Gate: gate})
	d := remotetest.Start(t, "127.0.0.5", remotetest.Options{})
	q := newTestPool(t, []config.Host{hostOf(c.Addr, 2), hostOf(d.Addr, 2)}, Options{})
	var key string
	for i := 0; ; i++ {
		if key = fmt.Sprintf("%064x", i); q.Owners(key)[0] == c.Addr {
			break
		}
	}
	hold := job("holds a slot on c")
	hold.CacheKey = key // the tie goes to c, the owner
	go q.Compile(ctx, gccKey, hold)
	waitFor(t, "a job in flight on c", func() bool { return inFlight(q)[c.Addr] == 1 })
	req := job("owned by c")
	req.CacheKey = key
	_, host, err := q.Compile(ctx, gccKey, req)
	require.NoError(t, err)
	assert.Equal(t, d.Addr, host)
}

// OwnerTakes says whether a job would go to its key's owner now.
func TestOwnerTakes(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Gate: gate})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Gate: gate})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1), hostOf(b.Addr, 1)}, Options{})
	keyOwnedBy := func(addr string) string {
		for i := 0; ; i++ {
			if key := fmt.Sprintf("%064x", i); p.Owners(key)[0] == addr {
				return key
			}
		}
	}
	keyA, keyB := keyOwnedBy(a.Addr), keyOwnedBy(b.Addr)
	assert.False(t, p.OwnerTakes(gccKey, keyA), "no host connected yet")
	for _, st := range p.Check(context.Background()) {
		require.True(t, st.Connected, "%s", st.Addr)
	}

	assert.True(t, p.OwnerTakes(gccKey, keyA), "idle hosts: the owner takes it")
	assert.True(t, p.OwnerTakes(gccKey, keyB))
	assert.False(t, p.OwnerTakes("id3-other-toolchain", keyA), "a toolchain the owner lacks")

	req := job("holds a's slot")
	req.CacheKey = keyA
	go p.Compile(context.Background(), gccKey, req)
	waitFor(t, "a job in flight on a", func() bool { return inFlight(p)[a.Addr] == 1 })
	assert.False(t, p.OwnerTakes(gccKey, keyA), "the owner's slot is taken")
	assert.True(t, p.OwnerTakes(gccKey, keyB))
}

// sentCounts returns the jobs sent per host address.
func sentCounts(p *Pool) map[string]int64 {
	out := map[string]int64{}
	for _, s := range p.Status() {
		out[s.Addr] = s.Sent
	}
	return out
}

func runtimeSlots() int { return runtime.NumCPU() }

func TestLoadWeighting(t *testing.T) {
	// a is listed first but reports that other clients fill it.
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 4})
	a.SetOthers(4)
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Slots: 4})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 4), hostOf(b.Addr, 4)}, Options{})
	_, host, err := p.Compile(context.Background(), gccKey, job("x"))
	require.NoError(t, err)
	assert.Equal(t, b.Addr, host)
}

func TestToolchainMatching(t *testing.T) {
	var got sync.Map // toolchain key -> host that received it
	record := func(addr *string) func(context.Context, *protocol.CompileRequest) protocol.Message {
		return func(_ context.Context, r *protocol.CompileRequest) protocol.Message {
			got.Store(r.Toolchain, *addr)
			return &protocol.CompileResult{Object: []byte("o")}
		}
	}
	var aAddr, bAddr string
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Toolchains: toolchains(gccKey), Compile: record(&aAddr)})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Toolchains: toolchains(clangKey, "id2-other"), Compile: record(&bAddr)})
	aAddr, bAddr = a.Addr, b.Addr
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 4), hostOf(b.Addr, 4)}, Options{})

	tests := []struct {
		key      string
		wantHost string
		wantErr  string
	}{
		{gccKey, a.Addr, ""},
		{clangKey, b.Addr, ""},
		{"id2-other", b.Addr, ""},
		{"id2-nowhere", "", "no host offers toolchain id2-nowhere"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			req := job("x")
			req.Toolchain = "ignored: the key given to Compile wins"
			_, host, err := p.Compile(context.Background(), tt.key, req)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrNoHost)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantHost, host)
			v, ok := got.Load(tt.key)
			require.True(t, ok, "the server got the key")
			assert.Equal(t, tt.wantHost, v)
		})
	}
}

func TestBackoffGrowsAndResets(t *testing.T) {
	clock := newFakeClock()
	addr := remotetest.FreeAddr(t, "127.0.0.2")
	p := newTestPool(t, []config.Host{hostOf(addr, 2)}, Options{Now: clock.Now})

	// The first dial is waited for; it fails: 1 s of backoff.
	_, _, err := p.Compile(context.Background(), gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost)
	st := p.Status()[0]
	assert.True(t, st.Contacted)
	assert.False(t, st.Reachable)
	assert.Equal(t, "connection refused", st.Error)
	assert.Equal(t, time.Second, st.Backoff)

	// While backed off, nothing is dialed.
	_, _, err = p.Compile(context.Background(), gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost)
	assert.Equal(t, time.Second, p.Status()[0].Backoff)

	// Each new failure doubles the backoff, up to a minute.
	for _, want := range []time.Duration{2, 4, 8, 16, 32, 60, 60} {
		clock.Advance(p.Status()[0].Backoff)
		_, _, err = p.Compile(context.Background(), gccKey, job("x"))
		require.ErrorIs(t, err, ErrNoHost, "later dials run in the background")
		waitFor(t, "the dial to fail", func() bool { return p.Status()[0].Backoff > 0 })
		assert.Equal(t, want*time.Second, p.Status()[0].Backoff)
	}

	// The host comes up: once its backoff is over it is dialed, and a
	// successful job resets the backoff.
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := remotetest.Serve(t, ln, remotetest.Options{})
	clock.Advance(time.Minute)
	_, _, err = p.Compile(context.Background(), gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost)
	waitFor(t, "the session", func() bool { return p.Status()[0].Connected })
	_, host, err := p.Compile(context.Background(), gccKey, job("x"))
	require.NoError(t, err)
	assert.Equal(t, addr, host)
	st = p.Status()[0]
	assert.Zero(t, st.Backoff)
	assert.Empty(t, st.Error)

	// It goes down again: the next failure starts over at 1 s.
	srv.Stop()
	waitFor(t, "the session to close", func() bool {
		_, _, err := p.Compile(context.Background(), gccKey, job("x"))
		return err != nil && p.Status()[0].Backoff > 0
	})
	assert.Equal(t, time.Second, p.Status()[0].Backoff)
}

func TestSilentHost(t *testing.T) {
	s := remotetest.StartSilent(t, "127.0.0.2")
	h := hostOf(s.Addr, 4)
	h.ConnectTimeout = 200 * time.Millisecond
	p := newTestPool(t, []config.Host{h}, Options{})

	start := time.Now()
	_, _, err := p.Compile(context.Background(), gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost)
	assert.Less(t, time.Since(start), 2*time.Second, "the connect timeout bounds the wait")
	st := p.Status()[0]
	assert.False(t, st.Reachable)
	assert.Equal(t, "no answer within 200ms", st.Error)
	assert.Greater(t, st.Backoff, time.Duration(0))

	// Backed off: the next job is refused at once.
	start = time.Now()
	_, _, err = p.Compile(context.Background(), gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost)
	assert.Less(t, time.Since(start), 100*time.Millisecond)
}

func TestRecvTimeout(t *testing.T) {
	never := make(chan struct{}) // the compile never finishes
	s := remotetest.Start(t, "127.0.0.2", remotetest.Options{Gate: never})
	h := hostOf(s.Addr, 4)
	h.SendTimeout, h.RecvTimeout = 100*time.Millisecond, 200*time.Millisecond
	p := newTestPool(t, []config.Host{h}, Options{})

	start := time.Now()
	_, host, err := p.Compile(context.Background(), gccKey, job("x"))
	require.Error(t, err)
	assert.Equal(t, s.Addr, host)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)
	st := p.Status()[0]
	assert.False(t, st.Connected, "the session is closed")
	assert.Greater(t, st.Backoff, time.Duration(0))
	assert.Equal(t, []int64{1, 0, 1}, []int64{st.Sent, st.OK, st.Failed})
	assert.Contains(t, st.Error, "timed out")

	_, _, err = p.Compile(context.Background(), gccKey, job("y"))
	require.ErrorIs(t, err, ErrNoHost, "backed off")
}

func TestCallerCancelIsNotAHostFailure(t *testing.T) {
	gate := make(chan struct{})
	s := remotetest.Start(t, "127.0.0.2", remotetest.Options{Gate: gate})
	p := newTestPool(t, []config.Host{hostOf(s.Addr, 4)}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := p.Compile(ctx, gccKey, job("x"))
		done <- err
	}()
	waitFor(t, "the job on the server", func() bool { return s.Compiles() == 1 })
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	st := p.Status()[0]
	assert.True(t, st.Connected)
	assert.Zero(t, st.Backoff)
	close(gate)
	_, _, err := p.Compile(context.Background(), gccKey, job("y"))
	require.NoError(t, err)
}

func TestRemoteErrors(t *testing.T) {
	tests := []struct {
		name       string
		answer     protocol.Message
		wantBusy   int64
		wantFailed int64
		wantKeeps  bool // the toolchain stays offered
		wantFull   bool // the host counts as full until it reports otherwise
	}{
		{"busy", &protocol.Error{Code: protocol.CodeBusy, Message: "full"}, 1, 0, true, true},
		{"forbidden arg", &protocol.Error{Code: protocol.CodeForbiddenArg, Message: "-B not allowed"}, 0, 1, true, false},
		{"unknown toolchain", &protocol.Error{Code: protocol.CodeUnknownToolchain, Message: "gone"}, 0, 1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := remotetest.Start(t, "127.0.0.2", remotetest.Options{Compile: func(context.Context, *protocol.CompileRequest) protocol.Message { return tt.answer }})
			clock := newFakeClock()
			p := newTestPool(t, []config.Host{hostOf(s.Addr, 4)}, Options{Now: clock.Now})
			_, _, err := p.Compile(context.Background(), gccKey, job("x"))
			var re *protocol.RemoteError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.answer.(*protocol.Error).Code, re.Code)
			st := p.Status()[0]
			assert.True(t, st.Connected, "not a host failure")
			assert.Zero(t, st.Backoff)
			assert.Equal(t, tt.wantBusy, st.Busy)
			assert.Equal(t, tt.wantFailed, st.Failed)
			if tt.wantFull {
				_, _, err = p.Compile(context.Background(), gccKey, job("x"))
				require.ErrorIs(t, err, ErrNoHost, "a busy host is full in this pool's view")
				p.Check(context.Background()) // until it says otherwise
			}
			_, _, err = p.Compile(context.Background(), gccKey, job("x"))
			if tt.wantKeeps {
				assert.NotErrorIs(t, err, ErrNoHost)
			} else {
				assert.ErrorIs(t, err, ErrNoHost)
			}
		})
	}
}

// TestInternalErrorBacksOff: a host that fails jobs itself (its disk full,
// say: the server answers "internal") gets no job while backed off, keeps
// its session, and is tried again once the backoff is over; the backoff
// grows with each such failure and a success ends it.
func TestInternalErrorBacksOff(t *testing.T) {
	clock := newFakeClock()
	var failing atomic.Bool
	failing.Store(true)
	s := remotetest.Start(t, "127.0.0.2", remotetest.Options{Compile: func(ctx context.Context, req *protocol.CompileRequest) protocol.Message {
		if failing.Load() {
			return &protocol.Error{Code: protocol.CodeInternal, Message: "write the job's input: no space left on device"}
		}
		return &protocol.CompileResult{Object: []byte("obj")}
	}})
	p := newTestPool(t, []config.Host{hostOf(s.Addr, 4)}, Options{Now: clock.Now})
	_, _, err := p.Compile(context.Background(), gccKey, job("x"))
	var re *protocol.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, protocol.CodeInternal, re.Code)
	st := p.Status()[0]
	assert.True(t, st.Connected, "the session stays")
	assert.Equal(t, time.Second, st.Backoff)

	_, _, err = p.Compile(context.Background(), gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost, "no job for a backed-off host")
	assert.Equal(t, int64(1), p.Status()[0].Failed)

	clock.Advance(time.Second)
	_, _, err = p.Compile(context.Background(), gccKey, job("x"))
	require.ErrorAs(t, err, &re, "tried again after its backoff")
	assert.Equal(t, 2*time.Second, p.Status()[0].Backoff)

	failing.Store(false)
	clock.Advance(2 * time.Second)
	_, _, err = p.Compile(context.Background(), gccKey, job("x"))
	require.NoError(t, err)
	assert.Zero(t, p.Status()[0].Backoff)
}

func TestConcurrentCompiles(t *testing.T) {
	// slow answers after a moment, recording the most jobs it ran at once.
	slow := func(maxRunning *atomic.Int32) func(context.Context, *protocol.CompileRequest) protocol.Message {
		var running atomic.Int32
		return func(_ context.Context, r *protocol.CompileRequest) protocol.Message {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			return &protocol.CompileResult{Object: r.Preprocessed}
		}
	}
	var maxA, maxB atomic.Int32
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Compile: slow(&maxA)})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Compile: slow(&maxB)})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 3), hostOf(b.Addr, 2)}, Options{})

	const jobs = 200
	var ok, noHost atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, jobs)
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf("job %d", i)
			res, _, err := p.Compile(context.Background(), gccKey, job(body))
			switch {
			case err == nil && string(res.Object) == body:
				ok.Add(1)
			case errors.Is(err, ErrNoHost):
				noHost.Add(1)
			default:
				errs <- fmt.Errorf("job %d: %v", i, err)
			}
			_ = p.Status()
			_ = p.Slots()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, int32(jobs), ok.Load()+noHost.Load())
	assert.Positive(t, ok.Load())
	assert.LessOrEqual(t, maxA.Load(), int32(3), "never more than njob jobs on a host")
	assert.LessOrEqual(t, maxB.Load(), int32(2), "never more than njob jobs on a host")
	var sent, okCount int64
	for _, s := range p.Status() {
		assert.Zero(t, s.InFlight)
		sent += s.Sent
		okCount += s.OK
	}
	assert.Equal(t, int64(ok.Load()), sent)
	assert.Equal(t, sent, okCount)
}

func TestWrongTokenStatus(t *testing.T) {
	good := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	other := remotetest.Start(t, "127.0.0.3", remotetest.Options{Tokens: []string{"another-token"}})
	down := remotetest.FreeAddr(t, "127.0.0.4")
	silent := remotetest.StartSilent(t, "127.0.0.5")
	noToken := hostOf(good.Addr, 2)
	noToken.Token = ""
	silentHost := hostOf(silent.Addr, 1)
	silentHost.ConnectTimeout = 100 * time.Millisecond
	hosts := []config.Host{hostOf(good.Addr, 4), hostOf(other.Addr, 8), hostOf(down, 2), silentHost, noToken}
	p := newTestPool(t, hosts, Options{})

	for _, st := range p.Status() {
		assert.False(t, st.Contacted, "nothing is dialed before it is needed")
	}
	got := p.Check(context.Background())
	tests := []struct {
		reachable, authenticated bool
		errText                  string
	}{
		{true, true, ""},
		{true, false, "token refused"},
		{false, false, "connection refused"},
		{false, false, "no answer within 100ms"},
		{false, false, "no token set (token in the config file, or DCC_TOKEN)"},
	}
	require.Len(t, got, len(tests))
	for i, tt := range tests {
		t.Run(hosts[i].Connect, func(t *testing.T) {
			st := got[i]
			assert.Equal(t, hosts[i].Connect, st.Addr)
			assert.Equal(t, hosts[i].Jobs, st.Jobs)
			assert.True(t, st.Contacted)
			assert.Equal(t, tt.reachable, st.Reachable)
			assert.Equal(t, tt.authenticated, st.Authenticated)
			assert.Equal(t, tt.errText, st.Error)
			assert.Equal(t, tt.reachable && tt.authenticated, st.Usable())
			if st.Usable() {
				assert.Equal(t, good.Name(), st.Server)
				require.Len(t, st.Toolchains, 1)
				assert.Equal(t, gccKey, st.Toolchains[0].Key)
				assert.Equal(t, 8, st.Load.Slots)
				assert.Zero(t, st.Backoff)
			} else {
				assert.Greater(t, st.Backoff, time.Duration(0))
			}
		})
	}
	assert.Equal(t, 3+4, Jobs(2, got), "ceil(2*3/2) + the one usable host's njob")
	assert.Equal(t, 3+4+1, JobsOf(2, Reports(got)), "dcc jobs counts the host that only timed out too")

	// A second check goes over the live session, and dials the others again
	// though they are backed off.
	again := p.Check(context.Background())
	assert.True(t, again[0].Usable())
	assert.Equal(t, "token refused", again[1].Error)
	assert.Equal(t, 2*time.Second, again[1].Backoff.Round(time.Second), "a further failure")
	assert.Equal(t, runtimeSlots()+4, p.Slots())
}

func TestClosedPool(t *testing.T) {
	s := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	p := NewPool([]config.Host{hostOf(s.Addr, 4)}, Options{})
	_, _, err := p.Compile(context.Background(), gccKey, job("x"))
	require.NoError(t, err)
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "twice is fine")
	_, _, err = p.Compile(context.Background(), gccKey, job("x"))
	assert.ErrorIs(t, err, ErrClosed)
	_, found := p.CacheGet(context.Background(), "p", "k")
	assert.False(t, found)
	res := p.Clean(context.Background(), "p")
	require.Len(t, res, 1)
	assert.ErrorIs(t, res[0].Err, ErrClosed)
}

func TestNoHosts(t *testing.T) {
	p := newTestPool(t, nil, Options{LocalSlots: 3})
	_, _, err := p.Compile(context.Background(), gccKey, job("x"))
	require.ErrorIs(t, err, ErrNoHost)
	assert.Contains(t, err.Error(), "no hosts configured")
	assert.Empty(t, p.Check(context.Background()))
	assert.Equal(t, 3, p.Slots())
	assert.Empty(t, p.Clean(context.Background(), "p"))
}

func TestJobs(t *testing.T) {
	usable := HostStatus{Jobs: 4, Reachable: true, Authenticated: true}
	refused := HostStatus{Jobs: 8, Reachable: true}
	down := HostStatus{Jobs: 16}
	tests := []struct {
		ncpu  int
		hosts []HostStatus
		want  int
	}{
		{1, nil, 2},
		{2, nil, 3},
		{3, nil, 5},
		{4, nil, 6},
		{0, nil, 2},
		{2, []HostStatus{usable}, 7},
		{2, []HostStatus{usable, refused, down, usable}, 11},
		{8, []HostStatus{refused, down}, 12},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.ncpu, len(tt.hosts)), func(t *testing.T) {
			assert.Equal(t, tt.want, Jobs(tt.ncpu, tt.hosts))
		})
	}
}

// The pool serves the daemon's remote requests: reports and cleaning.
func TestPoolAsRemoteBackend(t *testing.T) {
	s := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	down := remotetest.FreeAddr(t, "127.0.0.3")
	p := newTestPool(t, []config.Host{hostOf(s.Addr, 4), hostOf(down, 8)}, Options{})

	reports, err := p.Hosts(context.Background(), false)
	require.NoError(t, err)
	require.Len(t, reports, 2)
	assert.False(t, reports[0].Contacted, "without check nothing is dialed")

	reports, err = p.Hosts(context.Background(), true)
	require.NoError(t, err)
	require.Len(t, reports, 2)
	assert.True(t, reports[0].ClockKnown, "the host said its time")
	assert.Less(t, reports[0].ClockSkew.Abs(), time.Second, "one machine, one clock")
	reports[0].ClockKnown, reports[0].ClockSkew, reports[0].ClockUncertainty = false, 0, 0
	assert.Equal(t, daemon.HostReport{Host: s.Addr, Jobs: 4, Contacted: true, Reachable: true, Authenticated: true, Sandboxed: true,
		Server: s.Name(), Toolchains: []daemon.HostToolchain{{Key: gccKey, Family: "gcc", Driver: "gcc", Version: "12.2.0", Target: "x86_64-linux-gnu"}},
		Slots: 8}, reports[0])
	assert.Equal(t, down, reports[1].Host)
	assert.Equal(t, "connection refused", reports[1].Error)
	assert.Positive(t, reports[1].Backoff)
	assert.Equal(t, Jobs(4, nil)+4, JobsOf(4, reports))

	s.Put("proj", "k1", []byte("e"))
	s.Put("proj", "k2", []byte("e"))
	s.Put("other", "k1", []byte("e"))
	cleaned, err := p.CleanRemote(context.Background(), "proj")
	require.NoError(t, err)
	assert.Equal(t, []daemon.CleanReport{{Host: s.Addr, Removed: 2}, {Host: down, Error: "connection refused"}}, cleaned)
	assert.Equal(t, []string{"proj"}, s.Cleaned())
	assert.Equal(t, 1, s.Entries())
}

// TestCompileSendsEachFileOnce: files sent whole once go by digest in the
// next jobs to the same host; a host that no longer keeps them refuses, and
// the job goes again whole at once.
func TestCompileSendsEachFileOnce(t *testing.T) {
	var mu sync.Mutex
	kept := map[[32]byte]bool{}
	var whole, byDigest int
	srv := remotetest.Start(t, "127.0.0.2", remotetest.Options{Compile: func(_ context.Context, req *protocol.CompileRequest) protocol.Message {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range req.Sources {
			if f.ByDigest && !kept[f.Digest] {
				return &protocol.Error{Code: protocol.CodeMissingSources, Message: "not kept"}
			}
		}
		for _, f := range req.Sources {
			if f.ByDigest {
				byDigest++
			} else {
				whole++
				kept[f.Digest] = true
			}
		}
		return &protocol.CompileResult{Object: []byte("o")}
	}})
	p := newTestPool(t, []config.Host{hostOf(srv.Addr, 2)}, Options{})
	files := func(names ...string) []protocol.SourceFile {
		var out []protocol.SourceFile
		for _, n := range names {
			out = append(out, protocol.SourceFile{Path: "/p/" + n, Digest: [32]byte{n[0]}, Data: []byte(n)})
		}
		return out
	}
	counts := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		w, d := whole, byDigest
		whole, byDigest = 0, 0
		return w, d
	}
	compile := func(names ...string) {
		req := job("")
		req.Sources = files(names...)
		_, _, err := p.Compile(t.Context(), remotetest.GCCKey, req)
		require.NoError(t, err)
	}
	compile("a.c", "b.h", "c.h")
	w, d := counts()
	assert.Equal(t, [2]int{3, 0}, [2]int{w, d}, "first job: all whole")
	compile("d.c", "b.h", "c.h")
	w, d = counts()
	assert.Equal(t, [2]int{1, 2}, [2]int{w, d}, "second job: the headers by digest")

	mu.Lock()
	clear(kept) // the host restarted its cache
	mu.Unlock()
	compile("e.c", "b.h")
	w, d = counts()
	assert.Equal(t, [2]int{2, 0}, [2]int{w, d}, "refused as missing, then sent whole")
}
