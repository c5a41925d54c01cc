// Package daemon is dcc's per-user daemon: the long-lived process that owns the
// cache database and answers wrappers over a Unix socket in $DCC_DIR. It holds
// the process plumbing (start on demand under a lock, handshake, idle exit, stop,
// status) and the wire messages; the compile pipeline itself is a Backend
// supplied by the caller (package compile), so this package does not depend on it.
package daemon

import (
	"context"
	"time"
)

// ProtocolVersion is the wrapper-daemon protocol version. A wrapper and a
// daemon that disagree detect it in the handshake: the daemon is restarted or
// the wrapper compiles directly. Version 2 added the hosts and clean-remote
// requests; version 3 the monitor request and the jobs in flight in host
// reports.
const ProtocolVersion = 4

// ProbeHintEnv names, in the environment of a daemon a wrapper starts, the
// real compiler of the compile that started it. The daemon starts
// identifying that compiler at once, while its cache opens, instead of when
// the compile arrives: a new daemon's first compile waited for both, one
// after the other (6-10 ms each).
const ProbeHintEnv = "DCC_PROBE_HINT"

// CompileRequest is what a wrapper asks the daemon to do for one compile.
type CompileRequest struct {
	// Compiler is the compiler as named on the command line ("gcc", "/usr/bin/cc").
	Compiler string
	// Real is the real compiler the wrapper resolved (never dcc itself).
	Real string
	// Args are the compiler's arguments.
	Args []string
	// Dir is the wrapper's working directory.
	Dir string
	// Env is the wrapper's environment; the compiler runs with it.
	Env []string
}

// CompileResult is the daemon's answer.
type CompileResult struct {
	// Handled is false when the wrapper must run the real compiler itself
	// (commands dcc does not cache, and any failure inside dcc).
	Handled bool
	// Reason says, in one line, why the compile was not handled or how it was.
	Reason string
	// Stdout and Stderr are the compiler's output, to be written by the wrapper.
	Stdout, Stderr []byte
	// ExitCode is the compiler's exit code.
	ExitCode int
}

// StatsReport is what "dcc stats" shows.
type StatsReport struct {
	// Counters are the named event counts: hits, direct_hits, preprocessed_hits,
	// misses, uncacheable, local, errors, ...
	Counters map[string]int64 `json:"counters"`
	// CacheSize is the bytes the cache holds; MaxSize its limit.
	CacheSize int64 `json:"cache_size"`
	MaxSize   int64 `json:"max_size"`
	// Entries is the number of cached results.
	Entries int64 `json:"entries"`
	// StatsSince is when the counters were last zeroed (RFC 3339).
	StatsSince string `json:"stats_since"`
}

// Backend does the daemon's work. Its methods are called concurrently, one
// goroutine per wrapper connection, and must be safe for that.
type Backend interface {
	// Compile runs one compile through the cache. It must never fail a build:
	// anything it cannot do is a result with Handled false. ctx is cancelled
	// when the wrapper goes away (make interrupted), and the compile is killed.
	Compile(ctx context.Context, req CompileRequest) CompileResult
	// Stats reports the counters and the cache's size.
	Stats(ctx context.Context) (StatsReport, error)
	// ZeroStats zeroes the counters, leaving the cache alone.
	ZeroStats(ctx context.Context) error
	// Clear empties the cache, leaving the counters alone.
	Clear(ctx context.Context) error
	// Close flushes and closes the cache; the daemon calls it once, on exit.
	Close() error
}

// RemoteBackend is what a Backend that compiles on remote hosts also
// implements, for "dcc hosts", "dcc jobs" and "dcc clean --remote". It is
// optional: the daemon answers those requests with ErrNoRemote when its
// Backend does not implement it. Its methods are called concurrently and
// must be safe for that; they must honour ctx's deadline and cancellation.
type RemoteBackend interface {
	// Hosts reports on every configured host, in configuration order. With
	// check, it contacts every host first (connecting to those it has no
	// session with, within their connect timeouts); without, it reports
	// what it knows and contacts none. No hosts is an empty list, not an
	// error.
	Hosts(ctx context.Context, check bool) ([]HostReport, error)
	// CleanRemote removes the entries of project (a namespace such as
	// remote.ProjectOf gives) from every host's shared cache, and reports
	// per host what was removed or why it could not be.
	CleanRemote(ctx context.Context, project string) ([]CleanReport, error)
}

// HostReport is the state of one compile host, as "dcc hosts" shows it.
type HostReport struct {
	// Host is the host's address ("127.0.0.2:9693").
	Host string
	// Jobs is the number of jobs the client sends it at once (njob).
	Jobs int
	// Contacted is false while the daemon has not tried the host yet: the
	// fields below then say nothing.
	Contacted bool
	// Reachable: the host answered on its address (a connection, or a
	// session that is up).
	Reachable bool
	// Authenticated: the host accepted the token.
	Authenticated bool
	// Error says why the host is unreachable or unauthenticated, in one
	// line ("token refused", "connection refused", ...); empty when it is fine.
	Error string
	// Server is the name the host gives itself.
	Server string
	// Toolchains are the compilers the host offers.
	Toolchains []HostToolchain
	// Sandboxed: the host runs every job in a sandbox; "dcc hosts" says
	// "no sandbox" of an authenticated host that does not.
	Sandboxed bool
	// Ships: the host takes shipped toolchains; Shipped and ShipBytes count
	// the toolchains this client shipped it and the bytes it sent.
	Ships              bool
	Shipped, ShipBytes int64
	// Slots, Running and Queued are the host's load as it last reported:
	// jobs it runs at once, jobs running, jobs waiting (all clients).
	Slots, Running, Queued int
	// InFlight is this client's jobs on the host now; InFlightJobs names
	// them, the longest-running first (filled in for MonitorHosts).
	InFlight     int
	InFlightJobs []InFlightJob
	// Backoff is how long the host is still left alone after a failure.
	Backoff time.Duration
	// Sent, OK and Failed count this client's jobs: sent to the host,
	// answered, and lost to an error or a timeout.
	Sent, OK, Failed int64
	// ClockKnown: the host said its time at its last status answer;
	// ClockSkew is then its clock minus this machine's, right to within
	// ClockUncertainty (half the round trip).
	ClockKnown                  bool
	ClockSkew, ClockUncertainty time.Duration
}

// HostMonitor is what a RemoteBackend may also implement for "dcc
// monitor". The daemon answers a monitor request with Hosts(ctx, false)
// when its backend does not implement it.
type HostMonitor interface {
	// MonitorHosts reports on every configured host, in configuration
	// order, with each host's load as it reports it now (asked of hosts
	// with a session up; none is dialed) and this client's jobs in flight
	// there with their sources. It must honour ctx.
	MonitorHosts(ctx context.Context) ([]HostReport, error)
}

// InFlightJob is one of this client's jobs on a host now.
type InFlightJob struct {
	// Source is the unit's source as the job names it.
	Source string
	// Elapsed is how long ago the job was sent.
	Elapsed time.Duration
}

// HostToolchain is one compiler a host offers.
type HostToolchain struct {
	// Key is the toolchain's identity key, which the client matches.
	Key string
	// Family, Driver, Version and Target describe it ("gcc", "g++",
	// "12.2.0", "x86_64-linux-gnu").
	Family, Driver, Version, Target string
	// Shipped: a client shipped it to the host (it is not installed there).
	Shipped bool
}

// CleanReport is what cleaning a project's namespace did on one host.
type CleanReport struct {
	// Host is the host's address.
	Host string
	// Removed is the number of entries removed.
	Removed int64
	// Error says why the host could not be cleaned; empty on success.
	Error string
}
