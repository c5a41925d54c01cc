package daemon

import (
	"os"
	"strings"
)

// sysmonPacing is the GODEBUG setting a daemon that Ensure starts runs with.
//
// The Go runtime's monitor thread (sysmon) sleeps deeply while every
// processor is idle; the first system call after that wakes it and resets
// it to polling every 20 µs for the next millisecond of work, each poll a
// context switch. The daemon goes from idle to busy several times per
// compile (the request, the preprocessor's exit, the host's answer), so it
// paid that millisecond of polling each time: measured, 64 wake-ups and a
// quarter of the daemon's own CPU per remotely compiled unit. With a
// schedule trace period set, sysmon never sleeps deeply and keeps the slow
// pace it has reached (one poll every 10 ms while nothing needs it): the
// daemon's own CPU per remote unit went from 4.0 to 3.05 ms, and an idle
// daemon's stayed the same (3.5-3.8 ms a second, mostly the database's
// timers). The period is the largest there is, 24.8 days, so the trace is
// never printed, except one line in the daemon's log at its start on a
// machine up for longer than that.
const sysmonPacing = "schedtrace=2147483647"

// daemonEnv returns env (this process's environment when nil) with
// sysmonPacing added to GODEBUG, unless GODEBUG already sets schedtrace.
// DropSysmonPacing, in the daemon, takes it out again so that the compilers
// it runs see the environment they would have.
func daemonEnv(env []string) []string {
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
		found = true
		if setsSchedtrace(value) {
			out = append(out, kv)
			continue
		}
		if value == "" {
			out = append(out, "GODEBUG="+sysmonPacing)
		} else {
			out = append(out, "GODEBUG="+value+","+sysmonPacing)
		}
	}
	if !found {
		out = append(out, "GODEBUG="+sysmonPacing)
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

// DropSysmonPacing removes the setting daemonEnv added from this process's
// GODEBUG (the runtime read it at start, and keeps it), so that the
// compilers the daemon runs do not inherit it. It leaves any other GODEBUG
// setting as it was.
func DropSysmonPacing() {
	value, ok := os.LookupEnv("GODEBUG")
	if !ok {
		return
	}
	switch {
	case value == sysmonPacing:
		os.Unsetenv("GODEBUG")
	case strings.HasSuffix(value, ","+sysmonPacing):
		os.Setenv("GODEBUG", strings.TrimSuffix(value, ","+sysmonPacing))
	}
}
