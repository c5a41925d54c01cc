package remote

import (
	"context"

	"github.com/dcc-build/dcc/protocol"
)

// Watching hosts for a free slot. While jobs wait in this pool (no host
// has a slot free for them by the reports), the pool asks each host that
// could take them and is full of other clients' jobs to say when a slot
// frees there (a Status with AwaitSlot, answered when the host tells this
// session a free slot, in turn among the sessions watching it). The answer
// carries the host's load, and the next waiting job goes there: a slot
// that frees on a host where this pool had nothing running is used within
// a round trip. A host full of this pool's own jobs needs no watch: each
// job's reply says when its slot frees. The watches end when no job waits.

// maxWatches bounds the hosts one pool watches at once (Pool.watchLimit);
// hosts past it are asked for their load when their reports grow old
// (probe).
const maxWatches = 256

// watchAgainAfter is how soon a host whose watch ended may be watched
// again: a host that answers every watch at once with no slot free (it is
// shutting down, or has too many watchers) is not asked in a loop.
const watchAgainAfter = regrantEvery

// watch starts watches on the hosts that offer one of the toolchains jobs
// wait for and are full of other clients' jobs, the hosts heard from
// longest ago first, up to p.watchLimit. p.mu must be held.
func (p *Pool) watch(waitedFor map[string]bool) {
	if p.closed || p.watching >= p.watchLimit {
		return
	}
	now := p.opts.Now()
	candidates := p.fullOfOthers(waitedFor, func(h *host) bool {
		return h.watching || now.Sub(h.watchEnded) < watchAgainAfter
	})
	if len(candidates) == 0 {
		return
	}
	if p.watchCtx == nil {
		p.watchCtx, p.stopWatches = context.WithCancel(p.base)
	}
	for _, h := range candidates[:min(len(candidates), p.watchLimit-p.watching)] {
		h.watching = true
		p.watching++
		p.dials.Add(1)
		go p.awaitSlot(p.watchCtx, h, h.sess, h.gen)
	}
}

// endWatches stops every watch: no job waits. p.mu must be held.
func (p *Pool) endWatches() {
	if p.stopWatches != nil {
		p.stopWatches()
		p.watchCtx, p.stopWatches = nil, nil
	}
}

// awaitSlot waits on sess (of generation gen) until h says a slot is free
// for this pool or ctx ends, records the load it answers with, and gives
// free slots to waiting jobs.
func (p *Pool) awaitSlot(ctx context.Context, h *host, sess *protocol.ClientSession, gen uint64) {
	defer p.dials.Done()
	resp, err := sess.Call(ctx, &protocol.Status{AwaitSlot: true}, protocol.MsgStatusResult)
	p.mu.Lock()
	defer p.mu.Unlock()
	h.watching = false
	h.watchEnded = p.opts.Now()
	p.watching--
	r, ok := resp.(*protocol.StatusResult)
	switch {
	case ok && err == nil:
	case p.base.Err() != nil: // the pool closed
		return
	case ctx.Err() != nil:
		// Ended by endWatches: no job waits. The host may have told this
		// pool of a slot just before (the answer is lost with the
		// stream): decline it, or the host would hold it for nothing.
		p.dials.Add(1)
		go p.decline(h, sess)
		return
	default:
		p.requestFailed(ctx, h, gen, "slot watch", err)
		p.grant()
		return
	}
	if gen != h.gen {
		p.grant()
		return
	}
	h.setLoad(r.Load, p.opts.Now())
	sent := h.sent
	p.grant()
	if h.sent == sent && r.Load.Running < r.Load.Slots {
		// Told of a slot no waiting job took (one went elsewhere, or
		// none waits any more): the host holds it for this pool until
		// it hears so.
		p.dials.Add(1)
		go p.decline(h, sess)
	}
}

// decline tells h, on sess, that this pool will not use the slot it told
// it of, so that the host tells the next client watching it.
func (p *Pool) decline(h *host, sess *protocol.ClientSession) {
	defer p.dials.Done()
	ctx, cancel := context.WithTimeout(p.base, h.cfg.ConnectTimeout)
	defer cancel()
	if _, err := sess.Call(ctx, &protocol.Status{Decline: true}, protocol.MsgStatusResult); err != nil && p.base.Err() == nil {
		p.log.Debug("declining a slot", "host", h.cfg.Connect, "err", err)
	}
}
