// Package remotetest provides compile hosts for tests, in the manner of
// net/http/httptest: a Server that speaks the real protocol (the protocol
// package's handshake, sessions and messages) on a loopback address with
// answers the test controls, and a Silent host that accepts connections and
// never answers. Every server is stopped by the test's cleanup.
package remotetest

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/dcc-build/dcc/protocol"
)

// Token is the token a Server accepts when Options.Tokens is empty.
const Token = "remotetest-token-0123456789"

// GCCKey is the toolchain key a Server offers when Options.Toolchains is nil.
const GCCKey = "id2-remotetest-gcc"

// Options configure a Server.
type Options struct {
	// Tokens are the accepted tokens; default {Token}.
	Tokens []string
	// Toolchains are the offered toolchains; default one gcc with GCCKey.
	Toolchains []protocol.Toolchain
	// Slots is the load's slot count; default 8.
	Slots int
	// Gate, when set, holds every compile until it is closed or the
	// request's context ends (the client gave up).
	Gate chan struct{}
	// CacheStall, when set, holds every shared-cache request likewise.
	CacheStall chan struct{}
	// Compile, when set, answers compiles; by default the result's object
	// is "object from ADDR of " followed by the preprocessed text.
	Compile func(ctx context.Context, req *protocol.CompileRequest) protocol.Message
	// Plaintext serves plain TCP; by default the server speaks TLS with
	// the key whose fingerprint Fingerprint returns.
	Plaintext bool
	// NoSandbox makes the host say it runs jobs without a sandbox, as a
	// dcc-server with sandbox = "off" does.
	NoSandbox bool
	// Ships makes the host take shipped toolchains: it keeps the files
	// sent (by digest) and serves an offered bundle once it has them all.
	Ships bool
	// ClockOffset is added to the clock the host reports in its status:
	// a host whose clock is that far ahead of this machine's (behind when
	// negative). A real dcc-server's clock is the system's, which a test
	// cannot set for one process.
	ClockOffset time.Duration
}

var testKey struct {
	once sync.Once
	cert tls.Certificate
	fp   string
	err  error
}

// key returns the TLS key every Server of the test binary serves. Making
// it cannot fail short of a broken crypto/rand, which stops the program.
func key() (tls.Certificate, string) {
	testKey.once.Do(func() {
		var data []byte
		if data, testKey.err = protocol.NewCertificatePEM("remotetest"); testKey.err == nil {
			testKey.cert, testKey.fp, testKey.err = protocol.LoadCertificatePEM(data)
		}
	})
	if testKey.err != nil {
		panic("remotetest: " + testKey.err.Error())
	}
	return testKey.cert, testKey.fp
}

// Fingerprint returns the fingerprint of the TLS key of every Server (one
// key per test binary), which clients pin.
func Fingerprint() string {
	_, fp := key()
	return fp
}

// Toolchain returns a gcc toolchain description with key.
func Toolchain(key string) protocol.Toolchain {
	return protocol.Toolchain{Key: key, Family: "gcc", Driver: "gcc", Version: "12.2.0", Target: "x86_64-linux-gnu"}
}

// Server is a compile host run by a test.
type Server struct {
	// Addr is the address it listens on.
	Addr string

	opts   Options
	tls    *tls.Config
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	running  atomic.Int32
	others   atomic.Int32
	watches  atomic.Int32
	declines atomic.Int32

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	cache    map[string][]byte // project "/" key -> entry
	compiles int
	cleaned  []string
	// received are the files shipped, by digest: bytes received so far.
	received map[[32]byte]int64
	shipped  []protocol.Toolchain
	offers   int
}

// Listen listens on ip, port chosen by the system, falling back to
// 127.0.0.1 when ip cannot be bound (a system without the 127/8 route).
func Listen(t testing.TB, ip string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("remotetest: listen: %v", err)
	}
	return ln
}

// FreeAddr returns an address on ip where nothing listens.
func FreeAddr(t testing.TB, ip string) string {
	t.Helper()
	ln := Listen(t, ip)
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("remotetest: %v", err)
	}
	return addr
}

