package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/ship"
)

// Shipping toolchains to hosts that lack them. When no host has a job's
// compiler installed with a slot free, the job may go to a host that took
// this client's bundle of it (by digest), or that takes shipped toolchains
// and does not have it yet: that host gets the bundle in the background,
// once, while this job compiles here; later jobs go there.

// Shipper gives the bundles of this client's compilers (ship.Source).
type Shipper interface {
	// Ready returns the bundle of the toolchain key when it is collected,
	// nil (and no error) while it is being collected.
	Ready(key string) (*ship.Bundle, error)
	// Bundle waits for the bundle of the toolchain key.
	Bundle(ctx context.Context, key string) (*ship.Bundle, error)
}

// shipRetry is how long a host that failed to take a bundle is not
// offered it again.
const shipRetry = 5 * time.Minute

// shipTimeout bounds one shipping of a bundle to a host.
const shipTimeout = 10 * time.Minute

// installState is a bundle being shipped to a host, or that failed.
type installState struct {
	running bool
	err     error
	at      time.Time
}

// ShipReport says how one shipping went, for the log and "dcc hosts".
type ShipReport struct {
	// Files and Bytes are what was sent (files the host lacked).
	Files int
	Bytes int64
	// Took is how long it took, from the first offer to the toolchain
	// served.
	Took time.Duration
}

// hasBundle reports whether h serves the shipped bundle digest.
func (h *host) hasBundle(key, digest string) bool {
	for _, t := range h.toolchains {
		if t.Key == key && t.Bundle == digest {
			return true
		}
	}
	return false
}

