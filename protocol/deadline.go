package protocol

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// defaultHandshakeTimeout bounds a handshake whose ctx has no deadline, so a
// peer that connects and goes quiet cannot hold a connection forever.
const defaultHandshakeTimeout = 30 * time.Second

// longAgo is a deadline in the past: setting it unblocks pending I/O at once.
var longAgo = time.Unix(1, 0)

// bindConn ties conn to ctx for the duration of a handshake: ctx's deadline
// (or defaultHandshakeTimeout) becomes conn's deadline, and a cancelled ctx
// closes conn. The returned release clears the deadline for what follows the
// handshake; it fails with ctx's error when ctx already closed conn.
func bindConn(ctx context.Context, conn net.Conn) (deadline time.Time, release func() error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultHandshakeTimeout)
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	return deadline, func() error {
		if !stop() {
			return context.Cause(ctx)
		}
		return conn.SetDeadline(time.Time{})
	}
}

// withContext makes err match ctx's error under errors.Is when ctx ended, or
// when err is the timeout of a deadline taken from ctx (the I/O deadline can
// fire a moment before ctx reports it).
func withContext(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	cerr := ctx.Err()
	if cerr == nil && isTimeout(err) {
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			cerr = context.DeadlineExceeded
		}
	}
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w: %w", cerr, err)
}

// isTimeout reports whether err is an I/O deadline expiring.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
