package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/hashicorp/yamux"
)

// Limits of the server's connections.
const (
	// handshakeTimeout bounds a client's handshake.
	handshakeTimeout = 10 * time.Second
	// maxHandshakes bounds the handshakes in progress; connections past it
	// are closed at once.
	maxHandshakes = 64
	// acceptRetryDelay is the pause after a failed accept.
	acceptRetryDelay = 50 * time.Millisecond
	// DefaultShutdownGrace is how long a shutdown waits for running requests.
	DefaultShutdownGrace = 10 * time.Second
)

// Options configure a Server.
type Options struct {
	// Config is the server's configuration (tokens, allowed networks,
	// workdir, jobs, caches).
	Config *Config
	// Logger receives the server's log; nil means slog.Default(). Tokens
	// never reach it.
	Logger *slog.Logger
	// Name is the server's name in the handshake; empty means the host name.
	Name string
	// Toolchains are the compilers served; nil means discover them (PATH
	// and Config.Toolchains).
	Toolchains *Toolchains
	// ShutdownGrace is how long Serve waits for running requests once its
	// context ends; 0 means DefaultShutdownGrace.
	ShutdownGrace time.Duration
}

// Server is a running dcc-server: a listener, the job runner and the caches.
type Server struct {
	cfg        *Config
	log        *slog.Logger
	name       string
	toolchains *Toolchains
	runner     *Runner
	store      *Store
	flights    flights
	grace      time.Duration
	// budget bounds the memory the requests of every session hold at once.
	budget *protocol.Budget
	// tls is the TLS configuration, nil for plain TCP; key is its key.
	tls *tls.Config
	key *HostKey

	listener   net.Listener
	handshakes chan struct{}
	// httpListener serves the status page and metrics; nil when off.
	httpListener net.Listener
	// metrics are the server's metrics and what its status page shows.
	metrics *metrics
	// started is when New made the server.
	started time.Time
	// inflight counts requests being handled; draining refuses new ones.
	inflight atomic.Int64
	draining atomic.Bool
	// access holds the tokens and allowed networks new connections are
	// checked against; Reload swaps it (reload.go).
	access atomic.Pointer[access]
}

// New prepares a server: it finds the compilers to serve, opens the caches
// and creates the job runner. Listen and Serve start it; Close releases it.
func New(ctx context.Context, opts Options) (*Server, error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("server: no configuration")
	}
	if len(cfg.Tokens) == 0 {
		return nil, errors.New("server: no accepted token")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	name := opts.Name
	if name == "" {
		name, _ = os.Hostname()
	}
	prober := &toolchain.Prober{}
	tcs := opts.Toolchains
	if tcs == nil {
		var err error
		tcs, err = DiscoverToolchainsAndTargets(ctx, prober, cfg.Toolchains, cfg.ClangTargets, log)
		switch {
		case errors.Is(err, ErrNoCompiler) && cfg.ToolchainMaxSize > 0 && !cfg.Sandbox.Off:
			log.Warn("no compiler is installed here: this host serves only toolchains clients ship")
		case err != nil:
			return nil, err
		}
	} else {
		prober = nil // given compilers were not probed here
	}
	runner, err := newSandboxedRunner(ctx, cfg, RunnerOptions{Workdir: cfg.Workdir, TreeDir: cfg.TreeDir, Jobs: cfg.Jobs,
		JobTimeout: cfg.JobTimeout, Toolchains: tcs, Prober: prober, Logger: log})
	if err != nil {
		return nil, err
	}
	store, err := openOrStartOver(cfg.CacheDir, StoreOptions{MaxSize: cfg.CacheMaxSize, Logger: log}, log)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	grace := opts.ShutdownGrace
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	s := &Server{cfg: cfg, log: log, name: name, toolchains: tcs, runner: runner, store: store,
		grace: grace, handshakes: make(chan struct{}, maxHandshakes), budget: protocol.NewBudget(protocol.DefaultBudget),
		metrics: newMetrics(func() protocol.Load { return runner.Load("") }, store.Usage), started: time.Now()}
	runner.metrics = s.metrics
	s.access.Store(&access{allow: cfg.Allow, tokens: cfg.Tokens})
	if !cfg.Plaintext {
		if s.key, err = LoadHostKey(cfg.TLSFile, name); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("server: %w", err)
		}
		s.tls = protocol.ServerTLSConfig(s.key.Cert)
	}
	return s, nil
}

// Listen opens the TCP listener on the configured address and returns the
// address it listens on (the port is known when the config asks for 0),
// and the status page's listener when the config has one (HTTPAddr).
func (s *Server) Listen(ctx context.Context) (net.Addr, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("server: listen: %w", err)
	}
	if err := s.listenHTTP(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	s.listener = l
	return l.Addr(), nil
}

