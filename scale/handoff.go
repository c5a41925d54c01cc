package scale

import (
	"slices"
	"time"
)

// handoffs measures how long the hosts' slots stayed idle between units
// while every client was building: for each unit a host started before
// the first client ended, the time since the slot it took came free (a
// unit's end there, the slots taken in the order they came free). A slot's
// first unit, timed from the row's start, is the first wave's ramp and
// counted apart.
type handoffs struct {
	// gaps are the handoffs after the first wave, shortest first.
	gaps []time.Duration
	// firstWave is the mean time from the row's start to a slot's first
	// unit, over the slots used; waveEnd is the latest such first unit.
	firstWave time.Duration
	waveEnd   time.Time
}

// unitEvent is a unit's start or end.
type unitEvent struct {
	at    time.Time
	start bool
}

// compareUnitEvents orders events by time, ends before starts at the same
// instant: a slot freed then is taken then.
func compareUnitEvents(a, b unitEvent) int {
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	switch {
	case a.start == b.start:
		return 0
	case a.start:
		return 1
	}
	return -1
}

// measureHandoffs measures the handoffs of runs (placed by placeRuns) on
// hosts of slots each, from start until end.
func measureHandoffs(runs []unitRun, slots int, start, end time.Time) handoffs {
	byHost := map[int][]unitEvent{}
	for _, r := range runs {
		if r.host < 0 || !r.start.Before(end) {
			continue
		}
		byHost[r.host] = append(byHost[r.host], unitEvent{r.start, true}, unitEvent{r.end, false})
	}
	var h handoffs
	var first time.Duration
	firsts := 0
	for _, evs := range byHost {
		slices.SortFunc(evs, compareUnitEvents)
		var freed []time.Time // slots freed since a unit ended, oldest first
		unused := slots
		for _, e := range evs {
			switch {
			case !e.start:
				freed = append(freed, e.at)
			case len(freed) > 0:
				h.gaps = append(h.gaps, e.at.Sub(freed[0]))
				freed = freed[1:]
			case unused > 0:
				unused--
				first += e.at.Sub(start)
				firsts++
				if e.at.After(h.waveEnd) {
					h.waveEnd = e.at
				}
			}
		}
	}
	slices.Sort(h.gaps)
	if firsts > 0 {
		h.firstWave = first / time.Duration(firsts)
	}
	return h
}

// quantile returns the q-quantile (0-1) of sorted gaps, 0 when none.
func (h handoffs) quantile(q float64) time.Duration {
	if len(h.gaps) == 0 {
		return 0
	}
	return h.gaps[min(len(h.gaps)-1, int(q*float64(len(h.gaps))))]
}

// over returns how many gaps are longer than d, and their share of all
// the gaps' time.
func (h handoffs) over(d time.Duration) (n int, share float64) {
	var long, all time.Duration
	for _, g := range h.gaps {
		all += g
		if g > d {
			n++
			long += g
		}
	}
	if all > 0 {
		share = float64(long) / float64(all)
	}
	return n, share
}
