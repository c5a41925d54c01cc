package protocol

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// ErrSilent is a session closed by its liveness watch: the peer sent
// nothing, not even the answer to a ping, for the liveness timeout. Its
// process is stopped, its machine gone, or the network between cut; a peer
// busy with a long compile still answers pings.
var ErrSilent = errors.New("protocol: peer silent")

// readClock is a connection that records when bytes last arrived on it.
type readClock struct {
	net.Conn
	last atomic.Int64 // unix nanoseconds
}

// newReadClock wraps conn, counting it heard from now.
func newReadClock(conn net.Conn) *readClock {
	c := &readClock{Conn: conn}
	c.last.Store(time.Now().UnixNano())
	return c
}

// Read implements net.Conn.
func (c *readClock) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// pending returns how many received bytes wait unread in the socket, or -1.
func (c *readClock) pending() int { return pending(c.Conn) }

// heard is when bytes last arrived.
func (c *readClock) heard() time.Time { return time.Unix(0, c.last.Load()) }

// Watch closes the session when the server sends nothing for timeout: a
// frame of any kind counts, and after a quarter of timeout without one the
// session pings, so a server that is up answers within the window even
// while all its jobs are long compiles. Calls on a session closed this way
// fail with ErrSilent. A timeout of 0 or less watches nothing. Watch returns
// at once; the watch ends with the session.
//
// The silence is measured against this process's own clock ticks: a tick
// that comes late (this process was not scheduled, or the machine was
// suspended) restarts the window instead of blaming the peer, and so do
// bytes that arrived but wait unread in the socket (this process, busy,
// is behind the peer).
func (s *ClientSession) Watch(timeout time.Duration) {
	if timeout <= 0 || s.clock == nil {
		return
	}
	go s.watch(timeout)
}

func (s *ClientSession) watch(timeout time.Duration) {
	tick := max(timeout/8, time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	var pinging atomic.Bool
	last := time.Now() // the last tick
	floor := last      // silence is counted from here at the earliest
	for {
		select {
		case <-s.sess.CloseChan():
			return
		case now := <-t.C:
			if now.Sub(last) > 2*tick+timeout/4 {
				floor = now // this process stood still: not the peer's silence
			}
			last = now
			since := s.clock.heard()
			if since.Before(floor) {
				since = floor
			}
			silent := now.Sub(since)
			switch {
			case silent >= timeout && s.clock.pending() > 0:
				// Bytes from the peer wait in the socket: this process
				// is behind in reading them, the peer is not silent.
				floor = now
			case silent >= timeout:
				s.silent.Store(true)
				_ = s.sess.Close()
				return
			case silent >= timeout/4 && pinging.CompareAndSwap(false, true):
				go func() {
					defer pinging.Store(false)
					_, _ = s.sess.Ping() // the answer moves the clock
				}()
			}
		}
	}
}

// Silent reports whether the session was closed by its liveness watch.
func (s *ClientSession) Silent() bool { return s.silent.Load() }
