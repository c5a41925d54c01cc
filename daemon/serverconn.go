package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"syscall"
	"time"
)

// serverConn is one wrapper connection.
type serverConn struct {
	s    *server
	c    *net.UnixConn
	busy bool // a request is in flight; guarded by s.mu
	// mismatch is set when the peer runs another version: it may only stop us.
	mismatch error
}

// serve answers the connection's handshake and then its requests, one at a
// time, until the peer closes it or the daemon stops.
func (sc *serverConn) serve() {
	defer sc.s.dropConn(sc)
	if !sc.handshake() {
		return
	}
	for {
		m, err := readMessage(sc.c)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
				sc.s.log.Warn("daemon read failed", "err", err)
				if errors.Is(err, ErrMessageTooLarge) || errors.Is(err, ErrProtocol) {
					sc.reply(errorReply(0, err))
				}
			}
			return
		}
		if m.Reply {
			sc.reply(errorReply(m.Op, fmt.Errorf("%w: a reply sent to the daemon", ErrProtocol)))
			return
		}
		if !sc.s.begin(sc) {
			sc.reply(errorReply(m.Op, ErrShuttingDown))
			return
		}
		start := time.Now()
		reply, gone := sc.handle(m)
		stop := m.Op == opStop && reply.Code == codeNone
		if stop {
			// Once the client hears back, no new connection gets in.
			sc.s.stopAccepting()
		}
		if !gone {
			sc.reply(reply)
		}
		sc.s.log.Debug("daemon request", "op", m.Op, "duration", time.Since(start), "peer_gone", gone, "err", reply.Error)
		closing := sc.s.end(sc)
		if stop {
			sc.s.requestStop()
		}
		if gone || closing || reply.Code == codeProtocol || reply.Code == codeVersion {
			return
		}
	}
}

// handshake exchanges hellos; false when the connection is unusable.
func (sc *serverConn) handshake() bool {
	sc.c.SetDeadline(time.Now().Add(sc.s.opts.HandshakeTimeout))
	defer sc.c.SetDeadline(time.Time{})
	m, err := readMessage(sc.c)
	if err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			sc.s.log.Warn("daemon handshake failed", "err", err)
			sc.reply(errorReply(opHello, err))
		}
		return false
	}
	if m.Op != opHello {
		sc.reply(errorReply(m.Op, fmt.Errorf("%w: %v before the handshake", ErrProtocol, m.Op)))
		return false
	}
	if err := sc.s.self.check(m.Hello); err != nil {
		if !errors.Is(err, ErrVersionMismatch) {
			sc.reply(errorReply(opHello, err))
			return false
		}
		sc.s.log.Warn("daemon client of another version", "err", err)
		sc.mismatch = err
	}
	self := sc.s.self
	return sc.reply(&message{Op: opHello, Hello: &self})
}

// reply sends m with the write timeout; false if it could not.
func (sc *serverConn) reply(m *message) bool {
	m.Reply = true
	frame, err := encodeMessage(m)
	if errors.Is(err, ErrMessageTooLarge) && m.Op == opCompile {
		// The wrapper compiles itself rather than lose the output.
		frame, err = encodeMessage(&message{Op: opCompile, Reply: true, Result: &CompileResult{
			Handled: false, Reason: "compile output too large for the daemon protocol: " + err.Error()}})
	}
	if err != nil {
		frame, err = encodeMessage(errorReply(m.Op, err))
	}
	if err != nil {
		sc.s.log.Error("daemon cannot encode a reply", "op", m.Op, "err", err)
		return false
	}
	sc.c.SetWriteDeadline(time.Now().Add(sc.s.opts.WriteTimeout))
	defer sc.c.SetWriteDeadline(time.Time{})
	if _, err := sc.c.Write(frame); err != nil {
		sc.s.log.Warn("daemon reply failed", "op", m.Op, "err", err)
		return false
	}
	return true
}

// handle answers one request with a context that ends when the peer goes
// away; gone reports that it did (there is no one to reply to).
func (sc *serverConn) handle(m *message) (reply *message, gone bool) {
	if sc.mismatch != nil && m.Op != opStop {
		return errorReply(m.Op, sc.mismatch), false
	}
	ctx, cancel := context.WithCancel(sc.s.base)
	defer cancel()
	stopWatch := watchPeer(sc.c, cancel)
	reply = sc.dispatch(ctx, m)
	return reply, stopWatch()
}

