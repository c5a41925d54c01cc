package teamcache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Front.
const (
	// DefaultTimeout bounds one lookup or write on one backend: a slow
	// storage never delays a compile by more.
	DefaultTimeout = 100 * time.Millisecond
	// DefaultMinBackoff and DefaultMaxBackoff bound how long a backend
	// that failed is skipped: the first, doubling at each further failure.
	DefaultMinBackoff = 2 * time.Second
	DefaultMaxBackoff = time.Minute
	// DefaultWriteQueue bounds the writes waiting to be made.
	DefaultWriteQueue = 64
)

// Named is a backend and how it is reached.
type Named struct {
	// Name names it in stats and logs (its URL, without a password).
	Name    string
	Backend Backend
	// ReadOnly: never written.
	ReadOnly bool
	// Timeout bounds each request; zero means the Front's.
	Timeout time.Duration
}

// Options configure a Front. The zero value is usable.
type Options struct {
	// TeamKey signs every entry written, and refuses every entry read that
	// is not signed with it; nil signs nothing and takes any entry whose
	// checksum holds.
	TeamKey []byte
	// Timeout bounds each request on a backend; default DefaultTimeout.
	Timeout time.Duration
	// MinBackoff and MaxBackoff; defaults DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// WriteQueue bounds the writes waiting; default DefaultWriteQueue.
	WriteQueue int
	// Now is the clock of backoffs; default time.Now.
	Now func() time.Time
	// Logger receives failures; default none.
	Logger *slog.Logger
	// Count, when set, is told each event of each backend as it happens
	// (backend's Name, and one of the Event names), for counters that
	// outlive the Front.
	Count func(backend, event string)
}

// Events a Front counts for each backend.
const (
	EventHit     = "hits"
	EventMiss    = "misses"
	EventError   = "errors"
	EventTimeout = "timeouts"
	EventRefused = "refused"
	EventWrite   = "writes"
	EventDropped = "dropped"
)

// Stats are one backend's counters.
type Stats struct {
	Name                                            string
	Hits, Misses, Errors, Timeouts, Refused, Writes int64
	Dropped                                         int64
}

// Front reads entries from several backends in order, each within its
// timeout, skipping those backed off after failures, and writes to all
// writable ones in the background. It is safe for concurrent use.
type Front struct {
	opts     Options
	backends []*slot
	queue    chan write
	wg       sync.WaitGroup
	closing  sync.Once
}

// slot is one backend and what the Front knows of it.
type slot struct {
	Named
	mu       sync.Mutex
	failures int
	until    time.Time

	hits, misses, errors, timeouts, refused, writes, dropped atomic.Int64
}

// write is one entry to write.
type write struct {
	key   string
	entry []byte
}

// NewFront returns a Front over backends, with its writer running.
func NewFront(backends []Named, opts Options) *Front {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(DefaultMaxBackoff, opts.MinBackoff)
	}
	if opts.WriteQueue <= 0 {
		opts.WriteQueue = DefaultWriteQueue
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f := &Front{opts: opts, queue: make(chan write, opts.WriteQueue)}
	for _, b := range backends {
		if b.Timeout <= 0 {
			b.Timeout = opts.Timeout
		}
		f.backends = append(f.backends, &slot{Named: b})
	}
	f.wg.Add(1)
	go f.writer()
	return f
}

// Get returns the payload of key from the first backend that has a valid
// entry. A backend that fails or times out is counted and backed off; an
// entry whose checksum or signature does not hold is counted as refused
// and not served. It never fails: every trouble is a miss.
func (f *Front) Get(ctx context.Context, key string) ([]byte, bool) {
	for _, s := range f.backends {
		if !s.usable(f.opts.Now()) {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, s.Timeout)
		entry, found, err := s.Backend.Get(rctx, key)
		cancel()
		if err != nil {
			f.failed(ctx, s, "get", err)
			continue
		}
		s.succeeded()
		if !found {
			f.event(s, &s.misses, EventMiss)
			continue
		}
		payload, err := Open(key, entry, f.opts.TeamKey)
		if err != nil {
			f.event(s, &s.refused, EventRefused)
			f.opts.Logger.Warn("team cache entry refused", "backend", s.Name, "key", key, "err", err)
			continue
		}
		f.event(s, &s.hits, EventHit)
		return payload, true
	}
	return nil, false
}

// Put queues payload to be written under key to every writable backend;
// when the queue is full the entry is dropped (and counted), never waited
// for.
func (f *Front) Put(key string, payload []byte) {
	select {
	case f.queue <- write{key: key, entry: Seal(key, payload, f.opts.TeamKey)}:
	default:
		for _, s := range f.backends {
			if !s.ReadOnly {
				f.event(s, &s.dropped, EventDropped)
			}
		}
	}
}

// writer makes the queued writes, one at a time.
func (f *Front) writer() {
	defer f.wg.Done()
	for w := range f.queue {
		for _, s := range f.backends {
			if s.ReadOnly || !s.usable(f.opts.Now()) {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
			err := s.Backend.Put(ctx, w.key, w.entry)
			cancel()
			if err != nil {
				f.failed(context.Background(), s, "put", err)
				continue
			}
			s.succeeded()
			f.event(s, &s.writes, EventWrite)
		}
	}
}

// Close makes the writes queued and stops the writer.
func (f *Front) Close() {
	f.closing.Do(func() { close(f.queue) })
	f.wg.Wait()
}

// Stats returns each backend's counters, in order.
func (f *Front) Stats() []Stats {
	out := make([]Stats, len(f.backends))
	for i, s := range f.backends {
		out[i] = Stats{Name: s.Name, Hits: s.hits.Load(), Misses: s.misses.Load(), Errors: s.errors.Load(),
			Timeouts: s.timeouts.Load(), Refused: s.refused.Load(), Writes: s.writes.Load(), Dropped: s.dropped.Load()}
	}
	return out
}

// failed counts a failure of s and backs it off; a caller that gave up is
// not the backend's fault.
func (f *Front) failed(ctx context.Context, s *slot, op string, err error) {
	if ctx.Err() != nil {
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		f.event(s, &s.timeouts, EventTimeout)
	} else {
		f.event(s, &s.errors, EventError)
	}
	s.mu.Lock()
	s.failures++
	backoff := f.opts.MinBackoff << min(s.failures-1, 16)
	backoff = min(backoff, f.opts.MaxBackoff)
	s.until = f.opts.Now().Add(backoff)
	s.mu.Unlock()
	f.opts.Logger.Warn("team cache backend failed: skipped for a while", "backend", s.Name, "op", op, "for", backoff, "err", err)
}

// event counts one event of s.
func (f *Front) event(s *slot, counter *atomic.Int64, name string) {
	counter.Add(1)
	if f.opts.Count != nil {
		f.opts.Count(s.Name, name)
	}
}

// usable reports whether s is not backed off at now.
func (s *slot) usable(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !now.Before(s.until)
}

// succeeded ends s's backoff.
func (s *slot) succeeded() {
	s.mu.Lock()
	s.failures = 0
	s.mu.Unlock()
}
