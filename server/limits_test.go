package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/hashicorp/yamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultLimitsInForce starts a server with the configuration its first
// run writes (only the address moved to loopback, as --listen does) and
// proves the limits README promises are wired in, as they are, with nothing
// set: one session is served at most 64 requests at once (the 65th waits to
// be accepted; server.go leaves protocol.ServeLimits.Streams at its default),
// and the requests of every session take their declared size from one
// budget of 512 MiB before their payload is read (a request that does not
// fit waits). Neither limit refuses: a client past them waits, as README
// says. No single request can be larger than the budget (the frame limits
// stop it first, at 64 MiB decoded and 65 MiB on the wire), so "larger than
// the whole budget" is only reachable with a smaller budget, which the
// protocol package's own test covers. The requests that fill the budget send
// their frame headers and nothing more, so the server holds about 1 MiB for
// each (protocol.readPayload reads in steps), not what they declare.
func TestDefaultLimitsInForce(t *testing.T) {
	dccDir := t.TempDir()
	cfg, created, err := LoadConfig(filepath.Join(dccDir, ConfigFileName), dccDir)
	require.NoError(t, err)
	require.True(t, created, "the first run writes the configuration")
	require.Len(t, cfg.Tokens, 1, "the first run generates a token")
	require.NoError(t, cfg.Apply(Overrides{Listen: loopbackHost(t) + ":0"}))

	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, Options{Config: cfg, Toolchains: NewToolchains(nil), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	addr, err := srv.Listen(ctx)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
		assert.NoError(t, srv.Close())
	})
	session := func(t *testing.T) *yamux.Session {
		t.Helper()
		raw, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
		require.NoError(t, err)
		hctx, hcancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer hcancel()
		conn, err := protocol.SecureClient(hctx, raw, transportOf(t, cfg))
		require.NoError(t, err)
		_, err = protocol.ClientHandshake(hctx, conn, cfg.Tokens[0], "limits@test")
		require.NoError(t, err)
		sess, err := yamux.Client(conn, protocol.YamuxConfig())
		require.NoError(t, err)
		t.Cleanup(func() { _ = sess.Close() })
		return sess
	}
	open := func(t *testing.T, sess *yamux.Session) *yamux.Stream {
		t.Helper()
		st, err := sess.OpenStream() // sends the stream's SYN at once
		require.NoError(t, err)
		return st
	}
	// answered reads the server's answer on st within d: true when one came
	// (or the server closed the stream: the request was read), false when
	// nothing came.
	answered := func(t *testing.T, st *yamux.Stream, d time.Duration) bool {
		t.Helper()
		require.NoError(t, st.SetReadDeadline(time.Now().Add(d)))
		m, err := protocol.ReadMessage(st)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, yamux.ErrTimeout):
			return false
		case errors.Is(err, io.EOF):
			return true
		}
		require.NoError(t, err)
		require.IsType(t, &protocol.StatusResult{}, m)
		return true
	}
	status := func(t *testing.T, sess *yamux.Session) *yamux.Stream {
		t.Helper()
		st := open(t, sess)
		require.NoError(t, protocol.WriteMessage(st, &protocol.Status{}))
		return st
	}

	t.Run("64 requests per session", func(t *testing.T) {
		const limit = protocol.DefaultSessionStreams
		require.Equal(t, 64, limit, "README promises 64")
		a, b := session(t), session(t)
		// Requests that never send their frame hold their place (the
		// server waits for them up to its stream timeout, 2 minutes). The
		// server accepts a session's streams in the order they were opened.
		var held []*yamux.Stream
		for range limit - 1 {
			held = append(held, open(t, a))
		}
		require.True(t, answered(t, status(t, a), 10*time.Second), "the 64th request at once is served")
		held = append(held, open(t, a))
		waiting := status(t, a)
		require.False(t, answered(t, waiting, 500*time.Millisecond), "the 65th request at once on one session waits")
		require.True(t, answered(t, status(t, b), 10*time.Second), "another session is served meanwhile")
		require.NoError(t, held[0].Close())
		require.True(t, answered(t, waiting, 10*time.Second), "the 65th is served once one of the 64 is done")
		for _, st := range held[1:] {
			require.NoError(t, st.Close())
		}
	})

	t.Run("512 MiB for the requests of every session", func(t *testing.T) {
		const budget = 512 << 20
		require.EqualValues(t, budget, protocol.DefaultBudget, "README promises 512 MiB")
		// A frame's cost is its declared size decoded plus on the wire.
		const biggest = protocol.MaxMessageSize + protocol.MaxFrameSize
		const room = budget - 3*biggest // 125 MiB
		// lz4 frames may declare up to 255 times their wire size.
		header := func(cost int) []byte {
			return rawFrame(protocol.MsgCachePut, 1, uint32(cost-protocol.MaxFrameSize), protocol.MaxFrameSize, nil)
		}
		// send writes a frame header, and no payload, on a new stream of sess.
		send := func(t *testing.T, sess *yamux.Session, cost int, done bool) *yamux.Stream {
			t.Helper()
			st := open(t, sess)
			_, err := st.Write(header(cost))
			require.NoError(t, err)
			if done {
				// The payload ends here: a request the server reads is
				// truncated, and the server closes the stream without an
				// answer. One it does not read stays open.
				require.NoError(t, st.Close())
			}
			return st
		}
		a, b := session(t), session(t)
		var held []*yamux.Stream
		for range 3 {
			held = append(held, send(t, a, biggest, false))
		}
		require.Eventually(t, func() bool { return srv.budget.InUse() == 3*biggest }, 10*time.Second, 5*time.Millisecond,
			"three requests of the largest size hold %d bytes of the server's budget", 3*biggest)
		tooBig := send(t, b, room+1, true)
		require.False(t, answered(t, tooBig, 500*time.Millisecond), "a request one byte larger than what is left waits, on any session")
		require.True(t, answered(t, send(t, b, room, true), 10*time.Second), "a request of exactly what is left is read")
		require.NoError(t, held[0].Close())
		require.True(t, answered(t, tooBig, 10*time.Second), "the waiting request is read once a held one gives its share back")
		for _, st := range held[1:] {
			require.NoError(t, st.Close())
		}
		require.Eventually(t, func() bool { return srv.budget.InUse() == 0 }, 10*time.Second, 5*time.Millisecond)
	})
}
