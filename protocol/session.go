package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

const (
	// maxWriteChunk bounds one write to a stream: yamux sends each write as
	// frames up to the stream window, and a 4 MiB frame would hold up the
	// small requests sharing the session.
	maxWriteChunk = 1 << 20
	// streamIOTimeout bounds how long a server waits for a request to arrive
	// on a stream it accepted, and for its response to be taken.
	streamIOTimeout = 2 * time.Minute
)

// YamuxConfig returns the yamux configuration both sides use: 4 MiB stream
// window, keepalive every 15 s, ConnectionWriteTimeout 10 s, logs discarded.
func YamuxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.MaxStreamWindowSize = 4 << 20
	c.EnableKeepAlive = true
	c.KeepAliveInterval = 15 * time.Second
	c.ConnectionWriteTimeout = 10 * time.Second
	c.LogOutput = io.Discard
	return c
}

// ClientSession is an authenticated connection to one server: a yamux client
// session on which every Call is one stream. It is safe for concurrent use.
type ClientSession struct {
	sess    *yamux.Session
	welcome *Welcome
	// clock records when the server last sent anything (see Watch).
	clock *readClock
	// silent: Watch closed the session.
	silent atomic.Bool
	// calls counts the calls in flight, which Watch watches.
	calls inFlight
}

// Dial connects to addr (TCP) within ctx, starts the transport (TLS with
// the host's key pinned, or plain TCP: see Transport), runs ClientHandshake
// inside it and starts a yamux client session over it.
func Dial(ctx context.Context, addr, token, client string, tr Transport) (*ClientSession, error) {
	if _, err := tr.check(); err != nil {
		return nil, fmt.Errorf("protocol: %s: %w", addr, err)
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("protocol: dial %s: %w", addr, err)
	}
	conn, err := SecureClient(ctx, raw, tr)
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("protocol: %s: %w", addr, err)
	}
	w, err := ClientHandshake(ctx, conn, token, client)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("protocol: %s: %w", addr, err)
	}
	clock := newReadClock(conn)
	sess, err := yamux.Client(clock, YamuxConfig())
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("protocol: %s: start session: %w", addr, err)
	}
	return &ClientSession{sess: sess, welcome: w, clock: clock}, nil
}

// Welcome returns the server's Welcome from the handshake.
func (s *ClientSession) Welcome() *Welcome { return s.welcome }

// Close closes the session, its streams and the connection.
func (s *ClientSession) Close() error { return s.sess.Close() }

// IsClosed reports whether the session is closed (by Close, the peer, or a
// failed keepalive).
func (s *ClientSession) IsClosed() bool { return s.sess.IsClosed() }

// Call opens a stream, writes req, reads the response of type want and closes
// the stream. ctx's deadline applies to the stream (send and receive) and a
// cancelled ctx closes it, so Call returns by then with an error matching
// ctx's. Without a deadline Call waits as long as the session lives. A
// refusal from the server is a *RemoteError.
func (s *ClientSession) Call(ctx context.Context, req Message, want MsgType) (Message, error) {
	s.calls.begin()
	defer s.calls.end()
	resp, err := s.call(ctx, req, want)
	if err != nil && s.silent.Load() {
		err = fmt.Errorf("%w: %w", ErrSilent, err)
	}
	if err != nil {
		return nil, fmt.Errorf("protocol: %s call: %w", typeName(req), withContext(ctx, err))
	}
	return resp, nil
}

func (s *ClientSession) call(ctx context.Context, req Message, want MsgType) (Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := s.openStream(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() {
		_ = st.SetDeadline(longAgo)
		_ = st.Close()
	})
	defer stop()
	if err := WriteMessage(chunkWriter{st}, req); err != nil {
		return nil, err
	}
	return ReadExpect(st, want)
}