// pickShipped chooses a host for a job of toolchainKey that no host with
// the compiler installed can take now: one that serves this client's
// bundle of it with a free slot (the job counted in flight there). Hosts
// that take shipped toolchains but lack the bundle are sent it in the
// background. ErrNoHost when none can take the job now.
func (p *Pool) pickShipped(toolchainKey string) (*host, *protocol.ClientSession, uint64, string, error) {
	if !p.someHostTakes(toolchainKey) {
		return nil, nil, 0, "", fmt.Errorf("%w: no host takes toolchain %s shipped", ErrNoHost, toolchainKey)
	}
	b, err := p.opts.Shipper.Ready(toolchainKey)
	if b == nil && err == nil {
		p.shipWhenCollected(toolchainKey)
	}
	if err != nil || b == nil {
		return nil, nil, 0, "", fmt.Errorf("%w: no bundle of toolchain %s to ship (yet): %v", ErrNoHost, toolchainKey, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	var best *host
	bestFree := 0
	for _, h := range p.hosts {
		if !p.usable(h) || !h.ships || now.Before(h.until) || h.offers(toolchainKey) {
			continue // down, backed off, or has the compiler installed
		}
		if !h.hasBundle(toolchainKey, b.Digest) {
			p.startShipping(h, b)
			continue
		}
		if f := h.free(); f >= 1 && (best == nil || f > bestFree) {
			best, bestFree = h, f
		}
	}
	if best == nil {
		return nil, nil, 0, "", fmt.Errorf("%w: no host has toolchain %s shipped and a slot free", ErrNoHost, toolchainKey)
	}
	best.inFlight++
	best.sent++
	return best, best.sess, best.gen, b.Digest, nil
}

// someHostTakes reports whether a host that is up takes shipped toolchains
// and lacks toolchainKey installed: else there is nothing to collect.
func (p *Pool) someHostTakes(toolchainKey string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.hosts {
		if p.usable(h) && h.ships && !h.offers(toolchainKey) {
			return true
		}
	}
	return false
}

// shipWhenCollected waits, in the background, for the bundle of key being
// collected, and then ships it to every host that takes it and lacks it,
// without waiting for the next job that could go there.
func (p *Pool) shipWhenCollected(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.collecting == nil {
		p.collecting = map[string]bool{}
	}
	if p.collecting[key] || p.closed {
		return
	}
	p.collecting[key] = true
	p.dials.Add(1)
	go func() {
		defer p.dials.Done()
		b, err := p.opts.Shipper.Bundle(p.base, key)
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.collecting, key)
		if err != nil {
			p.log.Warn("collecting a toolchain to ship failed", "toolchain", key, "err", err)
			return
		}
		for _, h := range p.hosts {
			if p.usable(h) && h.ships && !h.offers(key) && !h.hasBundle(key, b.Digest) {
				p.startShipping(h, b)
			}
		}
	}()
}

// startShipping ships b to h in the background, unless that runs already
// or failed lately. p.mu is held.
func (p *Pool) startShipping(h *host, b *ship.Bundle) {
	if h.installs == nil {
		h.installs = map[string]*installState{}
	}
	if st := h.installs[b.Digest]; st != nil && (st.running || p.opts.Now().Sub(st.at) < shipRetry) {
		return
	}
	h.installs[b.Digest] = &installState{running: true, at: p.opts.Now()}
	sess, gen := h.sess, h.gen
	p.dials.Add(1)
	go func() {
		defer p.dials.Done()
		ctx, cancel := context.WithTimeout(p.base, shipTimeout)
		defer cancel()
		installed, rep, err := shipBundle(ctx, sess, hostConfig{send: h.cfg.SendTimeout, recv: h.cfg.RecvTimeout}, b)
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(h.installs, b.Digest)
		if err != nil {
			h.installs[b.Digest] = &installState{err: err, at: p.opts.Now()}
			p.log.Warn("shipping a toolchain to a host failed", "host", h.cfg.Connect, "driver", b.Offer.Driver, "err", err)
			return
		}
		h.shipped++
		h.shipBytes += rep.Bytes
		p.log.Info("toolchain shipped", "host", h.cfg.Connect, "driver", b.Offer.Driver, "version", b.Offer.Info.Version,
			"files_sent", rep.Files, "bytes_sent", rep.Bytes, "took", rep.Took)
		if h.gen == gen && !h.hasBundle(installed.Key, installed.Bundle) {
			h.toolchains = append(h.toolchains, installed)
		}
	}()
}

// shipBundle offers b to the host of sess and sends the files it lacks
// until it serves the bundle.
func shipBundle(ctx context.Context, sess *protocol.ClientSession, cfg hostConfig, b *ship.Bundle) (protocol.Toolchain, ShipReport, error) {
	start := time.Now()
	var rep ShipReport
	for round := 0; round < 4; round++ {
		resp, err := call(ctx, sess, cfg, &b.Offer, protocol.MsgToolchainOfferResult)
		var re *protocol.RemoteError
		if errors.As(err, &re) && (re.Code == protocol.CodeBusy || re.Code == protocol.CodeMissingSources) {
			// Another client sends a file of it, or a file went meanwhile.
			if err := sleep(ctx, 2*time.Second); err != nil {
				return protocol.Toolchain{}, rep, err
			}
			continue
		}
		if err != nil {
			return protocol.Toolchain{}, rep, err
		}
		res := resp.(*protocol.ToolchainOfferResult)
		if len(res.Missing) == 0 {
			if res.Installed.Bundle != b.Digest {
				return protocol.Toolchain{}, rep, fmt.Errorf("the host serves bundle %q, not %s", res.Installed.Bundle, b.Digest)
			}
			rep.Took = time.Since(start)
			return res.Installed, rep, nil
		}
		for _, d := range res.Missing {
			n, err := sendFile(ctx, sess, cfg, b, d)
			if err != nil && !errors.As(err, &re) {
				return protocol.Toolchain{}, rep, err
			}
			rep.Files++
			rep.Bytes += n
		}
	}
	return protocol.Toolchain{}, rep, errors.New("the host still lacks files of the bundle after four rounds")
}

// sendFile sends the file of digest d in chunks, and returns the bytes sent.
func sendFile(ctx context.Context, sess *protocol.ClientSession, cfg hostConfig, b *ship.Bundle, d [32]byte) (int64, error) {
	f, size, err := b.Open(d)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, min(size, protocol.MaxBlobChunk))
	var off int64
	for {
		n, err := io.ReadFull(f, buf[:min(int64(len(buf)), size-off)])
		if err != nil && n == 0 && size > 0 {
			return off, fmt.Errorf("read a file of the bundle: %w", err)
		}
		resp, err := call(ctx, sess, cfg, &protocol.ToolchainBlob{Digest: d, Size: size, Offset: off, Data: buf[:n]}, protocol.MsgToolchainBlobResult)
		if err != nil {
			return off, err
		}
		off += int64(n)
		if resp.(*protocol.ToolchainBlobResult).Complete || off >= size {
			return off, nil
		}
	}
}

// hostConfig is what shipping needs of a host's configuration.
type hostConfig = struct{ send, recv time.Duration }

// call makes one request of a shipping within the host's timeouts.
func call(ctx context.Context, sess *protocol.ClientSession, cfg hostConfig, req protocol.Message, want protocol.MsgType) (protocol.Message, error) {
	cctx, cancel := context.WithTimeout(ctx, cfg.send+cfg.recv)
	defer cancel()
	return sess.Call(cctx, req, want)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
