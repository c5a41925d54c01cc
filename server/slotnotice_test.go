package server

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awaitAsync starts awaitFree for session and returns a channel closed when
// it returns.
func awaitAsync(ctx context.Context, s *slots, session string) chan struct{} {
	done := make(chan struct{})
	go func() {
		s.awaitFree(ctx, session)
		close(done)
	}()
	return done
}

// waitWatchers waits until n sessions watch s.
func waitWatchers(t *testing.T, s *slots, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.watchers) == n
	}, 5*time.Second, time.Millisecond)
}

// taken takes a slot of s for client and returns its release.
func taken(t *testing.T, s *slots, client string) func() {
	t.Helper()
	release, err := s.acquire(t.Context(), client, true)
	require.NoError(t, err)
	return release
}

// watchInOrder starts a watch for each session in turn, each registered
// before the next, and returns where each ends.
func watchInOrder(t *testing.T, s *slots, sessions ...string) []chan struct{} {
	t.Helper()
	var done []chan struct{}
	for i, session := range sessions {
		done = append(done, awaitAsync(t.Context(), s, session))
		waitWatchers(t, s, i+1)
	}
	return done
}

// told reports whether a watch returned within d.
func told(done chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func TestSlotNoticeAnsweredAtOnceWhenASlotIsFree(t *testing.T) {
	s := newSlots(1, 4)
	assert.True(t, told(awaitAsync(t.Context(), s, "b"), time.Second))
}

// A slot that frees is told to one watching session; the next hears of it
// only once the first's hold is over without its job coming.
func TestSlotNoticeGoesToOneWatcherAtATime(t *testing.T) {
	s := newSlots(1, 4)
	release := taken(t, s, "a")
	w := watchInOrder(t, s, "b", "c")
	b, c := w[0], w[1]
	assert.False(t, told(b, 20*time.Millisecond), "told while the slot was taken")

	release()
	require.True(t, told(b, time.Second), "the first watcher is told the freed slot")
	assert.False(t, told(c, noticeHold/2), "the slot told to b is told to c too")
	assert.True(t, told(c, 5*noticeHold), "b's job did not come: the slot goes to the next watcher")
}

// A job of the session told a slot ends its hold: it took the slot, and
// the next watcher is told when that job ends.
func TestSlotNoticeTakenUpByTheSessionsJob(t *testing.T) {
	s := newSlots(1, 4)
	release := taken(t, s, "a")
	w := watchInOrder(t, s, "b", "c")
	b, c := w[0], w[1]
	release()
	require.True(t, told(b, time.Second))

	releaseB, err := s.acquire(t.Context(), "b", true)
	require.NoError(t, err)
	assert.False(t, told(c, noticeHold/10), "told while b's job runs")
	releaseB()
	assert.True(t, told(c, noticeHold/4), "b's job ended: c is told at once, not when b's hold would have ended")
}

// A slot that frees goes to a job waiting here before any notice.
func TestSlotNoticeWaitingJobsComeFirst(t *testing.T) {
	s := newSlots(1, 4)
	release := taken(t, s, "a")
	b := watchInOrder(t, s, "b")[0]
	queued := acquireAsync(t.Context(), s, "c")
	waitQueued(t, s, 1)
	release()
	servedNext(t, queued)
	assert.True(t, told(b, time.Second), "c's job ended: b is told")
}

// A session served longest ago is told first, as waiting jobs are served.
func TestSlotNoticeInTurn(t *testing.T) {
	s := newSlots(1, 4)
	taken(t, s, "b")() // b is served before a's job; c never
	release := taken(t, s, "a")
	w := watchInOrder(t, s, "b", "c")
	b, c := w[0], w[1]
	release()
	assert.True(t, told(c, time.Second), "c, never served, is told first")
	assert.False(t, told(b, noticeHold/2))
}

// A watch given up is forgotten, and a server shutting down answers the
// rest.
func TestSlotNoticeGivenUpAndEnded(t *testing.T) {
	s := newSlots(1, 4)
	release, err := s.acquire(t.Context(), "a", true)
	require.NoError(t, err)
	defer release()
	ctx, cancel := context.WithCancel(t.Context())
	b := awaitAsync(ctx, s, "b")
	c := awaitAsync(t.Context(), s, "c")
	waitWatchers(t, s, 2)
	cancel()
	require.True(t, told(b, time.Second))
	waitWatchers(t, s, 1)

	s.endWatches()
	assert.True(t, told(c, time.Second), "ended watches are answered")
	assert.True(t, told(awaitAsync(t.Context(), s, "d"), time.Second), "a watch after the end is answered at once")
}

// A session that declines the slot told to it, or watches again, ends its
// hold: the next watcher is told at once.
func TestSlotNoticeDeclinedGoesOn(t *testing.T) {
	for _, how := range []string{"declines", "watches again"} {
		t.Run(how, func(t *testing.T) {
			s := newSlots(1, 4)
			release := taken(t, s, "a")
			w := watchInOrder(t, s, "b", "c")
			b, c := w[0], w[1]
			release()
			require.True(t, told(b, time.Second))
			if how == "declines" {
				s.decline("b")
			} else {
				awaitAsync(t.Context(), s, "b")
			}
			assert.True(t, told(c, noticeHold/4), "b %s: c is told at once, not when b's hold would have ended", how)
		})
	}
}