// dispatch calls the backend, turning a panic into an error reply (or, for a
// compile, into "compile it yourself"): a bug in one compile must not take
// the daemon, and with it every other compile, down.
func (sc *serverConn) dispatch(ctx context.Context, m *message) (reply *message) {
	defer func() {
		if p := recover(); p != nil {
			sc.s.log.Error("daemon backend panic", "op", m.Op, "panic", p, "stack", string(debug.Stack()))
			err := fmt.Errorf("%w: internal error in %v: %v", ErrDaemon, m.Op, p)
			reply = errorReply(m.Op, err)
			if m.Op == opCompile {
				reply = &message{Op: opCompile, Result: &CompileResult{Reason: err.Error()}}
			}
		}
	}()
	b := sc.s.backend
	switch m.Op {
	case opCompile:
		if m.Compile == nil {
			return errorReply(m.Op, fmt.Errorf("%w: compile request without a command", ErrProtocol))
		}
		res := b.Compile(ctx, *m.Compile)
		return &message{Op: opCompile, Result: &res}
	case opStats:
		r, err := b.Stats(ctx)
		if err != nil {
			return errorReply(m.Op, fmt.Errorf("stats: %w", err))
		}
		return &message{Op: opStats, Stats: &r}
	case opZeroStats:
		if err := b.ZeroStats(ctx); err != nil {
			return errorReply(m.Op, fmt.Errorf("zero stats: %w", err))
		}
		return &message{Op: opZeroStats}
	case opClear:
		if err := b.Clear(ctx); err != nil {
			return errorReply(m.Op, fmt.Errorf("clear: %w", err))
		}
		return &message{Op: opClear}
	case opStatus:
		st := sc.s.status()
		return &message{Op: opStatus, Status: &st}
	case opHosts, opCleanRemote, opMonitor:
		return sc.dispatchRemote(ctx, m)
	case opStop:
		return &message{Op: opStop}
	}
	return errorReply(m.Op, fmt.Errorf("%w: unexpected %v request", ErrProtocol, m.Op))
}

// watchPeer cancels a request's context when its peer hangs up (or sends
// anything: a client waits for its reply in silence). The returned stop
// function ends the watch and reports whether the peer is gone.
func watchPeer(c *net.UnixConn, cancel context.CancelFunc) (stop func() (gone bool)) {
	done := make(chan bool, 1)
	go func() {
		var b [1]byte
		_, err := c.Read(b[:])
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			done <- false
			return
		}
		cancel()
		done <- true
	}()
	return func() bool {
		c.SetReadDeadline(time.Unix(1, 0))
		gone := <-done
		c.SetReadDeadline(time.Time{})
		return gone
	}
}

// monitorReply answers a monitor request: HostMonitor's report, or
// Hosts' without contacting any host when rb does not implement it.
func monitorReply(ctx context.Context, rb RemoteBackend) *message {
	var hosts []HostReport
	var err error
	if hm, ok := rb.(HostMonitor); ok {
		hosts, err = hm.MonitorHosts(ctx)
	} else {
		hosts, err = rb.Hosts(ctx, false)
	}
	if err != nil {
		return errorReply(opMonitor, fmt.Errorf("monitor: %w", err))
	}
	return &message{Op: opMonitor, Hosts: hosts}
}

// dispatchRemote answers a hosts or clean-remote request through the
// backend's RemoteBackend, or with ErrNoRemote when it has none.
func (sc *serverConn) dispatchRemote(ctx context.Context, m *message) *message {
	rb, ok := sc.s.backend.(RemoteBackend)
	if !ok {
		return errorReply(m.Op, ErrNoRemote)
	}
	if m.Op == opMonitor {
		return monitorReply(ctx, rb)
	}
	if m.RemoteReq == nil {
		return errorReply(m.Op, fmt.Errorf("%w: %v request without its body", ErrProtocol, m.Op))
	}
	if m.Op == opHosts {
		hosts, err := rb.Hosts(ctx, m.RemoteReq.Check)
		if err != nil {
			return errorReply(m.Op, fmt.Errorf("hosts: %w", err))
		}
		return &message{Op: opHosts, Hosts: hosts}
	}
	cleaned, err := rb.CleanRemote(ctx, m.RemoteReq.Project)
	if err != nil {
		return errorReply(m.Op, fmt.Errorf("clean project %q on the hosts: %w", m.RemoteReq.Project, err))
	}
	return &message{Op: opCleanRemote, Cleaned: cleaned}
}
