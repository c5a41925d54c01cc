package protocol

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pierrec/lz4/v4"
)

// The handshake, on the raw connection before yamux starts:
//
//	server -> client  Hello{Version, Server, Nonce: Ns}
//	client -> server  Auth{Version, Client, Nonce: Nc, MAC: HMAC(token, clientLabel || Ns || Nc)}
//	server -> client  Welcome{MAC: HMAC(token, serverLabel || Nc || Ns), ...}  or  Error
//
// Each side proves it knows the token by answering the other's fresh nonce,
// so the token itself never crosses the wire. The labels keep one side's MAC
// from ever serving as the other's.
const (
	clientLabel = "dcc-client-v1"
	serverLabel = "dcc-server-v1"

	// maxAuthSize bounds an Auth payload: version, client name, two 32-byte
	// fields. The server reads nothing larger before authentication.
	maxAuthSize = binary.MaxVarintLen16 + binary.MaxVarintLen32 + MaxStringLen + 64
	// maxHelloSize bounds a Hello payload: version, server name, nonce.
	maxHelloSize = binary.MaxVarintLen16 + binary.MaxVarintLen32 + MaxStringLen + 32
	// maxErrorSize bounds an Error payload: two strings.
	maxErrorSize = 2 * (binary.MaxVarintLen32 + MaxStringLen)

	// refusalTimeout bounds sending an Error to a peer being refused.
	refusalTimeout = 2 * time.Second
)

// ClientHandshake runs the client side on a fresh connection: it reads Hello,
// checks Version (ErrVersion), sends Auth, reads Welcome and verifies that the
// server proved it knows token (ErrAuth if not). A refusal from the server
// (in place of Hello or of Welcome) is a *RemoteError; its "auth" code matches
// ErrAuth. ctx's deadline (30 s when it
// has none) applies to conn during the handshake and is cleared afterwards; a
// cancelled ctx closes conn. The token never appears in errors.
func ClientHandshake(ctx context.Context, conn net.Conn, token, client string) (*Welcome, error) {
	if token == "" {
		return nil, fmt.Errorf("protocol: handshake: empty token: %w", ErrAuth)
	}
	_, release := bindConn(ctx, conn)
	w, err := clientHandshake(conn, token, client)
	if rerr := release(); err == nil && rerr != nil {
		err = fmt.Errorf("protocol: handshake: %w", rerr)
	}
	if err != nil {
		return nil, withContext(ctx, err)
	}
	return w, nil
}

func clientHandshake(conn net.Conn, token, client string) (*Welcome, error) {
	m, err := readFirst(conn, MsgHello, maxHelloSize, true)
	if err != nil {
		return nil, fmt.Errorf("protocol: handshake: read Hello: %w", err)
	}
	hello := m.(*Hello)
	if hello.Version != Version {
		return nil, fmt.Errorf("protocol: handshake: server %q speaks protocol version %d, this client %d: %w",
			printable(hello.Server), hello.Version, Version, ErrVersion)
	}
	auth := &Auth{Version: Version, Client: client}
	_, _ = rand.Read(auth.Nonce[:]) // never fails (crypto/rand crashes the program instead)
	auth.MAC = computeMAC(token, clientLabel, hello.Nonce, auth.Nonce)
	if err := WriteMessage(conn, auth); err != nil {
		return nil, fmt.Errorf("protocol: handshake: send Auth: %w", err)
	}
	m, err = ReadExpect(conn, MsgWelcome)
	if err != nil {
		return nil, fmt.Errorf("protocol: handshake with %q: %w", printable(hello.Server), err)
	}
	w := m.(*Welcome)
	want := computeMAC(token, serverLabel, auth.Nonce, hello.Nonce)
	if !hmac.Equal(w.MAC[:], want[:]) {
		return nil, fmt.Errorf("protocol: handshake: server %q did not prove it knows the token: %w",
			printable(hello.Server), ErrAuth)
	}
	return w, nil
}

// ServerHandshake runs the server side on a freshly accepted connection: it
// sends Hello, reads Auth (a frame of another type, or one larger than an Auth
// can be, is refused from its header alone, before any payload is read),
// checks the version and the MAC against each accepted token with hmac.Equal
// (empty tokens never match), then sends the Welcome built by welcome (which
// may be nil) with the server's proof. On failure it sends an Error message
// (code "auth", "version", "too-large" or "malformed") and returns an error
// matching ErrAuth, ErrVersion, ErrTooLarge, ErrMalformed or ErrUnexpected.
// It returns the client's self-reported name and the index in tokens of the
// token that matched, never the token. ctx's deadline (30 s when it has none)
// applies to conn during the handshake and is cleared afterwards; a cancelled
// ctx closes conn.
func ServerHandshake(ctx context.Context, conn net.Conn, server string, tokens []string,
	welcome func() Welcome) (client string, tokenIndex int, err error) {
	deadline, release := bindConn(ctx, conn)
	client, tokenIndex, err = serverHandshake(conn, deadline, server, tokens, welcome)
	if rerr := release(); err == nil && rerr != nil {
		err = fmt.Errorf("protocol: handshake: %w", rerr)
	}
	if err != nil {
		return "", -1, withContext(ctx, err)
	}
	return client, tokenIndex, nil
}

