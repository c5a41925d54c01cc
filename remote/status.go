package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/protocol"
)

// HostStatus is what the pool knows of one host.
type HostStatus struct {
	// Addr is the host's address; Jobs its njob.
	Addr string
	Jobs int
	// Contacted: the pool has tried to connect at least once; until then
	// the fields below say nothing.
	Contacted bool
	// Connected: a session with the host is up now.
	Connected bool
	// Reachable: the host answered at its address (at the last attempt).
	Reachable bool
	// Authenticated: the host accepted the token (at the last attempt).
	Authenticated bool
	// Error says in one line why the host is not usable ("token refused",
	// "connection refused", "no answer within 2s", ...); empty when it is.
	Error string
	// Server is the name the host gives itself.
	Server string
	// Toolchains are the compilers the host offers.
	Toolchains []protocol.Toolchain
	// Load is the host's load as it last reported it.
	Load protocol.Load
	// Sandboxed: the host runs every job in a sandbox (as it said when
	// the pool connected).
	Sandboxed bool
	// Ships: the host takes shipped toolchains; Shipped and ShipBytes
	// count the bundles this pool shipped it and the bytes of their files
	// it sent.
	Ships              bool
	Shipped, ShipBytes int64
	// InFlight is this pool's jobs on the host now; InFlightJobs names
	// their sources, the longest-running first.
	InFlight     int
	InFlightJobs []InFlightJob
	// Backoff is how long the host is still left alone; zero when it is not.
	Backoff time.Duration
	// Clock is how far the host's clock was from this machine's at its
	// last status answer (see ClockReading).
	Clock ClockReading
	// Sent, OK, Failed and Busy count this pool's jobs: sent, answered,
	// lost to an error or timeout, and refused as busy.
	Sent, OK, Failed, Busy int64
	// CacheGets, CacheHits and CachePuts count shared-cache requests.
	CacheGets, CacheHits, CachePuts int64
}

// Usable reports whether jobs can go to the host: it answered and accepted
// the token.
func (s HostStatus) Usable() bool { return s.Reachable && s.Authenticated }

// Status reports on every host, in configuration order, without contacting any.
func (p *Pool) Status() []HostStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	out := make([]HostStatus, len(p.hosts))
	for i, h := range p.hosts {
		connected := h.sess != nil && !h.sess.IsClosed()
		out[i] = HostStatus{
			Addr: h.cfg.Connect, Jobs: h.cfg.Jobs, Contacted: h.contacted, Connected: connected,
			Reachable: h.reachable && (connected || h.sess == nil), Authenticated: h.authenticated,
			Error: h.errText, Server: h.server, Toolchains: slices.Clone(h.toolchains), Load: h.load, Sandboxed: h.sandboxed,
			Ships: h.ships, Shipped: h.shipped, ShipBytes: h.shipBytes,
			InFlight: h.inFlight, Sent: h.sent, OK: h.ok, Failed: h.failed, Busy: h.busy,
			CacheGets: h.cacheGets, CacheHits: h.cacheHits, CachePuts: h.cachePut,
		}
		if now.Before(h.until) {
			out[i].Backoff = h.until.Sub(now)
		}
		out[i].InFlightJobs = h.inFlightJobs()
		out[i].Clock = h.clock
	}
	return out
}

// InFlightJob is one of this pool's jobs on a host now.
type InFlightJob struct {
	// Source is the unit's source as the job names it (relative to the
	// client's directory, or absolute).
	Source string
	// Started is when the job was sent.
	Started time.Time
}

// flight is a job in flight on a host (host.flights).
type flight struct {
	source  string
	started time.Time
}

// takeOff records a job of source sent to h (counted in h.inFlight by
// pick) and returns its number, for landing it with delete(h.flights, id).
func (p *Pool) takeOff(h *host, source string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastJob++
	if h.flights == nil {
		h.flights = map[uint64]flight{}
	}
	h.flights[p.lastJob] = flight{source: source, started: time.Now()}
	return p.lastJob
}

// inFlightJobs lists h's jobs in flight, the longest-running first. p.mu
// must be held.
func (h *host) inFlightJobs() []InFlightJob {
	if len(h.flights) == 0 {
		return nil
	}
	out := make([]InFlightJob, 0, len(h.flights))
	for _, f := range h.flights {
		out = append(out, InFlightJob{Source: f.source, Started: f.started})
	}
	slices.SortFunc(out, func(a, b InFlightJob) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return strings.Compare(a.Source, b.Source)
	})
	return out
}

// refreshTimeout bounds Refresh's status request to each host.
const refreshTimeout = 2 * time.Second

