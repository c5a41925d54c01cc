package protocol

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peerConn is the server's end of a watched session. It counts the bytes
// it reads from the client, hands them on lag late (a slow link or a busy
// server: the server's first answer comes that late), and once frozen
// hands on nothing more (what it reads is dropped), as a server whose
// process is stopped while its kernel still takes the bytes.
type peerConn struct {
	net.Conn
	read   atomic.Int64
	lag    atomic.Int64 // a time.Duration
	frozen chan struct{}
	freeze sync.Once
	thawed chan struct{} // closed at the end of the test, ending Read
}

// Read implements net.Conn.
func (c *peerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	select {
	case <-c.frozen:
		<-c.thawed
		return 0, io.EOF
	default:
	}
	c.read.Add(int64(n))
	if n > 0 {
		time.Sleep(time.Duration(c.lag.Load()))
	}
	return n, err
}

// stop freezes the server: from now on it reads and answers nothing.
func (c *peerConn) stop() { c.freeze.Do(func() { close(c.frozen) }) }

// watchedPair returns a client session watched with timeout over TCP on
// loopback, and the server's end of the connection, which serves a yamux
// session answering requests with handle when handle is set; otherwise
// nothing reads it, as a stopped or unreachable host.
func watchedPair(t *testing.T, timeout time.Duration, handle func(context.Context, Message) Message) (*ClientSession, *peerConn) {
	t.Helper()
	c, s := connPair(t, "tcp")
	peer := &peerConn{Conn: s, frozen: make(chan struct{}), thawed: make(chan struct{})}
	clock := newReadClock(c)
	sess, err := yamux.Client(clock, YamuxConfig())
	require.NoError(t, err)
	t.Cleanup(func() { sess.Close() })
	if handle != nil {
		srv, err := yamux.Server(peer, ServerYamuxConfig())
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan struct{})
		go func() {
			defer close(served)
			_ = Serve(ctx, srv, handle)
		}()
		t.Cleanup(func() {
			close(peer.thawed)
			cancel()
			srv.Close()
			<-served
		})
	}
	cs := &ClientSession{sess: sess, clock: clock}
	cs.Watch(timeout)
	return cs, peer
}

// slowHandler is echoHandler answering after d, as a long compile.
func slowHandler(d time.Duration) func(context.Context, Message) Message {
	return func(ctx context.Context, req Message) Message {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		return echoHandler(ctx, req)
	}
}

// status makes one Status call on cs within d, returning how long it took.
func status(t *testing.T, cs *ClientSession, d time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	_, err := cs.Call(testContext(t, d), &Status{}, MsgStatusResult)
	return time.Since(start), err
}

func TestWatchClosesASilentSession(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cs, _ := watchedPair(t, timeout, nil)
	took, err := status(t, cs, 10*timeout)
	t.Logf("call failed after %s (timeout %s): %v", took, timeout, err)
	require.ErrorIs(t, err, ErrSilent, "a call to a peer that never answers fails as silent")
	assert.True(t, cs.Silent())
	assert.True(t, cs.IsClosed())
	assert.GreaterOrEqual(t, took, timeout)
	assert.Less(t, took, 2*timeout)
	_, err = status(t, cs, time.Second)
	assert.ErrorIs(t, err, ErrSilent, "later calls fail as silent too")
}

func TestWatchKeepsALongCall(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cs, _ := watchedPair(t, timeout, slowHandler(4*timeout))
	took, err := status(t, cs, 20*timeout) // only the pings speak meanwhile
	require.NoError(t, err, "a peer that answers pings keeps its session through a long call")
	assert.GreaterOrEqual(t, took, 4*timeout)
	assert.False(t, cs.IsClosed())
	assert.False(t, cs.Silent())
}