func serverHandshake(conn net.Conn, deadline time.Time, server string, tokens []string,
	welcome func() Welcome) (string, int, error) {
	hello := &Hello{Version: Version, Server: server}
	_, _ = rand.Read(hello.Nonce[:])
	if err := WriteMessage(conn, hello); err != nil {
		return "", -1, fmt.Errorf("protocol: handshake: send Hello: %w", err)
	}
	m, err := readFirst(conn, MsgAuth, maxAuthSize, false)
	if err != nil {
		if code := refusalCode(err); code != "" {
			refuse(conn, deadline, code, "expected a valid Auth message")
		}
		return "", -1, fmt.Errorf("protocol: handshake: read Auth: %w", err)
	}
	auth := m.(*Auth)
	if auth.Version != Version {
		refuse(conn, deadline, CodeVersion, fmt.Sprintf("server speaks protocol version %d", Version))
		return "", -1, fmt.Errorf("protocol: handshake: client %q speaks protocol version %d, this server %d: %w",
			printable(auth.Client), auth.Version, Version, ErrVersion)
	}
	index := -1
	for i, token := range tokens {
		if token == "" {
			continue
		}
		want := computeMAC(token, clientLabel, hello.Nonce, auth.Nonce)
		if hmac.Equal(want[:], auth.MAC[:]) && index < 0 {
			index = i // keep checking the rest: the time taken does not depend on which matched
		}
	}
	if index < 0 {
		refuse(conn, deadline, CodeAuth, "authentication failed")
		return "", -1, fmt.Errorf("protocol: handshake: client %q: %w", printable(auth.Client), ErrAuth)
	}
	var w Welcome
	if welcome != nil {
		w = welcome()
	}
	w.MAC = computeMAC(tokens[index], serverLabel, auth.Nonce, hello.Nonce)
	if err := WriteMessage(conn, &w); err != nil {
		return "", -1, fmt.Errorf("protocol: handshake: send Welcome: %w", err)
	}
	return auth.Client, index, nil
}

// readFirst reads a handshake message of type want, judging the frame by its
// header before any payload is read: another type (or an Error, unless
// acceptError) is refused, and so is a frame larger than maxSize. An accepted
// Error is returned as *RemoteError.
func readFirst(conn net.Conn, want MsgType, maxSize int, acceptError bool) (Message, error) {
	h, err := readHeader(conn)
	if err != nil {
		return nil, err
	}
	limit := maxSize
	switch {
	case !h.typ.known():
		return nil, fmt.Errorf("%w: unknown message type %d, want %s", ErrMalformed, uint8(h.typ), want)
	case h.typ == MsgError && acceptError:
		limit = maxErrorSize
	case h.typ != want:
		return nil, fmt.Errorf("%w: got %s, want %s", ErrUnexpected, h.typ, want)
	}
	if err := h.check(limit, lz4.CompressBlockBound(limit)); err != nil {
		return nil, err
	}
	m, err := readBody(conn, h)
	if err != nil {
		return nil, err
	}
	return expect(m, want)
}

// refusalCode returns the Error code that answers a failed read, or "" when
// the failure is the connection's own (closed, timed out).
func refusalCode(err error) string {
	switch {
	case errors.Is(err, ErrTooLarge):
		return CodeTooLarge
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ""
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrUnexpected):
		return CodeMalformed
	}
	return ""
}

// refuse tells the peer why it is being turned away, best effort: within
// refusalTimeout, and never past the handshake's deadline.
func refuse(conn net.Conn, deadline time.Time, code, message string) {
	if d := time.Now().Add(refusalTimeout); d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetWriteDeadline(deadline)
	_ = WriteMessage(conn, &Error{Code: code, Message: message})
}

// computeMAC returns HMAC-SHA256(token, label || first || second).
func computeMAC(token, label string, first, second [32]byte) [32]byte {
	h := hmac.New(sha256.New, []byte(token))
	h.Write([]byte(label))
	h.Write(first[:])
	h.Write(second[:])
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
