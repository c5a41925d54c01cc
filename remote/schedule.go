package remote

import (
	"math/rand/v2"
	"time"

	"github.com/dcc-build/dcc/protocol"
)

// Choosing a host for a job. Each reply from a host says its load (slots,
// jobs running, jobs waiting); the pool keeps, per host, the jobs of other
// clients in the last report ("others") and when it came. A host's free
// slots are its capacity for this pool (the host's slots, at most the
// configured njob) less this pool's jobs there now and less the others'.
// The others' count is an estimate that ages: their jobs end, so it is
// taken as shrinking linearly to nothing over twice the mean job time this
// pool sees. A host this pool has no job on is therefore tried again once
// its last report is old (the job may wait in the host's short queue; the
// reply brings a fresh report), instead of being left out for good on a
// stale "full".
//
// Among hosts with a whole slot free the one with the most wins; equals
// are broken in favour of the job's cache owner, else at random, so that
// clients seeing the same picture do not all send to the same host.

// Bounds of the span over which a load report ages to nothing.
const (
	minLoadSpan     = 20 * time.Millisecond
	maxLoadSpan     = 10 * time.Second
	defaultLoadSpan = 400 * time.Millisecond
)

// regrantEvery is how often waiting jobs look again at hosts' aging
// reports when no reply came meanwhile.
const regrantEvery = 20 * time.Millisecond

// capacity is how many jobs of this pool h runs at once: the host's slots,
// at most its configured njob.
func (h *host) capacity() int {
	if h.load.Slots > 0 {
		return min(h.cfg.Jobs, h.load.Slots)
	}
	return h.cfg.Jobs
}

// free is h's free slots for this pool at now, by the estimate above.
func (p *Pool) free(h *host, now time.Time) float64 {
	others := float64(h.others)
	if others > 0 {
		span := max(minLoadSpan, min(maxLoadSpan, 2*p.meanJob))
		if p.meanJob == 0 {
			span = defaultLoadSpan
		}
		others *= max(0, 1-float64(now.Sub(h.loadAt))/float64(span))
	}
	return float64(h.capacity()-h.inFlight) - others
}

// setLoad records a load report at now; mine is this pool's jobs the
// report counts.
func (h *host) setLoad(l protocol.Load, mine int, now time.Time) {
	h.load = l
	h.others = max(0, l.Running+l.Queued-mine)
	h.loadAt = now
}

// noteJobTime adds a job's duration to the pool's mean (a moving average
// over about the last 16 jobs). p.mu must be held.
func (p *Pool) noteJobTime(d time.Duration) {
	if p.meanJob == 0 {
		p.meanJob = d
		return
	}
	p.meanJob += (d - p.meanJob) / 16
}

// best returns the usable host offering toolchainKey with the most free
// slots, preferred among equals (then one of the equals at random), or nil
// when none has a whole slot free. A host backed off after failing jobs
// itself (see compileOnce) is left out until its backoff is over. p.mu must
// be held.
func (p *Pool) best(toolchainKey string, preferred *host) *host {
	var best *host
	var bestFree float64
	ties := 0
	now := p.opts.Now()
	for _, h := range p.hosts {
		if !p.usable(h) || !h.offers(toolchainKey) || now.Before(h.until) {
			continue
		}
		f := p.free(h, now)
		if f < 1 {
			continue
		}
		switch {
		case best == nil || f > bestFree:
			best, bestFree, ties = h, f, 1
		case f == bestFree && best != preferred:
			ties++
			if h == preferred || rand.IntN(ties) == 0 {
				best = h
			}
		}
	}
	return best
}

// waiter is a job waiting for a host slot (CompileOr).
type waiter struct {
	key    string
	owners []*host
	// ready is closed when the job got a host: h, counted in flight there,
	// with its session sess of generation gen.
	ready chan struct{}
	h     *host
	sess  *protocol.ClientSession
	gen   uint64
}

// wait queues a job of toolchainKey for the next free slot. p.mu must be
// held.
func (p *Pool) wait(toolchainKey string, owners []*host) *waiter {
	w := &waiter{key: toolchainKey, owners: owners, ready: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.armRegrant()
	return w
}

// unwait takes w out of the queue; false when it was granted a host
// meanwhile (the caller then owns that slot). p.mu must be held.
func (p *Pool) unwait(w *waiter) bool {
	for i, o := range p.waiters {
		if o == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// grant gives free slots to waiting jobs, first come first served. p.mu
// must be held.
func (p *Pool) grant() {
	if len(p.waiters) == 0 {
		return
	}
	var full map[string]bool // toolchains no host has a slot for now
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		if full[w.key] {
			kept = append(kept, w)
			continue
		}
		h := p.best(w.key, p.firstUsable(w.owners))
		if h == nil {
			if full == nil {
				full = map[string]bool{}
			}
			full[w.key] = true
			kept = append(kept, w)
			continue
		}
		h.inFlight++
		h.sent++
		w.h, w.sess, w.gen = h, h.sess, h.gen
		close(w.ready)
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
	if len(p.waiters) > 0 {
		p.armRegrant()
	}
}

// armRegrant makes grant run again soon, for reports that aged meanwhile.
// p.mu must be held.
func (p *Pool) armRegrant() {
	if p.regrant || p.closed {
		return
	}
	p.regrant = true
	time.AfterFunc(regrantEvery, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.regrant = false
		p.grant()
	})
}