// TestWatchIdleCostsNothing: with no call in flight the watch neither
// ticks nor pings (the peer reads not a byte from the client), before the
// first call and after one, and the session stays usable.
func TestWatchIdleCostsNothing(t *testing.T) {
	const timeout = 200 * time.Millisecond
	cs, peer := watchedPair(t, timeout, echoHandler)
	quiet := func(what string, d time.Duration) {
		t.Helper()
		ticks, read := cs.calls.ticks.Load(), peer.read.Load()
		time.Sleep(d)
		assert.Equal(t, ticks, cs.calls.ticks.Load(), "%s: the watch ticks", what)
		assert.Equal(t, read, peer.read.Load(), "%s: the client sends bytes (pings)", what)
	}
	quiet("before any call", 2*timeout)
	_, err := status(t, cs, 10*timeout)
	require.NoError(t, err)
	time.Sleep(timeout / 2) // the watch sees the call ended; the stream's last frames pass
	quiet("after a call", 4*timeout)
	assert.False(t, cs.IsClosed(), "an idle session is kept")
	_, err = status(t, cs, 10*timeout)
	require.NoError(t, err, "and usable")
	assert.False(t, cs.Silent())
}

// TestWatchKeepsALongIdleSession: a call after a long idle spell on a
// server that is fine is not blamed for the silence before it started,
// even when the server's first bytes (yamux's acknowledgement of the
// stream) take several ticks of the watch to come.
func TestWatchKeepsALongIdleSession(t *testing.T) {
	const timeout = 200 * time.Millisecond
	cs, peer := watchedPair(t, timeout, echoHandler)
	peer.lag.Store(int64(timeout / 3))
	time.Sleep(5 * timeout)
	took, err := status(t, cs, 10*timeout)
	require.NoError(t, err, "a call after a long idle spell succeeds")
	assert.GreaterOrEqual(t, took, timeout/3)
	assert.False(t, cs.Silent())
	assert.False(t, cs.IsClosed())
}

// TestWatchFindsAPeerSilentWhileIdle: a server that stops while the
// session is idle is not noticed then, but the next call fails as silent
// about the timeout after it started.
func TestWatchFindsAPeerSilentWhileIdle(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cs, peer := watchedPair(t, timeout, echoHandler)
	_, err := status(t, cs, 10*timeout)
	require.NoError(t, err)
	peer.stop()
	time.Sleep(3 * timeout)
	require.False(t, cs.IsClosed(), "an idle session is not watched")
	took, err := status(t, cs, 10*timeout)
	t.Logf("call failed after %s (timeout %s): %v", took, timeout, err)
	require.ErrorIs(t, err, ErrSilent)
	assert.True(t, cs.Silent())
	assert.GreaterOrEqual(t, took, timeout)
	assert.Less(t, took, 2*timeout)
}

// TestWatchNewCallsDoNotRestartTheWindow: calls that start while others
// are in flight on a silent peer do not put off its detection: all fail
// about the timeout after the first began.
func TestWatchNewCallsDoNotRestartTheWindow(t *testing.T) {
	// A whole second: the margin between the two outcomes (1 1/2 and
	// 1 3/4 timeouts) must outlast a loaded machine's scheduling delays.
	const timeout = time.Second
	cs, _ := watchedPair(t, timeout, nil)
	start := time.Now()
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * timeout / 4)
			_, err := status(t, cs, 10*timeout)
			errs <- err
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, ErrSilent)
	}
	t.Logf("all failed %s after the first began (timeout %s)", took, timeout)
	// Were the window restarted by the last call, begun 3/4 timeout after
	// the first, all would fail 1 3/4 timeout after the first began.
	assert.Less(t, took, timeout+timeout/2)
}

func TestPendingCountsUnreadBytes(t *testing.T) {
	c, s := connPair(t, "tcp")
	assert.Zero(t, pending(c))
	_, err := s.Write([]byte("hello"))
	require.NoError(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for pending(c) < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	assert.Equal(t, 5, pending(c), "the bytes wait unread in the socket")
	p1, _ := connPair(t, "pipe")
	assert.Equal(t, -1, pending(p1), "a pipe cannot tell")
}