// Start runs a Server on ip ("127.0.0.2"); the test's cleanup stops it.
func Start(t testing.TB, ip string, opts Options) *Server {
	t.Helper()
	return Serve(t, Listen(t, ip), opts)
}

// Serve runs a Server on ln; the test's cleanup stops it.
func Serve(t testing.TB, ln net.Listener, opts Options) *Server {
	t.Helper()
	if len(opts.Tokens) == 0 {
		opts.Tokens = []string{Token}
	}
	if opts.Toolchains == nil {
		opts.Toolchains = []protocol.Toolchain{Toolchain(GCCKey)}
	}
	if opts.Slots <= 0 {
		opts.Slots = 8
	}
	s := &Server{Addr: ln.Addr().String(), opts: opts, ln: ln,
		conns: map[net.Conn]struct{}{}, cache: map[string][]byte{}}
	if !opts.Plaintext {
		cert, _ := key()
		s.tls = protocol.ServerTLSConfig(cert)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.Stop)
	return s
}

// Stop closes the listener and every connection and waits for the
// server's goroutines. It may be called more than once.
func (s *Server) Stop() {
	s.once.Do(func() {
		s.cancel()
		s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
}

// SetOthers makes the server report n jobs of other clients running.
func (s *Server) SetOthers(n int) { s.others.Store(int32(n)) }

// Compiles returns the number of compile requests received.
func (s *Server) Compiles() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compiles
}

// Entries returns the number of shared-cache entries held.
func (s *Server) Entries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cache)
}

// Cleaned returns the projects cleaned, in order.
func (s *Server) Cleaned() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cleaned...)
}

// Put stores a shared-cache entry directly.
func (s *Server) Put(project, key string, entry []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache[project+"/"+key] = entry
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			s.serveConn(c)
		}()
	}
}

func (s *Server) serveConn(c net.Conn) {
	hctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	c, err := protocol.AcceptTransport(hctx, c, s.tls)
	if err != nil {
		cancel()
		return
	}
	_, _, err = protocol.ServerHandshake(hctx, c, s.Name(), s.opts.Tokens, func() protocol.Welcome {
		return protocol.Welcome{Toolchains: s.toolchains(), Load: s.load(), Sandboxed: !s.opts.NoSandbox, Ships: s.opts.Ships}
	})
	cancel()
	if err != nil {
		return
	}
	sess, err := yamux.Server(c, protocol.YamuxConfig())
	if err != nil {
		return
	}
	_ = protocol.Serve(s.ctx, sess, s.handle)
}

// Name is the name the server gives itself: "remotetest-ADDR".
func (s *Server) Name() string { return "remotetest-" + s.Addr }

// load is the server's load report: the jobs it runs count as the asking
// client's, those set by SetOthers as other clients'.
func (s *Server) load() protocol.Load {
	running := int(s.running.Load())
	return protocol.Load{Slots: s.opts.Slots, Running: running + int(s.others.Load()), Mine: running}
}

// awaitSlot waits until the load has a slot free (polling it), or ctx
// ends (false).
func (s *Server) awaitSlot(ctx context.Context) bool {
	for {
		if l := s.load(); l.Running < l.Slots {
			return true
		}
		select {
		case <-time.After(2 * time.Millisecond):
		case <-ctx.Done():
			return false
		}
	}
}

// Watches returns how many slot watches (Status with AwaitSlot) came.
func (s *Server) Watches() int { return int(s.watches.Load()) }

// Declines returns how many slots told were declined (Status with Decline).
func (s *Server) Declines() int { return int(s.declines.Load()) }

