package server

import (
	"context"
	"slices"
	"time"
)

// Slot notices. A client whose jobs wait for a slot on any of its hosts
// asks each host that has none free to tell it when one frees (a Status
// with AwaitSlot), instead of queueing jobs there: a job queued at one
// host would wait while a slot frees on another. A slot that frees with no
// job waiting here is told to one watching session, the one served
// longest ago (as waiting jobs are served), and counts as held for it for
// noticeHold: further free slots go to the next watchers, not to the same
// one. The hold ends when a job of that session comes (wherever it then
// waits), when the session declines the slot or watches again (it found a
// slot elsewhere, or has no job waiting any more), or when the time is up,
// and the next watcher is told. A job of another session that comes meanwhile
// still takes a held slot: a slot is never kept idle for a notice.

// noticeHold is how long a slot told to a watching session counts as its:
// the round trip of the notice and the job, with room for a busy client.
const noticeHold = 200 * time.Millisecond

// maxWatchers bounds the sessions waiting for a notice at once; a watch
// past it is answered at once, with the load as it is.
const maxWatchers = 4096

// slotWatcher is a session waiting to be told of a free slot.
type slotWatcher struct {
	session string
	ready   chan struct{}
	told    bool
}

// slotNotice is a slot told to session and not yet taken up.
type slotNotice struct {
	session string
}

// awaitFree returns when a slot is free for session: at once when one is
// free and not held for another session's notice, else when a slot that
// frees is told to it, when ctx ends, or when the server ends the watches
// (endWatches).
func (s *slots) awaitFree(ctx context.Context, session string) {
	s.mu.Lock()
	if s.watchesEnded || len(s.watchers) >= maxWatchers {
		s.mu.Unlock()
		return
	}
	s.takeUpNotice(session) // watching again: the slot told before is not coming
	w := &slotWatcher{session: session, ready: make(chan struct{})}
	s.watchers = append(s.watchers, w)
	s.tellWatchers()
	s.mu.Unlock()
	select {
	case <-w.ready:
	case <-ctx.Done():
		s.mu.Lock()
		if !w.told {
			s.watchers = slices.DeleteFunc(s.watchers, func(o *slotWatcher) bool { return o == w })
		}
		s.mu.Unlock()
	}
}

// tellWatchers tells free slots to watching sessions, one slot each, in
// turn. s.mu must be held.
func (s *slots) tellWatchers() {
	for len(s.watchers) > 0 && len(s.waiting) == 0 && s.running+len(s.notices) < s.size {
		next := s.servedLongestAgo(len(s.watchers), func(i int) string { return s.watchers[i].session })
		w := s.watchers[next]
		s.watchers = slices.Delete(s.watchers, next, next+1)
		n := &slotNotice{session: w.session}
		s.notices = append(s.notices, n)
		w.told = true
		close(w.ready)
		time.AfterFunc(noticeHold, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.dropNotice(func(o *slotNotice) bool { return o == n }) {
				s.tellWatchers()
			}
		})
	}
}

// decline ends the oldest hold of a slot told to session, which said it
// will not use it, and tells the slot to the next watcher.
func (s *slots) decline(session string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.takeUpNotice(session)
	s.tellWatchers()
}

// takeUpNotice ends the oldest hold of a slot told to session, whose job
// came. s.mu must be held.
func (s *slots) takeUpNotice(session string) {
	s.dropNotice(func(o *slotNotice) bool { return o.session == session })
}

// dropNotice ends the first hold that match says; false when none did.
// s.mu must be held.
func (s *slots) dropNotice(match func(*slotNotice) bool) bool {
	if i := slices.IndexFunc(s.notices, match); i >= 0 {
		s.notices = slices.Delete(s.notices, i, i+1)
		return true
	}
	return false
}

// endWatches answers every watch, and every later one at once: the server
// is shutting down.
func (s *slots) endWatches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchesEnded = true
	for _, w := range s.watchers {
		close(w.ready)
	}
	s.watchers = nil
}
