package server

import (
	"context"
	"sync"

	"github.com/dcc-build/dcc/protocol"
)

// slots is the admission control of compiles: at most size run at once, at
// most queueLen wait for a slot, and the rest are refused as busy.
type slots struct {
	sem      chan struct{}
	queueLen int

	mu      sync.Mutex
	running int
	queued  int
}

// newSlots returns admission control for size compiles at once and queueLen waiting.
func newSlots(size, queueLen int) *slots {
	return &slots{sem: make(chan struct{}, size), queueLen: queueLen}
}

// acquire takes a slot, waiting in the queue while all are taken, until ctx
// ends. A full queue is a "busy" *Refusal. The caller calls release once.
func (s *slots) acquire(ctx context.Context) (release func(), err error) {
	select {
	case s.sem <- struct{}{}:
		s.mu.Lock()
		s.running++
		s.mu.Unlock()
		return s.release, nil
	default:
	}
	s.mu.Lock()
	if s.queued >= s.queueLen {
		s.mu.Unlock()
		return nil, refuse(protocol.CodeBusy, "all %d compile slots are taken and %d jobs are waiting", cap(s.sem), s.queueLen)
	}
	s.queued++
	s.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
		s.mu.Lock()
		s.queued--
		s.running++
		s.mu.Unlock()
		return s.release, nil
	case <-ctx.Done():
		s.mu.Lock()
		s.queued--
		s.mu.Unlock()
		return nil, ctx.Err()
	}
}

// release gives a slot back.
func (s *slots) release() {
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
	<-s.sem
}

// load reports the slots, the compiles running and those waiting.
func (s *slots) load() protocol.Load {
	s.mu.Lock()
	defer s.mu.Unlock()
	return protocol.Load{Slots: cap(s.sem), Running: s.running, Queued: s.queued}
}
