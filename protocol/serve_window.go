package protocol

import (
	"errors"
	"io"
	"time"

	"github.com/hashicorp/yamux"
)

// What yamux may buffer for a server's streams, all of it bounded: every
// accepted stream takes StreamWindow from the server's Budget until closed
// (at most ServeLimits.Open of them per session), and a session's streams
// not accepted yet hold at most ServerAcceptBacklog × StreamWindow.
const (
	// StreamWindow is the receive window of a server's streams: yamux's
	// initial window, which a stream has from its first frame, accepted or
	// not. A larger one would let a stream grow once accepted.
	StreamWindow = 256 << 10
	// ServerAcceptBacklog is how many streams of a session yamux keeps
	// waiting to be accepted (yamux's default is 256); past it, it resets
	// them. The server accepts streams as they come while the session has
	// fewer than ServeLimits.Open, so only a burst, a client past that
	// limit, or a server out of budget fills it. A session that reaches
	// its limit takes the backlog's 16 MiB from the budget until it ends.
	ServerAcceptBacklog = 64
	// DefaultSessionOpen is ServeLimits.Open when not set: 32 MiB of
	// windows, an eighth of a DefaultBudget's share for windows.
	DefaultSessionOpen = 128
	// DefaultCloseWait is ServeLimits.CloseWait when not set: how long a
	// server waits, once it answered a stream, for the client to close it
	// (Call does at once) before it closes the client's session, since a
	// stream left open could fill its window again.
	DefaultCloseWait = 30 * time.Second
)

// ServerYamuxConfig returns the yamux configuration of a server's sessions:
// YamuxConfig with a receive window of StreamWindow per stream and a
// backlog of ServerAcceptBacklog streams. What the server sends is bounded
// by the client's window, which stays at YamuxConfig's.
func ServerYamuxConfig() *yamux.Config {
	c := YamuxConfig()
	c.MaxStreamWindowSize = StreamWindow
	c.AcceptBacklog = ServerAcceptBacklog
	return c
}

// awaitClose reads and drops what the client still sends on st until it
// closes it, for at most wait. It reports false when the client left st
// open.
func awaitClose(st *yamux.Stream, wait time.Duration) bool {
	_ = st.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, st)
	return !errors.Is(err, yamux.ErrTimeout)
}
