package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Client is one connection to the daemon. Its methods may be called from
// several goroutines; requests on one Client go one at a time. After an I/O
// error or a cancelled request the connection is closed (the daemon then
// cancels what it was doing for it) and every later call fails with ErrClosed.
type Client struct {
	mu     sync.Mutex
	conn   *net.UnixConn
	server ServerInfo
	err    error
}

// Dial connects to the daemon on socketPath and shakes hands, within ctx's
// deadline or DefaultDialTimeout, whichever comes first. It fails with
// ErrNotRunning when no daemon listens there, and with ErrVersionMismatch
// when the daemon runs another ProtocolVersion or another build (buildID).
func Dial(ctx context.Context, socketPath, buildID string) (*Client, error) {
	conn, h, err := dialRaw(ctx, socketPath, buildID)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, err
	}
	return newClient(conn, h), nil
}

func newClient(conn *net.UnixConn, h *hello) *Client {
	return &Client{conn: conn, server: ServerInfo{Protocol: h.Protocol, BuildID: h.BuildID, PID: h.PID}}
}

// dialRaw connects and shakes hands. On ErrVersionMismatch it still returns
// the connection and the daemon's hello, so that the caller can stop it.
func dialRaw(ctx context.Context, socketPath, buildID string) (*net.UnixConn, *hello, error) {
	ctx, cancel := withDefaultTimeout(ctx, DefaultDialTimeout)
	defer cancel()
	conn, err := connect(ctx, socketPath)
	if err != nil {
		return nil, nil, err
	}
	self := hello{Magic: helloMagic, Protocol: ProtocolVersion, BuildID: buildID, PID: os.Getpid()}
	frame, err := encodeMessage(&message{Op: opHello, Hello: &self})
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	reply, err := exchange(ctx, conn, opHello, frame)
	if err == nil {
		err = self.checkReply(reply)
	}
	if err != nil && !errors.Is(err, ErrVersionMismatch) {
		conn.Close()
		return nil, nil, fmt.Errorf("daemon handshake on %s: %w", socketPath, err)
	}
	if err != nil {
		return conn, reply.Hello, fmt.Errorf("daemon on %s: %w", socketPath, err)
	}
	return conn, reply.Hello, nil
}

// connect opens the socket, retrying while its backlog is full.
func connect(ctx context.Context, socketPath string) (*net.UnixConn, error) {
	if err := checkSocketPath(socketPath); err != nil {
		return nil, err
	}
	var d net.Dialer
	delay := time.Millisecond
	for {
		c, err := d.DialContext(ctx, "unix", socketPath)
		if err == nil {
			return c.(*net.UnixConn), nil
		}
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w: %s: %w", ErrNotRunning, socketPath, err)
		}
		if !errors.Is(err, syscall.EAGAIN) {
			return nil, fmt.Errorf("connect to the daemon: %w", err)
		}
		if serr := sleep(ctx, delay); serr != nil {
			return nil, fmt.Errorf("connect to the daemon: %w (%w)", err, serr)
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// exchange sends req and reads the reply on conn, giving up when ctx ends.
// A daemon that hangs up is ErrNotRunning: it is on its way out.
func exchange(ctx context.Context, conn *net.UnixConn, o op, frame []byte) (*message, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	var reply *message
	_, err := conn.Write(frame)
	if err == nil {
		reply, err = readMessage(conn)
	}
	// Once the AfterFunc has run, the connection's deadline is spoiled.
	if stopped := stop(); !stopped || err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("daemon %v: %w", o, context.Cause(ctx))
	}
	switch {
	case err == nil && !reply.Reply:
		return nil, fmt.Errorf("%w: a request from the daemon", ErrProtocol)
	case err == nil:
		return reply, nil
	}
	return nil, quickError(o, err)
}

// quickError describes a failed exchange: a daemon that hangs up is
// ErrNotRunning (it is on its way out).
func quickError(o op, err error) error {
	switch {
	case errors.Is(err, ErrVersionMismatch), errors.Is(err, ErrNotRunning):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%w: the daemon closed the connection during %v: %w", ErrNotRunning, o, err)
	}
	return fmt.Errorf("daemon %v: %w", o, err)
}

// withDefaultTimeout bounds ctx by d unless it already ends sooner.
func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// Server says which daemon the client talks to.
func (c *Client) Server() ServerInfo {
	return c.server
}

// Close closes the connection; a request in flight on it fails at once.
func (c *Client) Close() error {
	err := c.conn.Close()
	c.mu.Lock()
	c.err = ErrClosed
	c.mu.Unlock()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close daemon connection: %w", err)
	}
	return nil
}

