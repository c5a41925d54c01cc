package protocol

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrSilent is a session closed by its liveness watch: while calls were in
// flight, the peer sent nothing, not even the answer to a ping, for the
// liveness timeout. Its process is stopped, its machine gone, or the
// network between cut; a peer busy with a long compile still answers pings.
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

// Watch closes the session when the server sends nothing for timeout while
// calls are in flight on it: a frame of any kind counts, and after a quarter
// of timeout without one the session pings, so a server that is up answers
// within the window even while all its jobs are long compiles. Calls on a
// session closed this way fail with ErrSilent. A timeout of 0 or less
// watches nothing. Watch returns at once; the watch ends with the session.
//
// An idle session, with no call in flight, is not watched and costs
// nothing: no clock ticks, no pings. The silence a call may be blamed for
// is counted from the moment the session stopped being idle, not from the
// last bytes heard before, so a session idle for long on a server that is
// fine is kept; a server that died or stalled while the session was idle is
// found by the next call, which fails with ErrSilent about timeout after it
// started.
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

// watch runs the liveness watch: it waits, without a clock, for a call to
// start, watches the session while calls are in flight, and waits again.
func (s *ClientSession) watch(timeout time.Duration) {
	tick := max(timeout/8, time.Millisecond)
	t := time.NewTicker(tick)
	t.Stop() // runs only while calls are in flight
	defer t.Stop()
	var pinging atomic.Bool
	for {
		floor, ok := s.calls.await(s.sess.CloseChan())
		if !ok {
			return
		}
		t.Reset(tick)
		if !s.watchCalls(t.C, tick, timeout, floor, &pinging) {
			return
		}
		t.Stop()
	}
}

// watchCalls watches the session from floor, when its calls began, until
// no call is in flight (true) or the session is closed (false).
func (s *ClientSession) watchCalls(ticks <-chan time.Time, tick, timeout time.Duration, floor time.Time, pinging *atomic.Bool) bool {
	last := time.Now() // the last tick
	for {
		select {
		case <-s.sess.CloseChan():
			return false
		case now := <-ticks:
			s.calls.ticks.Add(1)
			if s.calls.idle() {
				return true
			}
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
				return false
			case silent >= timeout/4 && pinging.CompareAndSwap(false, true):
				go func() {
					defer pinging.Store(false)
					_, _ = s.sess.Ping() // the answer moves the clock
				}()
			}
		}
	}
}

// inFlight counts a session's calls in flight for its liveness watch, which
// runs only while there are some.
type inFlight struct {
	mu sync.Mutex
	n  int
	// since is when n last went from 0 to 1.
	since time.Time
	// started holds a token once n went from 0 to 1 (capacity 1; made on
	// first use).
	started chan struct{}
	// ticks counts the watch's clock ticks (for the tests).
	ticks atomic.Int64
}

// startedLocked returns the started channel, making it. f.mu is held.
func (f *inFlight) startedLocked() chan struct{} {
	if f.started == nil {
		f.started = make(chan struct{}, 1)
	}
	return f.started
}

// begin counts a call in flight until end.
func (f *inFlight) begin() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.n == 1 {
		f.since = time.Now()
		select {
		case f.startedLocked() <- struct{}{}:
		default: // a token waits already: the watch reads n and since anew
		}
	}
}

// end ends a call begun with begin.
func (f *inFlight) end() {
	f.mu.Lock()
	f.n--
	f.mu.Unlock()
}

// idle reports whether no call is in flight.
func (f *inFlight) idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n == 0
}

// await waits until a call is in flight and returns when the calls began,
// or false once closed is closed.
func (f *inFlight) await(closed <-chan struct{}) (time.Time, bool) {
	for {
		f.mu.Lock()
		n, since, started := f.n, f.since, f.startedLocked()
		f.mu.Unlock()
		if n > 0 {
			return since, true
		}
		select {
		case <-closed:
			return time.Time{}, false
		case <-started:
		}
	}
}

// Silent reports whether the session was closed by its liveness watch.
func (s *ClientSession) Silent() bool { return s.silent.Load() }
