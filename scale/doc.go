// Package scale simulates a compile farm on one machine with the real
// programs: H dcc-server hosts on distinct 127.0.0.x addresses, C clients
// each with its own dcc daemon building at once, and, side by side, the same
// farm with distcc and distccd. Only the compiler is replaced: a stand-in
// (cmd/dcc-scale-cc) that takes as long as a recorded unit of a real project
// took, sleeping, and writes a deterministic object, so that hundreds of
// compile slots fit on a 2-CPU machine. The report gives, per farm size,
// the makespan against the ideal, host utilisation, queue waits, refusals and
// fallbacks, each client's CPU per unit and the memory and connections of
// hosts and clients. See docs/scale.md.
package scale
