// Package remote is the client side of the compile farm, used by the dcc
// daemon: a Pool holds one persistent protocol session per configured
// dcc-server host, sends each compile job to the matching host with the most
// free slots, backs off hosts that fail or time out, and reaches the team's
// shared cache on the host that owns each key (rendezvous hashing, so every
// client with the same host list agrees). Nothing here ever waits long: when
// no host can take a job now, Compile says so at once and the caller compiles
// locally.
package remote

import (
	"errors"
	"time"
)

// Defaults for what Options and config.Host leave at zero.
const (
	// DefaultMinBackoff is how long a host that failed is first left alone.
	DefaultMinBackoff = time.Second
	// DefaultMaxBackoff caps the backoff, which doubles at each failure.
	DefaultMaxBackoff = time.Minute
	// DefaultConnectTimeout bounds connecting to a host, handshake included.
	DefaultConnectTimeout = 2 * time.Second
	// DefaultSendTimeout bounds sending a job; it also bounds each shared
	// cache request.
	DefaultSendTimeout = 10 * time.Second
	// DefaultRecvTimeout bounds waiting for a job's result.
	DefaultRecvTimeout = 5 * time.Minute
	// DefaultLivenessTimeout is how long a host with jobs in flight may
	// send nothing, not even the answer to a ping, before its session is
	// given up: a stopped or
	// unreachable host costs a build about this much, while a host busy
	// with a long compile still answers the pings.
	DefaultLivenessTimeout = 2 * time.Second
	// DefaultJobs is a host's njob when its configuration gives none.
	DefaultJobs = 4
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrNoHost: no host can take the job now (none configured, none up,
	// none with the toolchain, or all full). The caller compiles locally.
	ErrNoHost = errors.New("remote: no host free")
	// ErrClosed: the pool was closed.
	ErrClosed = errors.New("remote: pool closed")
)
