package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// Serve runs a daemon on opts.SocketPath until it has been idle for
// opts.IdleTimeout, a client asks it to stop, it gets SIGTERM or SIGINT, its
// socket file is removed or replaced (its directory was removed), or ctx
// ends. It answers each connection in a goroutine of its own. On the way
// out it stops accepting, lets requests in flight finish (up to
// opts.ShutdownGrace, then cancels them), calls backend.Close once (waiting
// for it up to opts.CloseTimeout), removes
// the socket and releases the pid file. It calls backend.Close exactly once
// whatever happens, even when it cannot start (ErrAlreadyRunning, ...).
func Serve(ctx context.Context, opts ServerOptions, backend Backend) error {
	l, err := Listen(ctx, opts)
	if err != nil {
		if cerr := backend.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close backend: %w", cerr))
		}
		return err
	}
	return l.Serve(ctx, backend)
}

// Serve runs the daemon on l (see the package function Serve) and releases
// l when done.
func (l *Listener) Serve(ctx context.Context, backend Backend) error {
	s := newServer(l, backend)
	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stopSignals()
	s.log.Info("daemon listening", "socket", l.opts.SocketPath, "pid", os.Getpid(),
		"build", l.opts.BuildID, "idle_timeout", l.opts.IdleTimeout)
	go s.acceptLoop()
	why := s.wait(ctx)
	s.log.Info("daemon stopping", "reason", why)
	if err := socketGone(l.opts.SocketPath, l.sock); err != nil {
		// The path is gone or another daemon's now: leave it alone.
		l.ln.SetUnlinkOnClose(false)
	}
	s.shutdown()
	err := closeWithin(l.opts.CloseTimeout, backend.Close)
	if err != nil {
		err = fmt.Errorf("close backend: %w", err)
		s.log.Error("daemon backend close failed", "err", err)
	}
	if rerr := releasePIDFile(l.pid); rerr != nil {
		err = errors.Join(err, rerr)
	}
	s.log.Info("daemon stopped", "requests", s.status().Requests)
	return err
}

// server is one running daemon.
type server struct {
	l       *Listener
	opts    ServerOptions
	backend Backend
	log     *slog.Logger
	self    hello
	started time.Time

	// base is the parent of every request's context; cancelled when the
	// shutdown grace period is over.
	base       context.Context
	cancelBase context.CancelFunc

	stopOnce sync.Once
	stopCh   chan struct{}

	mu         sync.Mutex
	conns      map[*serverConn]struct{}
	inFlight   int
	requests   int64
	lastActive time.Time
	closing    bool
	handlers   sync.WaitGroup
}

func newServer(l *Listener, backend Backend) *server {
	base, cancel := context.WithCancel(context.Background())
	now := time.Now()
	return &server{
		l: l, opts: l.opts, backend: backend, log: l.opts.Logger,
		self:    hello{Magic: helloMagic, Protocol: ProtocolVersion, BuildID: l.opts.BuildID, PID: os.Getpid()},
		started: now, base: base, cancelBase: cancel,
		stopCh: make(chan struct{}), conns: map[*serverConn]struct{}{}, lastActive: now,
	}
}

// wait blocks until the daemon must stop and says why.
func (s *server) wait(ctx context.Context) string {
	check := time.NewTicker(SocketCheckInterval)
	defer check.Stop()
	var idle <-chan time.Time
	var t *time.Timer
	if s.opts.IdleTimeout > 0 {
		t = time.NewTimer(s.opts.IdleTimeout)
		defer t.Stop()
		idle = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return fmt.Sprintf("context: %v", context.Cause(ctx))
		case <-s.stopCh:
			return "stop request"
		case <-check.C:
			if err := socketGone(s.opts.SocketPath, s.l.sock); err != nil {
				return err.Error()
			}
		case <-idle:
			if d := s.idleFor(); d < s.opts.IdleTimeout {
				t.Reset(s.opts.IdleTimeout - d)
				continue
			}
			return "idle timeout"
		}
	}
}

// idleFor returns how long the daemon has had nothing to do (0 while a
// request is in flight).
func (s *server) idleFor() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight > 0 {
		return 0
	}
	return time.Since(s.lastActive)
}

// requestStop makes wait return.
func (s *server) requestStop() {
	s.stopOnce.Do(func() { close(s.stopCh) })
}

// acceptLoop accepts connections until the listener closes.
func (s *server) acceptLoop() {
	for {
		c, err := s.l.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and the like: wait for connections to go away.
			s.log.Warn("daemon accept failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		sc := &serverConn{s: s, c: c}
		if !s.addConn(sc) {
			c.Close()
			continue
		}
		go sc.serve()
	}
}

// addConn registers a new connection, unless the daemon is closing.
func (s *server) addConn(sc *serverConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[sc] = struct{}{}
	s.lastActive = time.Now()
	s.handlers.Add(1)
	return true
}

// dropConn closes and forgets a connection.
func (s *server) dropConn(sc *serverConn) {
	sc.c.Close()
	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
	s.handlers.Done()
}

// begin marks a request of sc in flight; false when the daemon is closing.
func (s *server) begin(sc *serverConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	sc.busy = true
	s.inFlight++
	s.requests++
	return true
}

// end marks sc's request done and reports whether the daemon is closing.
func (s *server) end(sc *serverConn) (closing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc.busy = false
	s.inFlight--
	s.lastActive = time.Now()
	return s.closing
}

// status reports the daemon's state.
func (s *server) status() StatusReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StatusReport{
		PID: s.self.PID, Protocol: s.self.Protocol, BuildID: s.self.BuildID,
		Socket: s.opts.SocketPath, Started: s.started, IdleTimeout: max(s.opts.IdleTimeout, 0),
		Connections: len(s.conns), InFlight: s.inFlight, Requests: s.requests,
	}
}

// stopAccepting closes the listener (removing the socket) and the
// connections with no request in flight; those with one are closed after
// their reply.
func (s *server) stopAccepting() {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	for sc := range s.conns {
		if !sc.busy {
			sc.c.Close()
		}
	}
	s.mu.Unlock()
	if err := s.l.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Warn("daemon listener close failed", "err", err)
	}
}

// shutdown stops accepting and waits for requests in flight: up to the
// grace period, then they are cancelled and their connections closed.
func (s *server) shutdown() {
	s.stopAccepting()
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		close(done)
	}()
	t := time.NewTimer(s.opts.ShutdownGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Warn("daemon cancelling requests still in flight", "grace", s.opts.ShutdownGrace)
		s.mu.Lock()
		for sc := range s.conns {
			sc.c.Close()
		}
		s.mu.Unlock()
		s.cancelBase()
		<-done
	}
	s.cancelBase()
}
