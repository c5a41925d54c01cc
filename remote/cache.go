package remote

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/dcc-build/dcc/protocol"
)

// CacheGet looks key up in project's namespace of the shared cache, on the
// host that owns the key: the first by rendezvous order (Owners) that is up.
// Any error is a miss, logged, never a failure; a transport error or timeout
// also backs the host off. Each request is bounded by ctx and the host's
// send timeout.
func (p *Pool) CacheGet(ctx context.Context, project, key string) ([]byte, bool) {
	entry, found, err := p.CacheLookup(ctx, project, key)
	if err != nil {
		p.log.Debug("shared cache get", "key", key, "err", err)
	}
	return entry, found
}

// CacheLookup is CacheGet telling a failure from a miss: err is set when no
// host could be asked or the request failed.
func (p *Pool) CacheLookup(ctx context.Context, project, key string) ([]byte, bool, error) {
	h, sess, gen, err := p.owner(ctx, key)
	if err != nil {
		return nil, false, err
	}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.SendTimeout)
	defer cancel()
	resp, err := sess.Call(cctx, &protocol.CacheGet{Project: project, Key: key}, protocol.MsgCacheGetResult)
	p.mu.Lock()
	defer p.mu.Unlock()
	h.cacheGets++
	if err != nil {
		p.requestFailed(ctx, h, gen, "shared cache get", err)
		return nil, false, fmt.Errorf("shared cache get on %s: %w", h.cfg.Connect, err)
	}
	r, ok := resp.(*protocol.CacheGetResult)
	h.succeeded()
	if !ok || !r.Found {
		return nil, false, nil
	}
	h.cacheHits++
	return r.Entry, true, nil
}

// CachePut stores entry under key in project's namespace of the shared
// cache, on the host that owns the key (see CacheGet). Errors are logged and
// otherwise ignored: the shared cache is best effort.
func (p *Pool) CachePut(ctx context.Context, project, key string, entry []byte) {
	if err := p.CacheStore(ctx, project, key, entry); err != nil {
		p.log.Debug("shared cache put", "key", key, "err", err)
	}
}

// CacheStore is CachePut returning its error.
func (p *Pool) CacheStore(ctx context.Context, project, key string, entry []byte) error {
	h, sess, gen, err := p.owner(ctx, key)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.SendTimeout)
	defer cancel()
	_, err = sess.Call(cctx, &protocol.CachePut{Project: project, Key: key, Entry: entry}, protocol.MsgCachePutResult)
	p.mu.Lock()
	defer p.mu.Unlock()
	h.cachePut++
	if err != nil {
		p.requestFailed(ctx, h, gen, "shared cache put", err)
		return fmt.Errorf("shared cache put on %s: %w", h.cfg.Connect, err)
	}
	h.succeeded()
	return nil
}

// requestFailed logs a failed shared-cache or clean request and backs the
// host off unless the server answered it or the caller gave up. p.mu must be
// held.
func (p *Pool) requestFailed(ctx context.Context, h *host, gen uint64, what string, err error) {
	var re *protocol.RemoteError
	switch {
	case errors.As(err, &re):
		p.log.Warn(what+" refused", "host", h.cfg.Connect, "err", err)
	case errors.Is(ctx.Err(), context.Canceled):
	default:
		p.log.Warn(what+" failed", "host", h.cfg.Connect, "err", err)
		p.hostFailed(h, gen, err)
	}
}

// Owners returns the configured hosts' addresses in rendezvous order for
// key: the first owns the key, the next takes over while it is down. The
// order depends only on the addresses and the key, so every client with the
// same hosts agrees.
func (p *Pool) Owners(key string) []string {
	order := p.rendezvous(key)
	out := make([]string, len(order))
	for i, h := range order {
		out[i] = h.cfg.Connect
	}
	return out
}