// roundTrip sends one request and returns its reply. A request too large to
// send fails before anything is sent and leaves the connection usable; any
// other failure, except an error the daemon answered, closes it.
func (c *Client) roundTrip(ctx context.Context, req *message) (*message, error) {
	frame, err := encodeMessage(req)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, fmt.Errorf("daemon %v: %w", req.Op, c.err)
	}
	reply, err := exchange(ctx, c.conn, req.Op, frame)
	if err == nil && reply.Op != req.Op && reply.Code == codeNone {
		err = fmt.Errorf("%w: %v reply to a %v request", ErrProtocol, reply.Op, req.Op)
	}
	if err != nil {
		c.broken()
		return nil, err
	}
	if rerr := reply.err(); rerr != nil {
		if reply.Code != codeFailed && reply.Code != codeNoRemote {
			c.broken() // the daemon closes the connection after these
		}
		return nil, fmt.Errorf("daemon %v: %w", req.Op, rerr)
	}
	return reply, nil
}

// broken closes a connection that can no longer be used.
func (c *Client) broken() {
	c.err = ErrClosed
	c.conn.Close()
}

// Compile asks the daemon to run one compile through the cache. When ctx
// ends first, the connection is closed and the daemon kills the compile.
func (c *Client) Compile(ctx context.Context, req CompileRequest) (CompileResult, error) {
	reply, err := c.roundTrip(ctx, &message{Op: opCompile, Compile: &req})
	if err != nil {
		return CompileResult{}, err
	}
	if reply.Result == nil {
		return CompileResult{}, nil
	}
	return *reply.Result, nil
}

// Stats returns the daemon's counters and cache size.
func (c *Client) Stats(ctx context.Context) (StatsReport, error) {
	reply, err := c.roundTrip(ctx, &message{Op: opStats})
	if err != nil {
		return StatsReport{}, err
	}
	if reply.Stats == nil {
		return StatsReport{}, fmt.Errorf("%w: stats reply without stats", ErrProtocol)
	}
	return *reply.Stats, nil
}

// ZeroStats zeroes the daemon's counters.
func (c *Client) ZeroStats(ctx context.Context) error {
	_, err := c.roundTrip(ctx, &message{Op: opZeroStats})
	return err
}

// Clear empties the cache.
func (c *Client) Clear(ctx context.Context) error {
	_, err := c.roundTrip(ctx, &message{Op: opClear})
	return err
}

// Status reports on the daemon process.
func (c *Client) Status(ctx context.Context) (StatusReport, error) {
	reply, err := c.roundTrip(ctx, &message{Op: opStatus})
	if err != nil {
		return StatusReport{}, err
	}
	if reply.Status == nil {
		return StatusReport{}, fmt.Errorf("%w: status reply without a status", ErrProtocol)
	}
	return *reply.Status, nil
}

// Stop asks the daemon to stop and returns once it has agreed; the daemon
// then finishes the requests in flight and exits (StopDaemon waits for that).
// It works on a connection from Dial and also on one that met a version
// mismatch (see StopDaemon).
func (c *Client) Stop(ctx context.Context) error {
	_, err := c.roundTrip(ctx, &message{Op: opStop})
	return err
}

// Hosts reports on the daemon's compile hosts (see RemoteBackend.Hosts);
// with check, the daemon contacts every host first. It fails with
// ErrNoRemote when the daemon's backend does not compile remotely.
func (c *Client) Hosts(ctx context.Context, check bool) ([]HostReport, error) {
	reply, err := c.roundTrip(ctx, &message{Op: opHosts, RemoteReq: &remoteRequest{Check: check}})
	if err != nil {
		return nil, err
	}
	return reply.Hosts, nil
}

// CleanRemote asks the daemon to remove project's entries from every host's
// shared cache (see RemoteBackend.CleanRemote). It fails with ErrNoRemote
// when the daemon's backend does not compile remotely.
func (c *Client) CleanRemote(ctx context.Context, project string) ([]CleanReport, error) {
	reply, err := c.roundTrip(ctx, &message{Op: opCleanRemote, RemoteReq: &remoteRequest{Project: project}})
	if err != nil {
		return nil, err
	}
	return reply.Cleaned, nil
}

// MonitorHosts reports on the daemon's compile hosts for dcc monitor (see
// HostMonitor.MonitorHosts): each host's load as it reports it now and this
// client's jobs in flight there. It fails with ErrNoRemote when the
// daemon's backend does not compile remotely.
func (c *Client) MonitorHosts(ctx context.Context) ([]HostReport, error) {
	reply, err := c.roundTrip(ctx, &message{Op: opMonitor})
	if err != nil {
		return nil, err
	}
	return reply.Hosts, nil
}
