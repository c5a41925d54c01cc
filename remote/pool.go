package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"runtime"
	"sync"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/protocol"
)

// Options configure a Pool. The zero value is usable.
type Options struct {
	// Client names this client in the servers' logs; default "user@host".
	Client string
	// Logger receives the pool's log; default none.
	Logger *slog.Logger
	// Now is the clock backoffs are measured with; default time.Now. Tests
	// move it forward to end a backoff without waiting.
	Now func() time.Time
	// LocalSlots is the number of compiles this machine runs at once, for
	// Slots; default runtime.NumCPU().
	LocalSlots int
	// MinBackoff and MaxBackoff bound how long a failing host is left
	// alone: MinBackoff after a first failure, doubling at each further one
	// up to MaxBackoff, back to none after a success. Defaults
	// DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// LivenessTimeout: while jobs are in flight on a session, a host that
	// sends nothing, not even the answer to a ping, for this long loses the
	// session, and its jobs go elsewhere or compile here (see
	// protocol.ClientSession.Watch; an idle session is not watched, and a
	// host that died meanwhile is found by the next job). Default
	// DefaultLivenessTimeout; negative turns the watch off.
	LivenessTimeout time.Duration
	// Shipper gives the bundles of this client's compilers, shipped to
	// hosts that take them when no host has a job's compiler installed
	// (ship.go); nil ships none.
	Shipper Shipper
}

// Pool is the set of compile hosts of one client. Its methods are safe for
// concurrent use. Sessions are dialed lazily, on first use, in the
// background; a lost one is dialed again once the host's backoff is over.
type Pool struct {
	opts  Options
	log   *slog.Logger
	hosts []*host

	// base ends when the pool closes, aborting dials in progress.
	base   context.Context
	cancel context.CancelFunc
	dials  sync.WaitGroup

	// mu guards the state of every host, collecting and closed.
	mu sync.Mutex
	// collecting are the toolchains whose bundles are being collected to
	// be shipped, by key.
	collecting map[string]bool
	closed     bool
	// lastJob numbers the jobs in flight (host.flights) for dcc monitor.
	lastJob uint64
	// waiters are the jobs waiting for a host slot, first come first
	// served (CompileOr); regrant: a timer to look again is set.
	waiters  []*waiter
	lastTurn uint64
	regrant  bool
	// probing counts the load requests in flight (schedule.go); probes
	// counts those sent.
	probing int
	probes  int64
	// watching counts the slot watches in flight (slotwatch.go), on
	// watchCtx, which stopWatches ends; watchLimit bounds them
	// (maxWatches; tests lower it).
	watchLimit  int
	watching    int
	watchCtx    context.Context
	stopWatches context.CancelFunc
	// meanJob is the moving mean of this pool's jobs' durations: the age
	// at which a host's load report is asked again (schedule.go).
	meanJob time.Duration
}

// host is one configured host and what the pool knows of it; every field
// below cfg is guarded by Pool.mu.
type host struct {
	cfg config.Host

	sess *protocol.ClientSession
	// gen counts the host's sessions, so that a failure seen on an old
	// session does not count against a new one.
	gen uint64
	// dialing is closed when the dial in progress ends; nil when none runs.
	dialing chan struct{}
	// contacted: a dial was started at least once; tried: one ended.
	contacted, tried bool

	reachable, authenticated bool
	// errText says why the host is not usable; err is the error behind it.
	errText    string
	err        error
	server     string
	toolchains []protocol.Toolchain
	load       protocol.Load
	// others is the host's load from other clients as last reported, at
	// loadAt: running and queued jobs that are not this pool's.
	others int
	loadAt time.Time
	// probing: a load request to the host is in flight (schedule.go);
	// watching: a slot watch is, and watchEnded is when the last ended
	// (slotwatch.go).
	probing    bool
	watching   bool
	watchEnded time.Time

	inFlight int
	// flights are this pool's jobs on the host now, by number, with their
	// sources' names (for dcc monitor).
	flights map[uint64]flight
	// clock is how far the host's clock is from this machine's.
	clock   ClockReading
	backoff time.Duration
	until   time.Time

	sent, ok, failed, busy         int64
	cacheGets, cacheHits, cachePut int64

	// files are the file contents sent whole on the current session.
	files sentFiles

	// sandboxed: the host said it runs every job in a sandbox.
	sandboxed bool
	// ships: the host takes shipped toolchains.
	ships bool
	// installs are the bundles being shipped to the host, or that failed
	// lately, by digest; shipped and shipBytes count those it took.
	installs  map[string]*installState
	shipped   int64
	shipBytes int64
}

