package daemon

import (
	"path/filepath"
	"strings"
	"time"
)

// StatusReport is what "dcc daemon status" shows: the daemon process itself,
// not the cache (that is StatsReport).
type StatusReport struct {
	// PID is the daemon's process id.
	PID int
	// Protocol and BuildID identify the daemon's version.
	Protocol int
	BuildID  string
	// Socket is the path the daemon listens on.
	Socket string
	// Started is when the daemon started listening.
	Started time.Time
	// IdleTimeout is how long the daemon waits without work before it
	// exits; 0 means never.
	IdleTimeout time.Duration
	// Connections is the number of open wrapper connections, InFlight the
	// requests being answered (this status request included).
	Connections int
	InFlight    int
	// Requests counts the requests answered since the daemon started.
	Requests int64
}

// ServerInfo is what a daemon says about itself in the handshake.
type ServerInfo struct {
	// Protocol is the daemon's ProtocolVersion.
	Protocol int
	// BuildID identifies the daemon's build of dcc.
	BuildID string
	// PID is the daemon's process id.
	PID int
}

// PIDPath returns the pid file that belongs to a socket path: the socket's
// name with its extension replaced by ".pid" (daemon.sock -> daemon.pid). The
// daemon holds an exclusive lock on it for its whole life, so a free lock
// means no daemon (not even one still closing its cache) uses the socket.
func PIDPath(socketPath string) string {
	ext := filepath.Ext(socketPath)
	if ext == ".pid" {
		return socketPath + ".pid"
	}
	return strings.TrimSuffix(socketPath, ext) + ".pid"
}