// Serve accepts connections until ctx ends, then stops accepting, waits up
// to the shutdown grace for running requests, closes every session and
// returns nil. Listen must have been called.
func (s *Server) Serve(ctx context.Context) error {
	if s.listener == nil {
		return errors.New("server: Serve before Listen")
	}
	connCtx, cancelConns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelConns()
	var conns sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { _ = s.listener.Close() })
	defer stop()
	waitHTTP := s.serveHTTP(ctx)
	defer waitHTTP()
	s.log.Info("listening", "addr", s.listener.Addr().String(), "jobs", s.cfg.Jobs,
		"toolchains", len(s.toolchains.List()), "transport", s.Transport())
	var acceptErr error
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, net.ErrClosed) {
				acceptErr = fmt.Errorf("server: accept: %w", err)
				break
			}
			// Out of file descriptors, or a connection reset while queued:
			// wait a little and go on serving.
			s.log.Warn("accepting a connection", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(acceptRetryDelay):
			}
			continue
		}
		if !s.allowed(conn.RemoteAddr()) {
			s.log.Warn("connection refused: address not in allow", "remote", conn.RemoteAddr().String())
			_ = conn.Close()
			continue
		}
		select {
		case s.handshakes <- struct{}{}:
		default:
			s.log.Warn("connection refused: too many handshakes in progress", "remote", conn.RemoteAddr().String())
			_ = conn.Close()
			continue
		}
		conn = s.metrics.countConn(conn)
		conns.Go(func() { s.serveConn(connCtx, conn) })
	}
	_ = s.listener.Close()
	s.drain()
	cancelConns()
	conns.Wait()
	return acceptErr
}

// drain refuses new requests and waits up to the grace period for the
// running ones.
func (s *Server) drain() {
	s.draining.Store(true)
	s.runner.EndWatches()
	deadline := time.Now().Add(s.grace)
	for s.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.inflight.Load(); n > 0 {
		s.log.Warn("shutting down with requests still running", "requests", n)
	}
}

// allowed reports whether a client address is in the allowed networks.
func (s *Server) allowed(addr net.Addr) bool {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.access.Load().allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// serveConn authenticates one connection and serves its yamux session.
func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	remote := conn.RemoteAddr().String()
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	secured, err := protocol.AcceptTransport(hctx, conn, s.tls)
	client, tokenIndex := "", -1
	if err == nil {
		conn = secured
		client, tokenIndex, err = protocol.ServerHandshake(hctx, conn, s.name, s.access.Load().tokens, s.welcome)
	}
	cancel()
	<-s.handshakes
	if err != nil {
		s.log.Warn("handshake failed", "remote", remote, "err", err)
		return
	}
	log := s.log.With("remote", remote, "client", oneLine(client))
	log.Info("client connected", "token", tokenIndex+1)
	defer s.metrics.sessionOpened()()
	sess, err := yamux.Server(conn, protocol.ServerYamuxConfig())
	if err != nil {
		log.Warn("starting the session", "err", err)
		return
	}
	if err := protocol.ServeWithin(ctx, sess, func(ctx context.Context, req protocol.Message) protocol.Message {
		return s.handle(ctx, log, peer{name: client, session: remote}, req)
	}, protocol.ServeLimits{Budget: s.budget}); err != nil && ctx.Err() == nil {
		log.Warn("session ended", "err", err)
		return
	}
	log.Info("client disconnected")
}

// Transport describes the server's transport: "TLS, fingerprint sha256:..."
// or "plain TCP (not encrypted)".
func (s *Server) Transport() string {
	if s.key == nil {
		return "plain TCP (not encrypted)"
	}
	return "TLS, fingerprint " + s.key.Fingerprint
}

// welcome is the Welcome of the handshake, without its MAC.
func (s *Server) welcome() protocol.Welcome {
	return protocol.Welcome{Toolchains: s.toolchains.List(), Load: s.runner.Load(""), Sandboxed: s.runner.Sandboxed(), Ships: s.runner.Ships()}
}

// Close releases the caches and removes the runner's tree directory when
// empty. Call it after Serve returned.
func (s *Server) Close() error {
	if s.httpListener != nil {
		_ = s.httpListener.Close() // closed already when Serve ran
	}
	s.runner.Close()
	return s.store.Close()
}

// openOrStartOver opens the caches' store in dir. A database that does not
// open (damaged) is set aside, with a warning, and an empty one started: a
// host serves compiles without what it had cached rather than not at all.
// One that another process has open is an error.
func openOrStartOver(dir string, opts StoreOptions, log *slog.Logger) (*Store, error) {
	store, err := OpenStore(dir, opts)
	if err == nil || errors.Is(err, ErrStoreInUse) {
		// A cache another process holds is not set aside.
		return store, err
	}
	aside, aerr := badgerstore.SetAside(dir)
	if aerr != nil {
		return nil, fmt.Errorf("%w (%v)", err, aerr)
	}
	log.Warn("the cache did not open: it is set aside and an empty one started", "err", err, "set_aside", aside)
	return OpenStore(dir, opts)
}