// wait holds a request until gate closes; false when ctx ends first.
func wait(ctx context.Context, gate chan struct{}) bool {
	if gate == nil {
		return true
	}
	select {
	case <-gate:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) handle(ctx context.Context, req protocol.Message) protocol.Message {
	cancelled := &protocol.Error{Code: protocol.CodeInternal, Message: "cancelled"}
	switch r := req.(type) {
	case *protocol.CompileRequest:
		s.running.Add(1)
		defer s.running.Add(-1)
		s.mu.Lock()
		s.compiles++
		s.mu.Unlock()
		if !wait(ctx, s.opts.Gate) {
			return cancelled
		}
		if s.opts.Compile != nil {
			return s.opts.Compile(ctx, r)
		}
		// The load as dcc-server reports it: after the job, its slot free.
		load := s.load()
		load.Running--
		return &protocol.CompileResult{Object: []byte("object from " + s.Addr + " of " + string(r.Preprocessed)), Load: load}
	case *protocol.CacheGet:
		if !wait(ctx, s.opts.CacheStall) {
			return cancelled
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		e, ok := s.cache[r.Project+"/"+r.Key]
		return &protocol.CacheGetResult{Found: ok, Entry: e}
	case *protocol.CachePut:
		if !wait(ctx, s.opts.CacheStall) {
			return cancelled
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cache[r.Project+"/"+r.Key] = r.Entry
		return &protocol.CachePutResult{Stored: true}
	case *protocol.Clean:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cleaned = append(s.cleaned, r.Project)
		var n int64
		for k := range s.cache {
			if strings.HasPrefix(k, r.Project+"/") {
				delete(s.cache, k)
				n++
			}
		}
		return &protocol.CleanResult{Removed: n}
	case *protocol.Status:
		if r.Decline {
			s.declines.Add(1)
		}
		if r.AwaitSlot {
			s.watches.Add(1)
			if !s.awaitSlot(ctx) {
				return cancelled
			}
		}
		return &protocol.StatusResult{Server: s.Name(), Toolchains: s.toolchains(), Load: s.load(), Ships: s.opts.Ships, Time: time.Now().Add(s.opts.ClockOffset).UnixNano()}
	case *protocol.ToolchainOffer:
		return s.offer(r)
	case *protocol.ToolchainBlob:
		if !s.opts.Ships {
			return &protocol.Error{Code: protocol.CodeForbiddenArg, Message: "no shipped toolchains"}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.received == nil {
			s.received = map[[32]byte]int64{}
		}
		s.received[r.Digest] = r.Offset + int64(len(r.Data))
		return &protocol.ToolchainBlobResult{Complete: s.received[r.Digest] == r.Size}
	}
	return &protocol.Error{Code: protocol.CodeMalformed, Message: "unexpected request"}
}

// offer answers a ToolchainOffer: the files not received whole, or the
// toolchain served.
func (s *Server) offer(o *protocol.ToolchainOffer) protocol.Message {
	if !s.opts.Ships {
		return &protocol.Error{Code: protocol.CodeForbiddenArg, Message: "no shipped toolchains"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offers++
	var missing [][32]byte
	for _, f := range o.Files {
		if (f.Kind == protocol.BundleRegular || f.Kind == protocol.BundleExec) && s.received[f.Digest] != f.Size {
			missing = append(missing, f.Digest)
		}
	}
	if len(missing) > 0 {
		return &protocol.ToolchainOfferResult{Missing: missing}
	}
	tc := o.Info
	tc.Bundle = o.BundleDigest()
	s.shipped = append(s.shipped, tc)
	return &protocol.ToolchainOfferResult{Installed: tc}
}

// toolchains are those offered and those shipped.
func (s *Server) toolchains() []protocol.Toolchain {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(append([]protocol.Toolchain{}, s.opts.Toolchains...), s.shipped...)
}

// Offers counts the toolchain offers the server answered.
func (s *Server) Offers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offers
}

// Silent is a host that accepts connections and never says a word.
type Silent struct {
	// Addr is the address it listens on.
	Addr string

	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	held []net.Conn
}

// StartSilent runs a Silent host on ip; the test's cleanup stops it.
func StartSilent(t testing.TB, ip string) *Silent {
	t.Helper()
	ln := Listen(t, ip)
	s := &Silent{Addr: ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.held = append(s.held, c)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
		s.mu.Lock()
		for _, c := range s.held {
			c.Close()
		}
		s.mu.Unlock()
	})
	return s
}
