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

// One attempt on a host is bounded by the job's own timeout (its
// TimeoutMS) when that is shorter than the host's receive timeout.
func TestAttemptBoundedByTheJobsTimeout(t *testing.T) {
	never := make(chan struct{})
	s := remotetest.Start(t, "127.0.0.2", remotetest.Options{Gate: never})
	h := hostOf(s.Addr, 4)
	h.SendTimeout, h.RecvTimeout = 100*time.Millisecond, time.Minute
	p := newTestPool(t, []config.Host{h}, Options{})

	req := job("x")
	req.TimeoutMS = 200
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // only against a hang
	defer cancel()
	start := time.Now()
	_, _, err := p.Compile(ctx, gccKey, req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "bounded by the job's 200 ms, not the host's minute")
	require.NoError(t, ctx.Err())
}

// A job sent again keeps its place: the order it came in. Here the host
// refuses the first job as busy after a later one came: when the slot
// frees, the first job goes before the job that waited meanwhile, not
// behind it.
func TestJobSentAgainKeepsItsArrivalTurn(t *testing.T) {
	refuse := make(chan struct{})
	var mu sync.Mutex
	var order []string
	refused := false
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1, Compile: func(ctx context.Context, r *protocol.CompileRequest) protocol.Message {
		body := string(r.Preprocessed)
		mu.Lock()
		order = append(order, body)
		first := body == "first" && !refused
		refused = refused || first
		mu.Unlock()
		if first {
			<-refuse
			return &protocol.Error{Code: protocol.CodeBusy, Message: "full"}
		}
		return &protocol.CompileResult{Object: r.Preprocessed, Load: protocol.Load{Slots: 1}}
	}})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1)}, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // only against a hang
	defer cancel()
	results := make(chan string, 2)
	send := func(body string) {
		go func() {
			res, _, _, err := p.CompileOr(ctx, gccKey, job(body), fullLocal())
			if err != nil {
				results <- body + ": " + err.Error()
				return
			}
			results <- string(res.Object)
		}()
	}
	send("first") // takes the host's slot
	waitFor(t, "the first job on the host", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 1 })
	send("later") // waits here
	waitFor(t, "the later job waiting", func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.waiters) == 1 })

	a.SetOthers(1) // the host says it is full until this is undone
	close(refuse)  // the first job is refused as busy and waits again
	waitFor(t, "two jobs waiting", func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.waiters) == 2 })
	a.SetOthers(0) // a slot frees: the host's watch says so
	waitFor(t, "the next job sent", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) >= 2 })
	mu.Lock()
	assert.Equal(t, "first", order[1], "the job that came first is sent before the one that came later: %v", order)
	mu.Unlock()
	got := []string{<-results, <-results}
	assert.ElementsMatch(t, []string{"first", "later"}, got)
}

// A job whose host went down is sent once more; a "busy" answer to that
// second sending makes it wait for a slot again, as for any job, instead
// of failing (the caller would compile it here).
func TestJobSentAgainWaitsAgainAfterBusy(t *testing.T) {
	// a's compile never answers: it ends only after a went down (its
	// connections closed), so no answer of a's reaches the client.
	release := make(chan struct{})
	defer close(release)
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 1, Compile: func(context.Context, *protocol.CompileRequest) protocol.Message {
		<-release
		return &protocol.Error{Code: protocol.CodeInternal, Message: "too late"}
	}})
	var calls atomic.Int32
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Slots: 1, Compile: func(_ context.Context, r *protocol.CompileRequest) protocol.Message {
		if calls.Add(1) == 1 {
			return &protocol.Error{Code: protocol.CodeBusy, Message: "full"}
		}
		return &protocol.CompileResult{Object: r.Preprocessed, Load: protocol.Load{Slots: 1}}
	}})
	b.SetOthers(1) // b looks full: the job goes to a
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 1), hostOf(b.Addr, 1)}, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // only against a hang
	defer cancel()
	type outcome struct {
		res  *protocol.CompileResult
		host string
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		res, host, _, err := p.CompileOr(ctx, gccKey, job("x"), fullLocal())
		done <- outcome{res, host, err}
	}()
	waitFor(t, "the job on a", func() bool { return a.Compiles() == 1 })
	b.SetOthers(0)
	go a.Stop() // a goes down under the job (Stop returns once release is closed)
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, b.Addr, o.host)
	assert.Equal(t, "x", string(o.res.Object))
	assert.Equal(t, int32(2), calls.Load(), "refused as busy once, then compiled")
}
