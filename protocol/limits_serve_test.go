package protocol

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ServeWithin answers at most Streams requests of a session at once, and
// reads no request whose declared size does not fit in the budget left:
// the others wait, and all are answered once the first ones are.
func TestServeWithinLimits(t *testing.T) {
	const mib = 1 << 20
	big := randomBytes(mib) // incompressible: its frame declares twice its size
	tests := []struct {
		name    string
		limits  func() ServeLimits
		request func(i int) Message
		want    int32 // most handlers running at once
	}{
		{"two streams at once", func() ServeLimits { return ServeLimits{Streams: 2} },
			func(i int) Message { return &CacheGet{Project: "p", Key: fmt.Sprint(i)} }, 2},
		{"memory for one large request at once", func() ServeLimits { return ServeLimits{Budget: NewBudget(3 * mib)} },
			func(i int) Message { return &CachePut{Project: "p", Key: fmt.Sprint(i), Entry: big} }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gate := make(chan struct{})
			var running, most atomic.Int32
			limits := tc.limits()
			handle := func(ctx context.Context, req Message) Message {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				if limits.Budget != nil {
					assert.LessOrEqual(t, limits.Budget.InUse(), int64(3*mib))
				}
				select {
				case <-gate:
				case <-ctx.Done():
				}
				return &CachePutResult{Stored: true}
			}
			cs := serveWithin(t, handle, limits)
			var wg sync.WaitGroup
			errs := make(chan error, 5)
			for i := range 5 {
				wg.Go(func() {
					_, err := cs.Call(testContext(t, 20*time.Second), tc.request(i), MsgCachePutResult)
					errs <- err
				})
			}
			require.Eventually(t, func() bool { return running.Load() == tc.want }, 5*time.Second, 5*time.Millisecond)
			time.Sleep(100 * time.Millisecond) // room for a handler too many to start
			assert.Equal(t, tc.want, most.Load())
			close(gate)
			wg.Wait()
			close(errs)
			for err := range errs {
				assert.NoError(t, err)
			}
			if limits.Budget != nil {
				assert.Eventually(t, func() bool { return limits.Budget.InUse() == 0 }, 5*time.Second, time.Millisecond,
					"every request gives its memory back once answered")
			}
		})
	}

	t.Run("a request larger than the whole budget", func(t *testing.T) {
		cs := serveWithin(t, echoHandler, ServeLimits{Budget: NewBudget(mib)})
		_, err := cs.Call(testContext(t, 5*time.Second), &CachePut{Project: "p", Key: "k", Entry: big}, MsgCachePutResult)
		var re *RemoteError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, CodeTooLarge, re.Code)
		_, err = cs.Call(testContext(t, 5*time.Second), &Status{}, MsgStatusResult)
		assert.NoError(t, err, "the session goes on")
	})
}

// serveWithin serves handle within limits on one end of a connection and
// returns a client session on the other; the test's cleanup ends both.
func serveWithin(t *testing.T, handle func(context.Context, Message) Message, limits ServeLimits) *ClientSession {
	t.Helper()
	cc, sc := connPair(t, "tcp")
	ssess, err := yamux.Server(sc, ServerYamuxConfig())
	require.NoError(t, err)
	csess, err := yamux.Client(cc, YamuxConfig())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeWithin(ctx, ssess, handle, limits) }()
	t.Cleanup(func() {
		csess.Close()
		cancel()
		<-done
	})
	return &ClientSession{sess: csess}
}