// openStream opens a stream, giving up when ctx ends (yamux blocks when too
// many streams are waiting for the server's acknowledgement).
func (s *ClientSession) openStream(ctx context.Context) (*yamux.Stream, error) {
	type opened struct {
		st  *yamux.Stream
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		st, err := s.sess.OpenStream()
		ch <- opened{st, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, fmt.Errorf("open stream: %w", o.err)
		}
		return o.st, nil
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.st != nil {
				_ = o.st.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// Serve accepts streams on an authenticated server-side yamux session and
// calls handle for each request (CompileRequest, CacheGet, CachePut, Clean,
// Status), several streams at once, writing back the message handle returns
// (an *Error for refusals; nil is sent as an "internal" Error). Requests that
// do not decode, and messages that are not requests, are answered with an
// Error without calling handle. The ctx passed to handle ends when Serve's
// ctx does, or when the client gives up on the request (closes its stream or
// the session goes). Serve returns when the session closes (nil when the peer
// closed it) or ctx ends (ctx's error); either way it closes the session and
// waits for running handlers to return.
func Serve(ctx context.Context, sess *yamux.Session, handle func(ctx context.Context, req Message) Message) error {
	return ServeWithin(ctx, sess, handle, ServeLimits{})
}

// serveStream answers the one request on st, holding its declared size in
// budget from before its payload is read until it is answered.
func serveStream(ctx context.Context, st *yamux.Stream, handle func(context.Context, Message) Message, budget *Budget) {
	defer st.Close()
	deadline := time.Now().Add(streamIOTimeout)
	_ = st.SetDeadline(deadline)
	rctx, rcancel := context.WithDeadline(ctx, deadline)
	req, release, err := readWithin(rctx, st, budget)
	rcancel()
	defer release()
	if err != nil {
		if code := refusalCode(err); code != "" {
			reply(st, &Error{Code: code, Message: err.Error()})
		}
		return
	}
	if !req.Type().isRequest() {
		reply(st, &Error{Code: CodeMalformed, Message: fmt.Sprintf("%s is not a request", req.Type())})
		return
	}

	// The client sends nothing more until it has the response, so a read
	// that returns means it closed the stream (gave up) or the session went.
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_ = st.SetReadDeadline(time.Time{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		var b [1]byte
		_, _ = st.Read(b[:])
		cancel()
	}()

	resp := handle(hctx, req)
	if resp == nil || reflect.ValueOf(resp).IsNil() {
		resp = &Error{Code: CodeInternal, Message: "no response"}
	}
	_ = st.SetWriteDeadline(time.Now().Add(streamIOTimeout))
	reply(st, resp)

	_ = st.SetReadDeadline(longAgo) // release the watcher
	<-watched
}

// readWithin reads one message, first taking its declared size (decoded and
// on the wire) from budget, waiting for it until ctx ends. The caller calls
// release once done with the message (also after an error).
func readWithin(ctx context.Context, r io.Reader, budget *Budget) (m Message, release func(), err error) {
	release = func() {}
	h, err := readHeader(r)
	if err != nil {
		return nil, release, err
	}
	if err := h.check(MaxMessageSize, MaxFrameSize); err != nil {
		return nil, release, err
	}
	n := int64(h.size) + int64(h.wire)
	if err := budget.acquire(ctx, n); err != nil {
		return nil, release, err
	}
	m, err = readBody(r, h)
	return m, func() { budget.release(n) }, err
}

// reply writes resp on st; a response too large to send becomes a
// "too-large" Error (nothing has been written when encoding fails).
func reply(st *yamux.Stream, resp Message) {
	err := WriteMessage(chunkWriter{st}, resp)
	if errors.Is(err, ErrTooLarge) {
		_ = WriteMessage(chunkWriter{st}, &Error{Code: CodeTooLarge, Message: fmt.Sprintf("%s response too large", resp.Type())})
	}
}

// chunkWriter splits writes into pieces of at most maxWriteChunk bytes.
type chunkWriter struct{ w io.Writer }

func (c chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := c.w.Write(p[n:min(len(p), n+maxWriteChunk)])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// typeName names a message's type for errors, nil included.
func typeName(m Message) string {
	if m == nil {
		return "nil"
	}
	return m.Type().String()
}
