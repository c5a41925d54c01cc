// Package pace keeps the Go runtime's monitor thread at its slow pace in
// dcc's cache daemon. (dcc-server ran paced too until its idle cost, 2.2 ms
// of CPU a second of polling against 0.15 ms unpaced, outweighed the 0.5
// ms a job it saved: see cmd/dcc-server.)
//
// The monitor (sysmon) sleeps deeply while every processor is idle; the
// first system call after that wakes it and resets it to polling every 20 µs
// for the next millisecond of work, each poll a context switch. A daemon
// that goes from idle to busy several times per compile (the request, the
// preprocessor's exit, the host's answer) pays that millisecond of polling
// each time: measured, 64 wake-ups and a quarter of dcc's daemon's own CPU
// per remotely compiled unit. With a schedule trace period set in GODEBUG,
// sysmon never sleeps deeply and keeps the slow pace it has reached (one
// poll every 10 ms while nothing needs it): the daemon's own CPU per remote
// unit went from 4.0 to 3.05 ms, dcc-server's per job by about 0.5 ms
// (4.4-4.9 to 3.6-4.6 ms in six interleaved pairs of runs), and an idle
// daemon's stayed the same (3.5-3.8 ms a second, mostly the database's
// timers). The period is the largest there is, 24.8 days, so
// the trace is never printed, except one line on stderr (the log) when the
// process starts on a machine up for longer than that.
//
// The runtime reads GODEBUG once, as the process starts, so the setting
// must be in the environment a process is started with: Env adds it for a
// child. Drop then takes it out of the process's own environment, so that
// the programs it runs do not inherit it.
package pace

import (
	"os"
	"strings"
)

// Setting is what Env adds to GODEBUG.
const Setting = "schedtrace=2147483647"

// Env returns env (this process's environment when nil) with Setting added
// to GODEBUG, unless GODEBUG already sets schedtrace (the user's choice
// wins). Other GODEBUG settings are kept.
func Env(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+1)
	found := false
	for _, kv := range env {
		value, ok := strings.CutPrefix(kv, "GODEBUG=")
		if !ok || found {
			out = append(out, kv)
			continue
		}
		found = true // the child's runtime reads the first GODEBUG
		switch {
		case setsSchedtrace(value):
			out = append(out, kv)
		case value == "":
			out = append(out, "GODEBUG="+Setting)
		default:
			out = append(out, "GODEBUG="+value+","+Setting)
		}
	}
	if !found {
		out = append(out, "GODEBUG="+Setting)
	}
	return out
}

// setsSchedtrace reports whether a GODEBUG value sets schedtrace.
func setsSchedtrace(godebug string) bool {
	for field := range strings.SplitSeq(godebug, ",") {
		if strings.HasPrefix(field, "schedtrace=") {
			return true
		}
	}
	return false
}

// Drop removes what Env added from this process's GODEBUG (the runtime read
// it at start, and keeps it), so that the programs it runs do not inherit
// it. It leaves any other GODEBUG setting, and a schedtrace the user set
// differently, as they were.
func Drop() {
	value, ok := os.LookupEnv("GODEBUG")
	if !ok {
		return
	}
	switch {
	case value == Setting:
		os.Unsetenv("GODEBUG")
	case strings.HasSuffix(value, ","+Setting):
		os.Setenv("GODEBUG", strings.TrimSuffix(value, ","+Setting))
	}
}