// SharedOwner returns the address of the host that owns key in the shared
// cache right now (the first usable one in rendezvous order, as CacheGet
// and CachePut pick it, without dialing any), or "" when none is usable.
func (p *Pool) SharedOwner(key string) string {
	order := p.rendezvous(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range order {
		if p.usable(h) {
			return h.cfg.Connect
		}
	}
	return ""
}

// rendezvous orders the hosts by their weight for key, highest first.
func (p *Pool) rendezvous(key string) []*host {
	type weighted struct {
		h *host
		w uint64
	}
	ws := make([]weighted, len(p.hosts))
	for i, h := range p.hosts {
		sum := sha256.Sum256([]byte(h.cfg.Connect + "\x00" + key))
		ws[i] = weighted{h, binary.BigEndian.Uint64(sum[:8])}
	}
	slices.SortStableFunc(ws, func(a, b weighted) int {
		if c := cmp.Compare(b.w, a.w); c != 0 {
			return c
		}
		return cmp.Compare(a.h.cfg.Connect, b.h.cfg.Connect)
	})
	out := make([]*host, len(ws))
	for i, w := range ws {
		out[i] = w.h
	}
	return out
}

// owner returns the first host in key's rendezvous order that is up,
// waiting only for first dials, like Compile.
func (p *Pool) owner(ctx context.Context, key string) (*host, *protocol.ClientSession, uint64, error) {
	order := p.rendezvous(key)
	for attempt := 0; ; attempt++ {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, nil, 0, ErrClosed
		}
		now := p.opts.Now()
		var firstDials []chan struct{}
		for _, h := range order {
			if p.usable(h) {
				sess, gen := h.sess, h.gen
				p.mu.Unlock()
				return h, sess, gen, nil
			}
			if ch := p.startDial(h, now, false); ch != nil && !h.tried {
				firstDials = append(firstDials, ch)
			}
		}
		p.mu.Unlock()
		if len(firstDials) == 0 || attempt > 0 {
			return nil, nil, 0, fmt.Errorf("%w: no host is up for the shared cache", ErrNoHost)
		}
		if err := waitAll(ctx, firstDials); err != nil {
			return nil, nil, 0, fmt.Errorf("%w: %w", ErrNoHost, err)
		}
	}
}

// CleanResult is what cleaning a project did on one host.
type CleanResult struct {
	// Host is the host's address.
	Host string
	// Removed is the number of entries the host removed.
	Removed int64
	// Err is why the host could not be cleaned; nil on success.
	Err error
}

// Clean removes project's entries from the shared cache and the result
// cache of every host, connecting now to those it has no session with
// (backoff or not), all at once. It reports per host, in configuration order.
func (p *Pool) Clean(ctx context.Context, project string) []CleanResult {
	out := make([]CleanResult, len(p.hosts))
	var wg sync.WaitGroup
	for i, h := range p.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = p.cleanHost(ctx, h, project)
		}()
	}
	wg.Wait()
	return out
}

// cleanHost cleans project on h.
func (p *Pool) cleanHost(ctx context.Context, h *host, project string) CleanResult {
	res := CleanResult{Host: h.cfg.Connect}
	sess, gen, err := p.connectNow(ctx, h)
	if err != nil {
		res.Err = err
		return res
	}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.SendTimeout+h.cfg.RecvTimeout)
	defer cancel()
	resp, err := sess.Call(cctx, &protocol.Clean{Project: project}, protocol.MsgCleanResult)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		res.Err = &hostError{text: describe(err, h), err: err}
		p.requestFailed(ctx, h, gen, "clean", err)
		return res
	}
	h.succeeded()
	if r, ok := resp.(*protocol.CleanResult); ok {
		res.Removed = r.Removed
	}
	return res
}

// connectNow returns h's session, dialing now if it has none, even while
// it is backed off, and waiting for the dial within ctx.
func (p *Pool) connectNow(ctx context.Context, h *host) (*protocol.ClientSession, uint64, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, 0, ErrClosed
	}
	if p.usable(h) {
		sess, gen := h.sess, h.gen
		p.mu.Unlock()
		return sess, gen, nil
	}
	ch := p.startDial(h, p.opts.Now(), true)
	p.mu.Unlock()
	if err := waitAll(ctx, []chan struct{}{ch}); err != nil {
		return nil, 0, fmt.Errorf("connect to %s: %w", h.cfg.Connect, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, 0, ErrClosed
	}
	if h.sess == nil {
		if h.err != nil {
			return nil, 0, h.err
		}
		return nil, 0, fmt.Errorf("connect to %s: no session", h.cfg.Connect)
	}
	return h.sess, h.gen, nil
}
