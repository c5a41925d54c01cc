// Package daemon is dcc's per-user daemon: the long-lived process that owns the
// cache database and answers wrappers over a Unix socket in $DCC_DIR. It holds
// the process plumbing (start on demand under a lock, handshake, idle exit, stop,
// status) and the wire messages; the compile pipeline itself is a Backend
// supplied by the caller (package compile), so this package does not depend on it.
package daemon

import (
	"context"
)

// ProtocolVersion is the wrapper-daemon protocol version. A wrapper and a
// daemon that disagree detect it in the handshake: the daemon is restarted or
// the wrapper compiles directly.
const ProtocolVersion = 1

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
