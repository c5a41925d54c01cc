package protocol

import (
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// watchedPair returns a client session watched with timeout over TCP, and
// the server's end of the connection, which serves a yamux session (and so
// answers pings) only when serve is set; otherwise it never answers, as a
// stopped or unreachable host.
func watchedPair(t *testing.T, timeout time.Duration, serve bool) *ClientSession {
	t.Helper()
	c, s := connPair(t, "tcp")
	clock := newReadClock(c)
	sess, err := yamux.Client(clock, YamuxConfig())
	require.NoError(t, err)
	t.Cleanup(func() { sess.Close() })
	if serve {
		srv, err := yamux.Server(s, YamuxConfig())
		require.NoError(t, err)
		t.Cleanup(func() { srv.Close() })
	}
	cs := &ClientSession{sess: sess, clock: clock}
	cs.Watch(timeout)
	return cs
}

func TestWatchClosesASilentSession(t *testing.T) {
	const timeout = 300 * time.Millisecond
	start := time.Now()
	cs := watchedPair(t, timeout, false)
	select {
	case <-cs.sess.CloseChan():
	case <-time.After(10 * timeout):
		t.Fatal("a session whose peer never answers stays open")
	}
	took := time.Since(start)
	t.Logf("closed after %s (timeout %s)", took, timeout)
	assert.True(t, cs.Silent())
	assert.GreaterOrEqual(t, took, timeout)
	_, err := cs.Call(testContext(t, time.Second), &Status{}, MsgStatusResult)
	assert.ErrorIs(t, err, ErrSilent)
}

func TestWatchKeepsAnAnsweringSession(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cs := watchedPair(t, timeout, true)
	time.Sleep(6 * timeout) // idle: only the pings speak
	assert.False(t, cs.IsClosed(), "a peer that answers pings keeps its session")
	assert.False(t, cs.Silent())
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
