// Package server is dcc-server: the compile host of a dcc farm. It accepts
// TCP connections from dcc daemons on the allowed networks, authenticates them
// by the protocol package's challenge-response handshake, and answers the
// requests of every yamux stream: compile jobs (run in a fresh directory with
// an allow-listed command line, under a time limit and admission control), the
// result cache that makes the same unit compile once for everyone, the shared
// cache the team's daemons fill and query, per-project cleaning, and status.
//
// A client never names a path the server executes or writes: it names a
// toolchain by the Key the server advertised, and the server chooses every
// file name. Keys and project names are validated and never reach a path.
//
// The package runs on Unix systems (process groups, setsid, signals).
package server
