package scale

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Two clients of make -j1 and 2 units each, one host of 2 slots: idle
// slot time counts only while some client has a unit made and not
// started, and only from the given start on.
func TestIdleWhileWaiting(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	runs := []unitRun{
		// client 0: its second unit is made at 1000 (the first ended) and
		// starts at 1300: 300 ms waiting, while one of 2 slots is idle
		// until 1200, both from 1200 to 1300.
		{start: at(0), end: at(1000), host: 0, cwd: "a"},
		{start: at(1300), end: at(2000), host: 0, cwd: "a"},
		// client 1: its second unit starts as its first ends, on the
		// client itself: no wait.
		{start: at(0), end: at(1200), host: 0, cwd: "b"},
		{start: at(1200), end: at(3000), host: -1, cwd: "b"},
	}
	clientOf := func(r unitRun) int {
		if r.cwd == "a" {
			return 0
		}
		return 1
	}
	idle, waited := idleWhileWaiting(runs, clientOf, []int{1, 1}, 2, 2, t0)
	assert.Equal(t, 300*time.Millisecond, waited)
	assert.Equal(t, 200*time.Millisecond+2*100*time.Millisecond, idle)

	idle, waited = idleWhileWaiting(runs, clientOf, []int{1, 1}, 2, 2, at(1250))
	assert.Equal(t, 50*time.Millisecond, waited, "from 1250 on")
	assert.Equal(t, 2*50*time.Millisecond, idle)

	idle, waited = idleWhileWaiting(runs, clientOf, []int{2, 2}, 2, 2, t0)
	assert.Equal(t, 1300*time.Millisecond, waited, "with -j2 a's second unit is made at once, and waits until 1300")
	assert.Equal(t, 200*time.Millisecond+2*100*time.Millisecond, idle)
}

// A unit compiled on a host runs in the job's copy of the client's tree.
func TestClientOf(t *testing.T) {
	clients := []*client{{dir: "/w/clients/c-1"}, {dir: "/w/clients/c-10"}}
	assert.Equal(t, 1, clientOf(clients, unitRun{cwd: "/dev/shm/s/tree-1/root/w/clients/c-10"}))
	assert.Equal(t, 0, clientOf(clients, unitRun{cwd: "/w/clients/c-1/src"}))
	assert.Equal(t, -1, clientOf(clients, unitRun{cwd: "/w/clients/c-2"}))
}
