package scale

import (
	"slices"
	"strings"
	"time"
)

// Idle slots while units wait: the goal's "no host idle while units
// queue elsewhere", measured. make keeps a client's -j units going (one
// more as each ends, up to its units), so at any instant a client has
// min(units, jobs + ended) - started units made and not started: waiting
// in the daemon for a slot, or in a host's queue. Starts and ends are the
// compiles' own (units.log), on a host or on the client. While some client
// has such a unit, every free host slot is idle time the goal counts.

// waitEvent is a unit's start or end, for idleWhileWaiting.
type waitEvent struct {
	unitEvent
	client int
	onHost bool
}

// idleWhileWaiting returns the hosts' idle slot time while some client had
// a unit waiting, and how long some unit waited, from from on (the first
// wave's ramp, the hosts' first units, is measured apart). clientOf says which
// client ran a unit (-1: none known, left out); jobs and units are each
// client's make -j and unit count; slots is the hosts' slots in all.
func idleWhileWaiting(runs []unitRun, clientOf func(unitRun) int, jobs []int, units, slots int, from time.Time) (idle, waited time.Duration) {
	var evs []waitEvent
	for _, r := range runs {
		c := clientOf(r)
		if c < 0 {
			continue
		}
		onHost := r.host >= 0
		evs = append(evs, waitEvent{unitEvent{r.start, true}, c, onHost}, waitEvent{unitEvent{r.end, false}, c, onHost})
	}
	if len(evs) == 0 {
		return 0, 0
	}
	slices.SortStableFunc(evs, func(a, b waitEvent) int { return compareUnitEvents(a.unitEvent, b.unitEvent) })
	ended := make([]int, len(jobs))
	started := make([]int, len(jobs))
	waitingClients := 0
	isWaiting := func(c int) bool { return min(units, jobs[c]+ended[c])-started[c] > 0 }
	for c := range jobs {
		if isWaiting(c) {
			waitingClients++
		}
	}
	running := 0
	last := evs[0].at
	for _, e := range evs {
		if last.Before(from) { // nothing counts before from
			last = from
			if e.at.Before(from) {
				last = e.at
			}
		}
		if d := e.at.Sub(last); d > 0 && waitingClients > 0 {
			waited += d
			idle += time.Duration(max(0, slots-running)) * d
		}
		last = e.at
		before := isWaiting(e.client)
		switch {
		case e.start:
			started[e.client]++
		default:
			ended[e.client]++
		}
		if e.onHost {
			if e.start {
				running++
			} else {
				running--
			}
		}
		if after := isWaiting(e.client); after != before {
			if after {
				waitingClients++
			} else {
				waitingClients--
			}
		}
	}
	return idle, waited
}

// clientOf returns the index of the client whose tree r compiled in
// (its working directory, on a host under the job's tree), -1 for none.
func clientOf(clients []*client, r unitRun) int {
	for i, c := range clients {
		if strings.HasSuffix(r.cwd, c.dir) || strings.Contains(r.cwd+"/", c.dir+"/") {
			return i
		}
	}
	return -1
}
