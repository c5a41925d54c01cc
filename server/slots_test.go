package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// acquireAsync starts acquire for client and returns where its outcome arrives.
func acquireAsync(ctx context.Context, s *slots, client string) chan func() {
	got := make(chan func(), 1)
	go func() {
		release, err := s.acquire(ctx, client, true)
		if err != nil {
			release = nil
		}
		got <- release
	}()
	return got
}

// waitQueued waits until n jobs wait for a slot.
func waitQueued(t *testing.T, s *slots, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return s.load("").Queued == n }, 5*time.Second, time.Millisecond)
}

// servedFirst requires that first, not second, gets the slot that frees
// next (why says what it means if second does), and gives it back.
func servedFirst(t *testing.T, first, second chan func(), why string) {
	t.Helper()
	select {
	case release := <-first:
		require.NotNil(t, release, "the job was refused")
		release()
	case <-second:
		t.Fatal(why)
	case <-time.After(5 * time.Second):
		t.Fatal("no waiting job got the freed slot")
	}
}

// servedNext requires that job gets a slot, and gives it back.
func servedNext(t *testing.T, job chan func()) {
	t.Helper()
	select {
	case release := <-job:
		require.NotNil(t, release, "the job was refused")
		release()
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting job never got a slot")
	}
}

func TestSlotsServeWaitingClientsInTurn(t *testing.T) {
	ctx := context.Background()
	s := newSlots(2, 4)
	a1, err := s.acquire(ctx, "a", true)
	require.NoError(t, err)
	_, err = s.acquire(ctx, "a", true)
	require.NoError(t, err)

	// a waits for a third slot before b asks for its first.
	a3 := acquireAsync(ctx, s, "a")
	waitQueued(t, s, 1)
	b1 := acquireAsync(ctx, s, "b")
	waitQueued(t, s, 2)

	a1()
	servedFirst(t, b1, a3, "the freed slot went to a, served already, not to b, which waited and was never served")
	// b's slot, released, goes to a's waiting job.
	servedNext(t, a3)
	assert.Equal(t, protocol.Load{Slots: 2, Running: 1, Queued: 0}, s.load(""))
}

func TestSlotsEqualClientsInArrivalOrder(t *testing.T) {
	ctx := context.Background()
	s := newSlots(1, 4)
	first, err := s.acquire(ctx, "a", true)
	require.NoError(t, err)
	b := acquireAsync(ctx, s, "b")
	waitQueued(t, s, 1)
	c := acquireAsync(ctx, s, "c")
	waitQueued(t, s, 2)
	first()
	servedFirst(t, b, c, "c got the slot before b, which waited longer with as few compiles running")
	servedNext(t, c)
}

func TestSlotsBusyAndGiveUp(t *testing.T) {
	s := newSlots(1, 1)
	hold, err := s.acquire(context.Background(), "a", true)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	waiting := acquireAsync(ctx, s, "b")
	waitQueued(t, s, 1)

	_, err = s.acquire(context.Background(), "c", true)
	var refusal *Refusal
	require.ErrorAs(t, err, &refusal, "a full queue refuses as busy")
	assert.Equal(t, protocol.CodeBusy, refusal.Code)

	cancel()
	require.Nil(t, <-waiting, "a job whose client gave up gets no slot")
	assert.Equal(t, protocol.Load{Slots: 1, Running: 1, Queued: 0}, s.load(""))
	hold()
	hold() // a second call gives nothing back twice
	assert.Equal(t, protocol.Load{Slots: 1, Running: 0, Queued: 0}, s.load(""))
	bounded, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	again, err := s.acquire(bounded, "c", true)
	require.NoError(t, err, "the slot is free again")
	again()
}

func TestSlotsTurnGoesToClientServedLongestAgo(t *testing.T) {
	ctx := context.Background()
	s := newSlots(2, 4)
	a1, err := s.acquire(ctx, "a", true)
	require.NoError(t, err)
	defer a1()
	b1, err := s.acquire(ctx, "b", true)
	require.NoError(t, err)
	a2 := acquireAsync(ctx, s, "a")
	waitQueued(t, s, 1)
	b2 := acquireAsync(ctx, s, "b")
	waitQueued(t, s, 2)

	// b ends a job and asks again at once, with fewer running than a; a
	// was served longer ago, and its turn comes first: b cannot keep a
	// waiting by coming back each time its own job ends.
	b1()
	servedFirst(t, a2, b2, "b, served last, got the slot again before a, which waited for its turn")
	servedNext(t, b2)
}

func TestSlotsRememberABoundedNumberOfClients(t *testing.T) {
	s := newSlots(1, 4)
	for i := range 3 * rememberedClients {
		release, err := s.acquire(context.Background(), fmt.Sprint("session-", i), true)
		require.NoError(t, err)
		release()
	}
	assert.LessOrEqual(t, len(s.granted), rememberedClients+1, "every session ever seen is kept")
}

// A load report says how many of the jobs running and waiting are the
// asking client's, as a slot passes from one client to another.
func TestSlotsLoadCountsTheAskingClientsJobs(t *testing.T) {
	ctx := context.Background()
	s := newSlots(2, 4)
	a1, err := s.acquire(ctx, "a", true)
	require.NoError(t, err)
	b1, err := s.acquire(ctx, "b", true)
	require.NoError(t, err)
	a2 := acquireAsync(ctx, s, "a")
	waitQueued(t, s, 1)
	b2 := acquireAsync(ctx, s, "b")
	waitQueued(t, s, 2)
	assert.Equal(t, protocol.Load{Slots: 2, Running: 2, Queued: 2, Mine: 2}, s.load("a"))
	assert.Equal(t, protocol.Load{Slots: 2, Running: 2, Queued: 2, Mine: 2}, s.load("b"))
	assert.Equal(t, protocol.Load{Slots: 2, Running: 2, Queued: 2, Mine: 0}, s.load("c"))

	b1() // b's slot goes to a's waiting job: a was served longer ago than b
	got := <-a2
	require.NotNil(t, got)
	assert.Equal(t, 2, s.load("a").Mine, "a runs two")
	assert.Equal(t, 1, s.load("b").Mine, "b waits with one")
	a1()
	release := <-b2
	require.NotNil(t, release)
	assert.Equal(t, 1, s.load("a").Mine)
	assert.Equal(t, 1, s.load("b").Mine)
	got()
	release()
	assert.Equal(t, protocol.Load{Slots: 2}, s.load("a"))
	assert.Empty(t, s.runningBy, "no client's count kept at zero")
}

// A job that asks not to queue is refused as busy at once when every slot
// is taken, even with room in the queue; one that may queue waits.
func TestSlotsNoQueueRefusedAtOnce(t *testing.T) {
	s := newSlots(1, 4)
	release, err := s.acquire(t.Context(), "a", true)
	require.NoError(t, err)
	_, err = s.acquire(t.Context(), "b", false)
	var r *Refusal
	require.ErrorAs(t, err, &r)
	assert.Equal(t, protocol.CodeBusy, r.Code)
	assert.Zero(t, s.load("").Queued)
	queued := acquireAsync(t.Context(), s, "c")
	waitQueued(t, s, 1)
	release()
	servedNext(t, queued)
	again, err := s.acquire(t.Context(), "b", false)
	require.NoError(t, err, "a free slot is taken")
	again()
}
