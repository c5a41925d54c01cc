package server

import (
	"context"
	"sync"

	"github.com/dcc-build/dcc/protocol"
)

// slots is the admission control of compiles: at most size run at once, at
// most queueLen wait for a slot, and the rest are refused as busy.
//
// Waiting jobs are served in turn by client, not in arrival order: a slot
// that frees goes to the oldest waiting job of the client whose last slot
// was granted longest ago (a client that got none yet first). So a client
// that filled the queue first does not take every slot that frees while
// others wait, and no client waits for more than one turn of the others.
type slots struct {
	size, queueLen int

	mu      sync.Mutex
	running int
	// granted is, by client, the number of the last slot granted to it
	// (seq counts them); past rememberedClients, the clients with no job
	// waiting are dropped from it.
	granted map[string]uint64
	seq     uint64
	// runningBy is, by client, its compiles running (no entry at zero).
	runningBy map[string]int
	// waiting holds the waiting jobs in arrival order.
	waiting []*slotWaiter
	// watchers wait to be told of a free slot, in arrival order; notices
	// are the free slots told and not yet taken up; watchesEnded: the
	// server is shutting down (slotnotice.go).
	watchers     []*slotWatcher
	notices      []*slotNotice
	watchesEnded bool
}

// slotWaiter is a job waiting for a slot; ready is closed when it got one.
type slotWaiter struct {
	client  string
	ready   chan struct{}
	granted bool
}

// rememberedClients bounds how many clients' last turns are kept: one
// forgotten counts as never served at its next turn.
const rememberedClients = 1024

// newSlots returns admission control for size compiles at once and queueLen waiting.
func newSlots(size, queueLen int) *slots {
	return &slots{size: size, queueLen: queueLen, granted: map[string]uint64{}, runningBy: map[string]int{}}
}

// acquire takes a slot for a job of client, waiting in the queue while all
// are taken (refused as busy at once instead when !queue), until ctx ends.
// A full queue is a "busy" *Refusal. The caller calls release once.
func (s *slots) acquire(ctx context.Context, client string, queue bool) (release func(), err error) {
	s.mu.Lock()
	s.takeUpNotice(client)
	if s.running < s.size && len(s.waiting) == 0 {
		s.start(client)
		s.mu.Unlock()
		return s.releaser(client), nil
	}
	if !queue {
		s.mu.Unlock()
		return nil, refuse(protocol.CodeBusy, "all %d compile slots are taken, and the client keeps its jobs waiting itself", s.size)
	}
	if len(s.waiting) >= s.queueLen {
		s.mu.Unlock()
		return nil, refuse(protocol.CodeBusy, "all %d compile slots are taken and %d jobs are waiting", s.size, s.queueLen)
	}
	w := &slotWaiter{client: client, ready: make(chan struct{})}
	s.waiting = append(s.waiting, w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		return s.releaser(client), nil
	case <-ctx.Done():
		s.mu.Lock()
		granted := w.granted
		if !granted {
			s.remove(w)
		}
		s.mu.Unlock()
		if granted {
			// The slot came as the wait ended: pass it on.
			s.releaser(client)()
		}
		return nil, ctx.Err()
	}
}

// start counts a compile of client as running. s.mu must be held.
func (s *slots) start(client string) {
	s.running++
	s.runningBy[client]++
	s.served(client)
}

// served records that client got a slot now. s.mu must be held.
func (s *slots) served(client string) {
	s.seq++
	s.granted[client] = s.seq
	if len(s.granted) > rememberedClients {
		s.forgetUnqueued()
	}
}

// forgetUnqueued drops the turns of the clients with no job waiting.
// s.mu must be held.
func (s *slots) forgetUnqueued() {
	waiting := map[string]bool{}
	for _, w := range s.waiting {
		waiting[w.client] = true
	}
	for c := range s.granted {
		if !waiting[c] {
			delete(s.granted, c)
		}
	}
}

// remove takes w out of the queue. s.mu must be held.
func (s *slots) remove(w *slotWaiter) {
	for i, o := range s.waiting {
		if o == w {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			return
		}
	}
}

// releaser returns the function that gives client's slot back, once.
func (s *slots) releaser(client string) func() {
	var once sync.Once
	return func() { once.Do(func() { s.release(client) }) }
}

// release gives client's slot back: to the oldest waiting job of the
// client served longest ago, or free (told to a watching session).
func (s *slots) release(client string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runningBy[client]--; s.runningBy[client] <= 0 {
		delete(s.runningBy, client)
	}
	if len(s.waiting) == 0 {
		s.running--
		s.tellWatchers()
		return
	}
	next := s.servedLongestAgo(len(s.waiting), func(i int) string { return s.waiting[i].client })
	w := s.waiting[next]
	s.waiting = append(s.waiting[:next], s.waiting[next+1:]...)
	s.served(w.client) // the slot passes to w: running stays
	s.runningBy[w.client]++
	w.granted = true
	close(w.ready)
}

// servedLongestAgo returns which of n clients (client(i) names the i-th)
// got its last slot longest ago, the first among equals. s.mu must be held.
func (s *slots) servedLongestAgo(n int, client func(i int) string) int {
	next := 0
	for i := 1; i < n; i++ {
		if s.granted[client(i)] < s.granted[client(next)] {
			next = i
		}
	}
	return next
}

// load reports the slots, the compiles running and those waiting, and how
// many of them are client's.
func (s *slots) load(client string) protocol.Load {
	s.mu.Lock()
	defer s.mu.Unlock()
	mine := s.runningBy[client]
	for _, w := range s.waiting {
		if w.client == client {
			mine++
		}
	}
	return protocol.Load{Slots: s.size, Running: s.running, Queued: len(s.waiting), Mine: mine}
}
