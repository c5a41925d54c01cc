package remote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dcc-build/dcc/protocol"
)

// Sending a job: Compile and CompileOr, the resend of a job whose host went
// down, the retries after "busy", and one attempt on one host.

// Compile sends req to the host that has the most free slots (its njob less
// this pool's jobs in flight there, weighted by the load it last reported)
// among those that are up, not backed off, and offer toolchainKey. It
// returns the result and the host's address. When no host can take the job
// now it returns ErrNoHost at once (it waits only for the first connection
// attempt to hosts never tried before, up to their connect timeout). The
// job is bounded by ctx, and each attempt as said below; a
// transport error or a timeout closes the host's session, backs the host
// off, and is returned (the caller then compiles locally). An error the
// server answered is a *protocol.RemoteError; "busy" does not count against
// the host.
//
// A job whose host went down under it (the session closed, or silent past
// the liveness timeout) is sent once more, to another host that is up; when
// none is, the first failure is returned. Each attempt on a host is bounded
// by the host's send timeout plus the job's TimeoutMS (at most the host's
// receive timeout, which is also the default), so that a job that waited
// long for a slot (CompileOr) still gets the host's whole time.
func (p *Pool) Compile(ctx context.Context, toolchainKey string, req *protocol.CompileRequest) (*protocol.CompileResult, string, error) {
	res, addr, _, err := p.compile(ctx, toolchainKey, req, nil)
	return res, addr, err
}

// CompileOr is Compile for a job that may as well compile on this machine,
// whose compile slots are the semaphore local (a slot is taken by sending
// to it). When every host that could take the job is busy, the job waits
// its turn (first come, first served among this pool's jobs) for whichever
// frees first: a host slot, or a local one. tookLocal says a local slot
// was taken (the error is then ErrNoHost): the caller compiles here and
// gives the slot back by receiving from local. A host that answers "busy"
// (its view of its load was fresher than this pool's) does not make the
// job compile here: it waits again, up to maxBusyRetries times.
func (p *Pool) CompileOr(ctx context.Context, toolchainKey string, req *protocol.CompileRequest, local chan struct{}) (_ *protocol.CompileResult, addr string, tookLocal bool, _ error) {
	return p.compile(ctx, toolchainKey, req, local)
}

// maxBusyRetries bounds how often CompileOr sends a job again after a
// host answered "busy". Each time the job first waits for a slot (the host
// that answered counts as full until it reports otherwise), so this is no
// busy loop; the bound only ends the rounds with a host whose answers
// contradict its load reports.
const maxBusyRetries = 100

// compile is Compile, waiting for a host or a slot of local when local is
// not nil (CompileOr).
func (p *Pool) compile(ctx context.Context, toolchainKey string, req *protocol.CompileRequest, local chan struct{}) (*protocol.CompileResult, string, bool, error) {
	if req == nil {
		return nil, "", false, errors.New("remote: compile: no request")
	}
	var (
		res             *protocol.CompileResult
		addr            string
		down, tookLocal bool
		err             error
	)
	// The job's place among waiting jobs is its arrival: one that waits
	// again (a host answered "busy", or went down under it) goes before
	// the jobs that came after it, not behind them.
	turn := p.arrive()
	// first is the failure of a host that went down under the job, which
	// is then sent once more, to another host.
	var first error
	var firstAddr string
	for busy := 0; ; {
		res, addr, down, tookLocal, err = p.compileOnce(ctx, toolchainKey, req, local, &turn)
		switch {
		case ctx.Err() != nil || tookLocal:
		case isBusy(err) && local != nil && busy < maxBusyRetries:
			busy++ // waits for a slot again, the sent-again job too
			continue
		case down && first == nil:
			first, firstAddr = err, addr
			continue
		}
		break
	}
	switch {
	case first == nil:
		return res, addr, tookLocal, err
	case errors.Is(err, ErrNoHost):
		return nil, firstAddr, tookLocal, first
	case err == nil:
		p.log.Warn("a job of a host that went down was sent to another", "host", firstAddr, "to", addr)
	}
	return res, addr, false, err
}

// arrive numbers a job as it comes: its turn should it wait for a slot.
func (p *Pool) arrive() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastTurn++
	return p.lastTurn
}

// isBusy reports whether err is a host's "busy" answer.
func isBusy(err error) bool {
	var re *protocol.RemoteError
	return errors.As(err, &re) && re.Code == protocol.CodeBusy
}

