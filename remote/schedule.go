package remote

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/dcc-build/dcc/protocol"
)

// Choosing a host for a job. Each reply from a host says its load (slots,
// jobs running, jobs waiting); the pool keeps, per host, the jobs of other
// clients in the last report ("others") and when it came. A host's free
// slots are its capacity for this pool (the host's slots, at most the
// configured njob) less this pool's jobs there now and less the others'.
//
// A report of a host this pool has jobs on is renewed by each reply. While
// jobs wait for a slot (CompileOr) and no host has one by the reports, the
// pool watches the hosts full of other clients' jobs (slotwatch.go): each
// says when a slot frees there for this pool, and the next waiting job goes
// there. Hosts past the watches' bound are asked for their load again once
// their reports are older than the mean job time (a status request, at
// most maxProbes at once, the oldest first). So a job waits in this client,
// not in the queue of a host that turned out full, and a slot that frees
// on a host where this client had nothing is used within a round trip.
//
// Among hosts with a whole slot free the one with the most wins; equals
// are broken in favour of the job's cache owner, else at random, so that
// clients seeing the same picture do not all send to the same host.

// Bounds of how old a report must be for its host to be asked again.
const (
	minStale     = 20 * time.Millisecond
	maxStale     = 5 * time.Second
	defaultStale = 100 * time.Millisecond
)

// maxProbes bounds the status requests a pool has in flight to learn
// hosts' load while jobs wait.
const maxProbes = 4

// regrantEvery is how often waiting jobs look again at hosts' reports
// (and ask for fresh ones) when no reply came meanwhile.
const regrantEvery = 20 * time.Millisecond

// capacity is how many jobs of this pool h runs at once: the host's slots,
// at most its configured njob.
func (h *host) capacity() int {
	if h.load.Slots > 0 {
		return min(h.cfg.Jobs, h.load.Slots)
	}
	return h.cfg.Jobs
}

// free is h's free slots for this pool by its last report.
func (h *host) free() int {
	return h.capacity() - h.inFlight - h.others
}

// staleAfter is the age past which a host's report is asked again.
func (p *Pool) staleAfter() time.Duration {
	if p.meanJob == 0 {
		return defaultStale
	}
	return max(minStale, min(maxStale, p.meanJob))
}

// setLoad records a load report at now. The others' jobs are those the
// report does not count as this session's when it was made: this pool's
// own count of its jobs there (h.inFlight) is of the moment the report is
// read, and a job of its own that ended in between, counted in the report
// but no longer here, would make a free slot look taken.
func (h *host) setLoad(l protocol.Load, now time.Time) {
	h.load = l
	h.others = max(0, l.Running+l.Queued-l.Mine)
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
// when none has a whole slot free. No job is given to a full host to
// queue there: it would wait while a slot frees on another host; jobs
// wait in the pool instead (wait, slotwatch.go). A host backed off after failing jobs
// itself (see compileOnce) is left out until its backoff is over. p.mu must
// be held.
func (p *Pool) best(toolchainKey string, preferred *host) *host {
	var best *host
	bestFree, ties := 0, 0
	now := p.opts.Now()
	for _, h := range p.hosts {
		if !p.usable(h) || !h.offers(toolchainKey) || now.Before(h.until) {
			continue
		}
		f := h.free()
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
	// turn orders the waiters: a job that waits again (its host answered
	// "busy") keeps the turn it got when it first waited.
	turn   uint64
	key    string
	owners []*host
	// ready is closed when the job got a host: h, counted in flight there,
	// with its session sess of generation gen.
	ready chan struct{}
	h     *host
	sess  *protocol.ClientSession
	gen   uint64
}

// wait queues a job of toolchainKey for the next free slot, at its turn
// (0: a new one, at the end of the queue). p.mu must be held.
func (p *Pool) wait(toolchainKey string, owners []*host, turn uint64) *waiter {
	if turn == 0 {
		p.lastTurn++
		turn = p.lastTurn
	}
	w := &waiter{turn: turn, key: toolchainKey, owners: owners, ready: make(chan struct{})}
	i, _ := slices.BinarySearchFunc(p.waiters, turn, func(o *waiter, t uint64) int { return cmp.Compare(o.turn, t) })
	p.waiters = slices.Insert(p.waiters, i, w)
	p.armRegrant()
	return w
}

// unwait takes w out of the queue; false when it was granted a host
// meanwhile (the caller then owns that slot). p.mu must be held.
func (p *Pool) unwait(w *waiter) bool {
	for i, o := range p.waiters {
		if o == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			if len(p.waiters) == 0 {
				p.endWatches()
			}
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
		p.watch(full)
		p.probe(full)
		p.armRegrant()
	} else {
		p.endWatches()
	}
}

// probe asks hosts that offer one of the toolchains jobs wait for, and
// whose reports are stale, for their load again (see above). p.mu must be
// held.
func (p *Pool) probe(waitedFor map[string]bool) {
	if p.probing >= maxProbes || p.closed {
		return
	}
	now := p.opts.Now()
	stale := p.staleAfter()
	candidates := p.fullOfOthers(waitedFor, func(h *host) bool {
		return h.probing || h.watching || now.Sub(h.loadAt) < stale
	})
	for _, h := range candidates[:min(len(candidates), maxProbes-p.probing)] {
		h.probing = true
		p.probing++
		p.probes++
		sess, gen := h.sess, h.gen
		p.dials.Add(1)
		go p.askLoad(h, sess, gen)
	}
}

// fullOfOthers returns the usable hosts, not backed off, that offer one
// of the toolchains in waitedFor and have room for a job of this pool by
// its own jobs there (so that other clients' jobs fill them), less those
// skip says, the hosts heard from longest ago first: those whose slots
// may free for waiting jobs without a reply of this pool's telling it.
// p.mu must be held.
func (p *Pool) fullOfOthers(waitedFor map[string]bool, skip func(*host) bool) []*host {
	now := p.opts.Now()
	var hosts []*host
	for _, h := range p.hosts {
		if !p.usable(h) || now.Before(h.until) || h.capacity()-h.inFlight < 1 || skip(h) {
			continue
		}
		for key := range waitedFor {
			if h.offers(key) {
				hosts = append(hosts, h)
				break
			}
		}
	}
	slices.SortFunc(hosts, func(a, b *host) int { return a.loadAt.Compare(b.loadAt) })
	return hosts
}

// askLoad asks h for its load on sess (of generation gen), and gives the
// slots it reports to waiting jobs.
func (p *Pool) askLoad(h *host, sess *protocol.ClientSession, gen uint64) {
	defer p.dials.Done()
	ctx, cancel := context.WithTimeout(p.base, h.cfg.ConnectTimeout)
	defer cancel()
	resp, err := sess.Call(ctx, &protocol.Status{}, protocol.MsgStatusResult)
	p.mu.Lock()
	defer p.mu.Unlock()
	h.probing = false
	p.probing--
	if r, ok := resp.(*protocol.StatusResult); ok && err == nil {
		if gen == h.gen {
			h.setLoad(r.Load, p.opts.Now())
		}
	} else if p.base.Err() == nil {
		p.requestFailed(ctx, h, gen, "load request", err)
	}
	p.grant()
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
