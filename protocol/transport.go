package protocol

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
)

// Choosing the transport, before the dcc handshake. A TLS client starts with
// a TLS ClientHello, whose first byte is a handshake record (0x16). A client
// configured for plain TCP starts with plainPreamble instead. The host reads
// the first byte and so tells at once whether the client's transport is its
// own; when it is not, it answers in the client's transport as best it can
// and closes, so that neither side waits for a timeout:
//
//	TLS client, plain host: the host sends an Error frame, which the client's
//	TLS reads as a record that is not TLS (tls.RecordHeaderError).
//	plain client, TLS host: the host sends an Error frame (code "transport")
//	in place of Hello.
const (
	// plainPreamble is what a plain-TCP client sends first.
	plainPreamble = "dcc-plain-tcp\n"
	// tlsHandshakeRecord is the first byte of a TLS ClientHello.
	tlsHandshakeRecord = 0x16
)

// Transport says how a client reaches a host: TLS 1.3 with the host's key
// pinned (the default), or plain TCP when both sides are configured for it.
type Transport struct {
	// Fingerprint is the host's key, "sha256:HEX" (see Fingerprint). A TLS
	// host without one is refused before connecting (ErrNoFingerprint).
	Fingerprint string
	// Plaintext sends everything in clear over TCP; the host must have
	// tls = "off".
	Plaintext bool
}

// check returns why t cannot be used, or nil.
func (t Transport) check() (string, error) {
	if t.Plaintext {
		return "", nil
	}
	if t.Fingerprint == "" {
		return "", ErrNoFingerprint
	}
	fp, err := ParseFingerprint(t.Fingerprint)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrFingerprint, err)
	}
	return fp, nil
}

// SecureClient starts the client's transport on a fresh connection to a
// host: the TLS handshake with the pin checked (the connection returned is
// then the TLS one), or the plain preamble. ctx bounds it. Dial calls it;
// tests that speak the handshake themselves do too.
func SecureClient(ctx context.Context, conn net.Conn, t Transport) (net.Conn, error) {
	fp, err := t.check()
	if err != nil {
		return nil, err
	}
	if t.Plaintext {
		_, release := bindConn(ctx, conn)
		_, err := io.WriteString(conn, plainPreamble)
		if rerr := release(); err == nil {
			err = rerr
		}
		if err != nil {
			return nil, fmt.Errorf("send preamble: %w", withContext(ctx, err))
		}
		return conn, nil
	}
	tc := tls.Client(conn, clientTLSConfig(fp))
	if err := tc.HandshakeContext(ctx); err != nil {
		if errors.Is(err, ErrFingerprint) {
			return nil, err
		}
		return nil, withContext(ctx, tlsFailure(err))
	}
	return hardClose{Conn: tc, raw: conn}, nil
}

// AcceptTransport starts the host's side of the transport on a freshly
// accepted conn: TLS with cfg, or plain TCP when cfg is nil. It returns the
// connection the dcc handshake then runs on. A client whose transport is not
// the host's is told so (best effort) and refused with an error matching
// ErrTransport. ctx's deadline (30 s when it has none) bounds it; a
// cancelled ctx closes conn.
func AcceptTransport(ctx context.Context, conn net.Conn, cfg *tls.Config) (net.Conn, error) {
	deadline, release := bindConn(ctx, conn)
	var first [1]byte
	_, err := io.ReadFull(conn, first[:])
	if err == nil {
		switch {
		case first[0] == tlsHandshakeRecord && cfg == nil:
			refuse(conn, deadline, CodeTransport, "this host has tls = \"off\": it speaks plain TCP")
			err = fmt.Errorf("%w: client speaks TLS, this host has tls = \"off\" (plain TCP)", ErrTransport)
		case first[0] == tlsHandshakeRecord:
			tc := tls.Server(&prefixConn{Conn: conn, prefix: first[:]}, cfg)
			if err = tc.HandshakeContext(ctx); err != nil {
				err = fmt.Errorf("TLS handshake: %w", err)
			} else {
				conn = hardClose{Conn: tc, raw: conn}
			}
		case first[0] == plainPreamble[0]:
			err = readPreamble(conn)
			if err == nil && cfg != nil {
				refuse(conn, deadline, CodeTransport, "this host requires TLS: remove plaintext for it and pin its "+
					"fingerprint (dcc-server --fingerprint on the host prints it)")
				err = fmt.Errorf("%w: client speaks plain TCP, this host requires TLS", ErrTransport)
			}
		default:
			err = fmt.Errorf("%w: first byte %#x is neither TLS nor the plain-TCP preamble", ErrTransport, first[0])
		}
	}
	if rerr := release(); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("protocol: transport: %w", withContext(ctx, err))
	}
	return conn, nil
}

// readPreamble reads the rest of plainPreamble (its first byte was read).
func readPreamble(conn net.Conn) error {
	rest := make([]byte, len(plainPreamble)-1)
	if _, err := io.ReadFull(conn, rest); err != nil {
		return fmt.Errorf("read the plain-TCP preamble: %w", err)
	}
	if string(rest) != plainPreamble[1:] {
		return fmt.Errorf("%w: not the plain-TCP preamble", ErrTransport)
	}
	return nil
}

// hardClose is a TLS connection whose Close closes the TCP connection at
// once. tls.Conn.Close first sends a close_notify alert, waiting up to 5 s
// when the peer reads nothing (a stalled host), which would hold up whoever
// closes a dead session. Nothing is lost: a session's end is yamux's, and a
// TLS peer reads a TCP close at a record boundary as the end of the stream,
// while a truncated record is an error.
type hardClose struct {
	net.Conn
	raw net.Conn
}

// Close closes the underlying TCP connection.
func (c hardClose) Close() error { return c.raw.Close() }

// prefixConn is a connection whose first bytes were already read: Read
// returns them first.
type prefixConn struct {
	net.Conn
	prefix []byte
}

// Read returns the prefix, then reads the connection.
func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