// compileOnce sends req to one host (see Compile), waiting for one or a
// slot of local when local is not nil (tookLocal: a local slot was taken)
// at *turn among waiting jobs (set at the first wait); down says the host
// went down under the job.
func (p *Pool) compileOnce(ctx context.Context, toolchainKey string, req *protocol.CompileRequest, local chan struct{}, turn *uint64) (_ *protocol.CompileResult, _ string, down, tookLocal bool, _ error) {
	var order []*host
	if req.CacheKey != "" && len(p.hosts) > 1 {
		order = p.rendezvous(req.CacheKey)
	}
	h, sess, gen, err := p.pick(ctx, toolchainKey, order)
	bundle := ""
	if errors.Is(err, ErrNoHost) && p.opts.Shipper != nil && !req.Replay {
		if h2, sess2, gen2, digest, err2 := p.pickShipped(toolchainKey); err2 == nil {
			h, sess, gen, bundle, err = h2, sess2, gen2, digest, nil
		}
	}
	if errors.Is(err, errAllBusy) && local != nil {
		h, sess, gen, tookLocal, err = p.waitForSlot(ctx, toolchainKey, order, local, turn)
	}
	if err != nil {
		return nil, "", false, tookLocal, err
	}
	addr := h.cfg.Connect
	id := p.takeOff(h, req.SourceName)
	job := *req
	job.Toolchain = toolchainKey
	job.Bundle = bundle
	// A job that may wait (CompileOr) waits here, not in a full host's
	// queue, for whichever host frees a slot first.
	job.NoQueue = local != nil
	if job.TimeoutMS <= 0 || job.TimeoutMS > h.cfg.RecvTimeout.Milliseconds() {
		job.TimeoutMS = h.cfg.RecvTimeout.Milliseconds()
	}
	// The attempt on this host is bounded, not the wait for it (waitForSlot,
	// bounded by ctx alone): a job that waited long for a slot still gets
	// the host's whole time to answer.
	cctx, cancel := context.WithTimeout(ctx, h.cfg.SendTimeout+time.Duration(job.TimeoutMS)*time.Millisecond)
	defer cancel()
	start := time.Now()
	if len(req.Sources) > 0 {
		job.Sources = h.files.elide(gen, req.Sources)
	}
	resp, err := sess.Call(cctx, &job, protocol.MsgCompileResult)
	if len(req.Sources) > 0 {
		var re *protocol.RemoteError
		if errors.As(err, &re) && re.Code == protocol.CodeMissingSources {
			// The host no longer keeps some: everything goes whole.
			h.files.forget()
			job.Sources = req.Sources
			resp, err = sess.Call(cctx, &job, protocol.MsgCompileResult)
		}
		if err == nil {
			h.files.add(gen, req.Sources)
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.grant() // the slot, and the load report, may let a waiting job go
	h.inFlight--
	delete(h.flights, id)
	if err == nil {
		res, ok := resp.(*protocol.CompileResult)
		if !ok {
			err = fmt.Errorf("%w: %T for a compile request", protocol.ErrUnexpected, resp)
		} else {
			h.ok++
			h.succeeded()
			h.setLoad(res.Load, p.opts.Now())
			p.noteJobTime(time.Since(start))
			return res, addr, false, false, nil
		}
	}
	var re *protocol.RemoteError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		// The caller gave up (the build was interrupted): not the host's
		// fault, whatever the host answered meanwhile (its job's stream
		// reset under it may end in an internal error).
		h.failed++
	case errors.As(err, &re) && re.Code == protocol.CodeBusy:
		h.busy++
		h.others = max(h.others, h.load.Slots) // full until it says otherwise
		h.loadAt = p.opts.Now()
	case errors.As(err, &re):
		h.failed++
		if re.Code == protocol.CodeInternal {
			// The host itself failed (its disk full, its workdir gone): the
			// next jobs would fail there too. It keeps its session but gets
			// no job until its backoff is over (best).
			p.backOff(h, err)
		}
		if re.Code == protocol.CodeUnknownToolchain {
			// The host no longer has it: stop sending it these jobs.
			h.toolchains = slices.DeleteFunc(slices.Clone(h.toolchains),
				func(t protocol.Toolchain) bool { return t.Key == toolchainKey && t.Bundle == bundle })
		}
	default:
		h.failed++
		down = (sess.IsClosed() || errors.Is(err, protocol.ErrSilent)) && !errors.Is(err, context.DeadlineExceeded)
		p.hostFailed(h, gen, err)
		p.log.Warn("remote compile failed", "host", addr, "after", time.Since(start), "err", err)
	}
	return nil, addr, down, false, fmt.Errorf("remote: compile on %s: %w", addr, err)
}