// Refresh asks every host with a session up for its load now (a status
// request, all at once, each within the host's connect timeout and at most
// refreshTimeout), then reports as Status: the load of a host this client
// sends nothing to is otherwise the one its last answer carried. It starts
// a dial only to hosts never tried (in the background, for the next
// report), and backs none off (a host that does not answer keeps the load
// it last reported): watching the farm does not change how it is used.
func (p *Pool) Refresh(ctx context.Context) []HostStatus {
	var wg sync.WaitGroup
	p.mu.Lock()
	now := p.opts.Now()
	for _, h := range p.hosts {
		if !h.contacted {
			p.startDial(h, now, false) // for the next report
		}
		if !p.usable(h) {
			continue
		}
		sess := h.sess
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, min(h.cfg.ConnectTimeout, refreshTimeout))
			defer cancel()
			sent := time.Now()
			resp, err := sess.Call(cctx, &protocol.Status{}, protocol.MsgStatusResult)
			received := time.Now()
			r, ok := resp.(*protocol.StatusResult)
			if err != nil || !ok {
				p.log.Debug("monitor: status request failed", "host", h.cfg.Connect, "err", err)
				return
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			h.server = r.Server
			h.setLoad(r.Load, p.opts.Now())
			p.grant()
			h.clock.measure(r.Time, sent, received)
		}()
	}
	p.mu.Unlock()
	wg.Wait()
	return p.Status()
}

var _ daemon.HostMonitor = (*Pool)(nil)

// MonitorHosts reports on every host for "dcc monitor"
// (daemon.HostMonitor): Refresh's report, with this client's jobs in
// flight on each host. It never fails.
func (p *Pool) MonitorHosts(ctx context.Context) ([]daemon.HostReport, error) {
	st := p.Refresh(ctx)
	out := Reports(st)
	now := time.Now()
	for i, s := range st {
		for _, j := range s.InFlightJobs {
			out[i].InFlightJobs = append(out[i].InFlightJobs, daemon.InFlightJob{Source: j.Source, Elapsed: now.Sub(j.Started)})
		}
	}
	return out, nil
}

// Check contacts every host now, all at once: a new connection (backoff or
// not) to those without a session, then a status request, each step within
// the host's connect timeout. It then reports as Status.
func (p *Pool) Check(ctx context.Context) []HostStatus {
	var wg sync.WaitGroup
	for _, h := range p.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.checkHost(ctx, h)
		}()
	}
	wg.Wait()
	return p.Status()
}

// checkHost contacts h: a connection if it has no session, then a status
// request for its name, toolchains and load.
func (p *Pool) checkHost(ctx context.Context, h *host) {
	sess, gen, err := p.connectNow(ctx, h)
	if err != nil {
		return // connectNow recorded why
	}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.ConnectTimeout)
	defer cancel()
	sent := time.Now()
	resp, err := sess.Call(cctx, &protocol.Status{}, protocol.MsgStatusResult)
	received := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.requestFailed(ctx, h, gen, "status", err)
		return
	}
	if r, ok := resp.(*protocol.StatusResult); ok {
		h.server = r.Server
		h.toolchains, h.ships = r.Toolchains, r.Ships
		h.setLoad(r.Load, p.opts.Now())
		p.grant()
		h.clock.measure(r.Time, sent, received)
	}
	h.reachable, h.authenticated = true, true
	h.succeeded()
}

// Jobs is the -j to give make: ceil(ncpu*3/2) for this machine plus the njob
// of every usable host.
func Jobs(ncpu int, hosts []HostStatus) int {
	n := (3*max(ncpu, 1) + 1) / 2
	for _, h := range hosts {
		if h.Usable() {
			n += h.Jobs
		}
	}
	return n
}

// hostError is a host failure as a person reads it, wrapping the error.
type hostError struct {
	text string
	err  error
}

// Error returns the one-line description.
func (e *hostError) Error() string { return e.text }

// Unwrap returns the error behind the description.
func (e *hostError) Unwrap() error { return e.err }

// describe says in one line why err made h unusable.
func describe(err error, h *host) string {
	var re *protocol.RemoteError
	var ne net.Error
	switch {
	case errors.Is(err, errNoToken):
		return err.Error()
	case errors.Is(err, protocol.ErrNoFingerprint):
		return protocol.ErrNoFingerprint.Error()
	case errors.Is(err, protocol.ErrAuth):
		return "token refused"
	case errors.Is(err, protocol.ErrVersion):
		return "protocol version mismatch: " + oneLine(err.Error())
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &re):
		return fmt.Sprintf("refused (%s): %s", re.Code, oneLine(re.Message))
	case errors.Is(err, protocol.ErrFingerprint), errors.Is(err, protocol.ErrTransport):
		return tlsText(err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		if h.sess == nil && !h.authenticated {
			return fmt.Sprintf("%s%s", noAnswerWithin, h.cfg.ConnectTimeout)
		}
		return timedOut + oneLine(err.Error())
	}
	return oneLine(err.Error())
}

// tlsText is a fingerprint or transport failure without the
// "protocol: ADDR:" prefixes Dial adds.
func tlsText(err error) string {
	s := oneLine(err.Error())
	for _, sentinel := range []error{protocol.ErrFingerprint, protocol.ErrTransport} {
		if i := strings.Index(s, sentinel.Error()); i >= 0 {
			return strings.TrimPrefix(s[i:], "protocol: ")
		}
	}
	return s
}

// oneLine keeps the first line of s.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