// NewPool returns a pool of hosts. It dials nothing yet.
func NewPool(hosts []config.Host, opts Options) *Pool {
	if opts.Client == "" {
		opts.Client = clientName()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LocalSlots <= 0 {
		opts.LocalSlots = runtime.NumCPU()
	}
	if opts.LivenessTimeout == 0 {
		opts.LivenessTimeout = DefaultLivenessTimeout
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(DefaultMaxBackoff, opts.MinBackoff)
	}
	base, cancel := context.WithCancel(context.Background())
	p := &Pool{opts: opts, log: opts.Logger, base: base, cancel: cancel, watchLimit: maxWatches}
	for _, h := range hosts {
		if h.Jobs <= 0 {
			h.Jobs = DefaultJobs
		}
		if h.ConnectTimeout <= 0 {
			h.ConnectTimeout = DefaultConnectTimeout
		}
		if h.SendTimeout <= 0 {
			h.SendTimeout = DefaultSendTimeout
		}
		if h.RecvTimeout <= 0 {
			h.RecvTimeout = DefaultRecvTimeout
		}
		p.hosts = append(p.hosts, &host{cfg: h})
	}
	return p
}

// clientName is "user@host" for the servers' logs.
func clientName() string {
	name := os.Getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	hostname, _ := os.Hostname()
	return name + "@" + hostname
}

// Close closes every session and stops dials in progress; calls after it
// fail with ErrClosed. Jobs in flight fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.cancel()
	var errs []error
	for _, h := range p.hosts {
		if h.sess != nil {
			if err := h.sess.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close session with %s: %w", h.cfg.Connect, err))
			}
			h.sess = nil
		}
	}
	p.mu.Unlock()
	p.dials.Wait()
	return errors.Join(errs...)
}

// Slots is the number of compiles the build can run at once: the local
// slots plus the njob of every host that is up now.
func (p *Pool) Slots() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.opts.LocalSlots
	for _, h := range p.hosts {
		if h.sess != nil && !h.sess.IsClosed() {
			n += h.cfg.Jobs
		}
	}
	return n
}

// pick chooses the host for a job and counts the job in flight there: the
// one with the most free slots weighted by load, preferring, among equals,
// the first usable host of owners (the job's rendezvous order in the shared
// cache: that host stores the result there itself).
func (p *Pool) pick(ctx context.Context, toolchainKey string, owners []*host) (*host, *protocol.ClientSession, uint64, error) {
	for attempt := 0; ; attempt++ {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, nil, 0, ErrClosed
		}
		now := p.opts.Now()
		var firstDials []chan struct{}
		offered, up := false, false
		for _, h := range p.hosts {
			if !p.usable(h) {
				if ch := p.startDial(h, now, false); ch != nil && !h.tried {
					firstDials = append(firstDials, ch)
				}
				continue
			}
			up = true
			offered = offered || h.offers(toolchainKey)
		}
		if best := p.best(toolchainKey, p.firstUsable(owners)); best != nil {
			best.inFlight++
			best.sent++
			sess, gen := best.sess, best.gen
			p.mu.Unlock()
			return best, sess, gen, nil
		}
		p.mu.Unlock()
		if len(firstDials) == 0 || attempt > 0 {
			switch {
			case len(p.hosts) == 0:
				return nil, nil, 0, fmt.Errorf("%w: no hosts configured", ErrNoHost)
			case !up:
				return nil, nil, 0, fmt.Errorf("%w: no host is up", ErrNoHost)
			case !offered:
				return nil, nil, 0, fmt.Errorf("%w: no host offers toolchain %s", ErrNoHost, toolchainKey)
			}
			return nil, nil, 0, errAllBusy
		}
		if err := waitAll(ctx, firstDials); err != nil {
			return nil, nil, 0, fmt.Errorf("%w: %w", ErrNoHost, err)
		}
	}
}

