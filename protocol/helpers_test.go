package protocol

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/stretchr/testify/require"
)

// frameBytes builds a frame header by hand, followed by payload.
func frameBytes(typ MsgType, codec byte, size, wire uint32, payload []byte) []byte {
	b := make([]byte, headerSize, headerSize+len(payload))
	b[0], b[1] = byte(typ), codec
	binary.BigEndian.PutUint32(b[2:6], size)
	binary.BigEndian.PutUint32(b[6:10], wire)
	return append(b, payload...)
}

// rawFrame frames payload uncompressed with consistent lengths.
func rawFrame(typ MsgType, payload []byte) []byte {
	return frameBytes(typ, codecRaw, uint32(len(payload)), uint32(len(payload)), payload)
}

// encodePayload returns m's encoded payload (no frame header).
func encodePayload(t testing.TB, m Message) []byte {
	t.Helper()
	e := encoder{}
	m.encode(&e)
	require.NoError(t, e.err)
	return e.buf
}

// mustFrame returns m's frame as WriteMessage writes it.
func mustFrame(t testing.TB, m Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteMessage(&buf, m))
	return buf.Bytes()
}

// testContext returns a context that ends with the test or after d.
func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// transports names the connections the handshake and session tests run over.
var transports = []string{"pipe", "tcp"}

// connPair returns two ends of a connection over the named transport.
func connPair(t testing.TB, transport string) (client, server net.Conn) {
	t.Helper()
	switch transport {
	case "pipe":
		client, server = net.Pipe()
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := l.Accept()
			accepted <- c
		}()
		client, err = net.Dial("tcp", l.Addr().String())
		require.NoError(t, err)
		server = <-accepted
		require.NotNil(t, server)
	default:
		t.Fatalf("unknown transport %q", transport)
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// testServer is a dcc-server stand-in: it accepts TCP connections on
// 127.0.0.1, authenticates them and serves their sessions with handle.
type testServer struct {
	addr    string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    []error // from ServerHandshake and Serve
	clients []string
	// transport is how clients reach it.
	transport Transport
}

func startServer(t testing.TB, tokens []string, handle func(context.Context, Message) Message) *testServer {
	t.Helper()
	return startServerWire(t, tokens, handle, testTLS(t))
}

// startServerWire is startServer with the host's TLS configuration (nil:
// plain TCP).
func startServerWire(t testing.TB, tokens []string, handle func(context.Context, Message) Message, tlsConfig *tls.Config) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{addr: l.Addr().String(), cancel: cancel, transport: testTransport(t)}
	if tlsConfig == nil {
		s.transport = Transport{Plaintext: true}
	}
	welcome := func() Welcome {
		return Welcome{
			Toolchains: []Toolchain{{Key: "id2-abc", Family: "gcc", Driver: "gcc", Version: "12.2.0", Target: "x86_64-linux-gnu"}},
			Load:       Load{Slots: 4},
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
				conn, err := AcceptTransport(hctx, conn, tlsConfig)
				if err != nil {
					hcancel()
					s.record(err, "")
					return
				}
				client, _, err := ServerHandshake(hctx, conn, "test-server", tokens, welcome)
				hcancel()
				if err != nil {
					s.record(err, "")
					return
				}
				sess, err := yamux.Server(conn, ServerYamuxConfig())
				if err != nil {
					s.record(err, client)
					return
				}
				s.record(Serve(ctx, sess, handle), client)
			}()
		}
	}()
	t.Cleanup(func() {
		cancel()
		l.Close()
		s.wg.Wait()
	})
	return s
}

func (s *testServer) record(err error, client string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs = append(s.errs, err)
	}
	if client != "" {
		s.clients = append(s.clients, client)
	}
}

// dial connects a client session to s, closed at the end of the test.
func (s *testServer) dial(t testing.TB, token string) *ClientSession {
	t.Helper()
	cs, err := Dial(testContext(t, 5*time.Second), s.addr, token, "tester@localhost", s.transport)
	require.NoError(t, err)
	t.Cleanup(func() { cs.Close() })
	return cs
}
