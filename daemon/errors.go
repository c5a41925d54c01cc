package daemon

import (
	"errors"
	"time"
)

// Limits and default timeouts. They are part of the protocol where noted:
// changing those needs a new ProtocolVersion.
const (
	// MaxMessageSize is the largest message either side sends or accepts, in
	// bytes, not counting the 4-byte length prefix (protocol). It fits a
	// compile's stdout and stderr with room to spare; a result that does not
	// fit is answered as not handled, so the wrapper compiles itself.
	MaxMessageSize = 64 << 20

	// DefaultDialTimeout bounds Dial (connect and handshake) when the
	// caller's context has no earlier deadline.
	DefaultDialTimeout = 2 * time.Second
	// DefaultStartTimeout bounds Ensure when EnsureOptions.StartTimeout is 0.
	DefaultStartTimeout = 5 * time.Second
	// DefaultFailureBackoff is EnsureOptions.FailureBackoff's default.
	DefaultFailureBackoff = 10 * time.Second
	// DefaultStopTimeout bounds StopDaemon's wait for the daemon's exit when
	// the caller's context has no deadline.
	DefaultStopTimeout = 30 * time.Second
	// DefaultShutdownGrace is how long a stopping daemon lets requests in
	// flight finish before cancelling them.
	DefaultShutdownGrace = 10 * time.Second
	// DefaultHandshakeTimeout bounds the server's wait for a new
	// connection's handshake.
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultWriteTimeout bounds the server's write of one reply, so a
	// wrapper that stopped reading (suspended with ^Z) cannot hold the
	// daemon forever.
	DefaultWriteTimeout = time.Minute
	// SocketCheckInterval is how often a daemon checks that its socket is
	// still there: a daemon whose directory was removed exits.
	SocketCheckInterval = time.Second
	// DefaultCloseTimeout bounds closing the backend on the way out (a
	// cache that cannot be written, its directory removed or its disk
	// failing, can retry forever).
	DefaultCloseTimeout = 10 * time.Second
	// DefaultLockWait bounds how long a new daemon waits for an exiting one
	// to release the pid file lock.
	DefaultLockWait = 10 * time.Second

	// maxLogSize is the log file's size above which Ensure moves it to
	// LOG.old before starting a daemon.
	maxLogSize = 8 << 20
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrNotRunning: no daemon listens on the socket (no socket file, or a
	// stale one, or the daemon went away during the handshake).
	ErrNotRunning = errors.New("daemon not running")
	// ErrVersionMismatch: the wrapper and the daemon run different protocol
	// versions or different builds of dcc.
	ErrVersionMismatch = errors.New("daemon version mismatch")
	// ErrAlreadyRunning: Serve found another live daemon on its socket.
	ErrAlreadyRunning = errors.New("another daemon is running")
	// ErrMessageTooLarge: a message exceeds MaxMessageSize.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrProtocol: a peer sent a malformed message or broke the protocol.
	ErrProtocol = errors.New("daemon protocol error")
	// ErrDaemon: the daemon answered a request with an error.
	ErrDaemon = errors.New("daemon request failed")
	// ErrShuttingDown: the daemon is stopping and takes no new requests.
	ErrShuttingDown = errors.New("daemon shutting down")
	// ErrClosed: the client was closed, or its connection broke earlier.
	ErrClosed = errors.New("daemon client closed")
	// ErrStartFailed: Ensure could not get a daemon running.
	ErrStartFailed = errors.New("daemon start failed")
	// ErrNoRemote: the daemon's backend does not implement RemoteBackend.
	ErrNoRemote = errors.New("the daemon does not support remote hosts")
)