// errAllBusy: hosts that offer the toolchain are up, and each is busy or
// backed off.
var errAllBusy = fmt.Errorf("%w: every host is busy or backed off", ErrNoHost)

// waitForSlot finds a job of toolchainKey that no host has a free slot
// for (see CompileOr) a free local slot (tookLocal), else waits for
// whichever frees first: a host slot or a local one.
func (p *Pool) waitForSlot(ctx context.Context, toolchainKey string, owners []*host, local chan struct{}, turn *uint64) (_ *host, _ *protocol.ClientSession, _ uint64, tookLocal bool, _ error) {
	select {
	case local <- struct{}{}:
		return nil, nil, 0, true, fmt.Errorf("%w: every host is busy, and a slot here is free", ErrNoHost)
	default:
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, nil, 0, false, ErrClosed
	}
	w := p.wait(toolchainKey, owners, *turn)
	*turn = w.turn
	p.grant() // a slot may have come free since pick looked
	p.mu.Unlock()
	select {
	case <-w.ready:
		return w.h, w.sess, w.gen, false, nil
	case local <- struct{}{}:
		p.mu.Lock()
		granted := !p.unwait(w)
		p.mu.Unlock()
		if granted { // both at once: the host slot is used, the local one given back
			<-local
			return w.h, w.sess, w.gen, false, nil
		}
		return nil, nil, 0, true, fmt.Errorf("%w: every host is busy, and a slot here came free first", ErrNoHost)
	case <-ctx.Done():
	case <-p.base.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.unwait(w) { // granted meanwhile: give the slot to the next
		w.h.inFlight--
		w.h.sent--
		p.grant()
	}
	if p.closed {
		return nil, nil, 0, false, ErrClosed
	}
	return nil, nil, 0, false, fmt.Errorf("%w: waiting for a host slot: %w", ErrNoHost, ctx.Err())
}

// waitAll waits until every channel is closed or ctx ends.
func waitAll(ctx context.Context, chs []chan struct{}) error {
	for _, ch := range chs {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// usable reports whether h has a session that is up. A session the peer
// closed is dropped (and the host dialed again by the caller).
func (p *Pool) usable(h *host) bool {
	if h.sess == nil {
		return false
	}
	if h.sess.IsClosed() {
		p.log.Info("session with host closed", "host", h.cfg.Connect)
		h.sess = nil
		h.reachable = false
		return false
	}
	return true
}

// offers reports whether h advertised the toolchain installed.
func (h *host) offers(key string) bool {
	for _, t := range h.toolchains {
		if t.Key == key && t.Bundle == "" {
			return true
		}
	}
	return false
}

// succeeded ends h's backoff after a successful request.
func (h *host) succeeded() {
	h.backoff = 0
	h.until = time.Time{}
	h.errText, h.err = "", nil
}

// hostFailed backs h off after a failure on its session of generation gen,
// and closes that session. A failure seen on an older session was already
// counted. p.mu must be held.
func (p *Pool) hostFailed(h *host, gen uint64, err error) {
	if gen != h.gen || h.sess == nil {
		return
	}
	if cerr := h.sess.Close(); cerr != nil {
		p.log.Debug("close failed session", "host", h.cfg.Connect, "err", cerr)
	}
	h.sess = nil
	h.reachable = false
	p.backOff(h, err)
}

// backOff leaves h alone for a growing interval. p.mu must be held.
func (p *Pool) backOff(h *host, err error) {
	if h.backoff == 0 {
		h.backoff = p.opts.MinBackoff
	} else {
		h.backoff = min(2*h.backoff, p.opts.MaxBackoff)
	}
	h.until = p.opts.Now().Add(h.backoff)
	h.errText = describe(err, h)
	h.err = &hostError{text: h.errText, err: err}
	p.log.Warn("host backed off", "host", h.cfg.Connect, "for", h.backoff, "err", h.errText)
}

// startDial starts a background dial to h unless one runs, h is backed off
// (unless force), or the pool is closed. It returns the channel closed when
// the dial in progress ends, or nil when none runs. p.mu must be held.
func (p *Pool) startDial(h *host, now time.Time, force bool) chan struct{} {
	if h.dialing != nil {
		return h.dialing
	}
	if p.closed || (!force && now.Before(h.until)) {
		return nil
	}
	h.contacted = true
	ch := make(chan struct{})
	h.dialing = ch
	p.dials.Add(1)
	go p.dial(h, ch)
	return ch
}

// dial connects to h, within its connect timeout, and installs the session.
func (p *Pool) dial(h *host, done chan struct{}) {
	defer p.dials.Done()
	defer close(done)
	ctx, cancel := context.WithTimeout(p.base, h.cfg.ConnectTimeout)
	defer cancel()
	start := time.Now()
	var sess *protocol.ClientSession
	var err error
	if h.cfg.Token == "" {
		err = errNoToken
	} else {
		sess, err = protocol.Dial(ctx, h.cfg.Connect, h.cfg.Token, p.opts.Client,
			protocol.Transport{Fingerprint: h.cfg.Fingerprint, Plaintext: h.cfg.Plaintext})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	h.dialing = nil
	h.tried = true
	if err != nil {
		h.authenticated = false
		h.reachable = errors.Is(err, protocol.ErrAuth) || errors.Is(err, protocol.ErrVersion) ||
			errors.Is(err, protocol.ErrFingerprint) || errors.Is(err, protocol.ErrTransport)
		if errors.Is(err, errNoToken) || errors.Is(err, protocol.ErrNoFingerprint) {
			h.reachable = false
		}
		p.backOff(h, err)
		return
	}
	if p.closed {
		_ = sess.Close()
		return
	}
	sess.Watch(p.opts.LivenessTimeout)
	w := sess.Welcome()
	h.sess = sess
	h.gen++
	h.reachable, h.authenticated = true, true
	h.errText, h.err = "", nil
	h.until = time.Time{} // the backoff interval itself ends with a successful request
	h.toolchains, h.sandboxed, h.ships = w.Toolchains, w.Sandboxed, w.Ships
	h.setLoad(w.Load, p.opts.Now())
	p.grant()
	p.log.Info("connected to host", "host", h.cfg.Connect, "toolchains", len(w.Toolchains),
		"slots", w.Load.Slots, "took", time.Since(start))
}

// errNoToken: a host with no token cannot be authenticated.
var errNoToken = errors.New("no token set (token in the config file, or DCC_TOKEN)")

// firstUsable returns the first of hosts with a live session, or nil.
// p.mu must be held.
func (p *Pool) firstUsable(hosts []*host) *host {
	for _, h := range hosts {
		if p.usable(h) {
			return h
		}
	}
	return nil
}

// OwnerTakes reports whether a job with key, for toolchainKey, would go now
// to the key's owner in the shared cache (as pick chooses). Such a job's
// compile request doubles as the shared-cache lookup (the owner answers
// from its shared cache when it holds the key).
func (p *Pool) OwnerTakes(toolchainKey, key string) bool {
	order := p.rendezvous(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	owner := p.firstUsable(order)
	return owner != nil && p.best(toolchainKey, owner) == owner
}
