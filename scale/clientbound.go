package scale

import "time"

// clientCPUBound is the makespan a client's CPU allows for units built in
// order, when the client used cpu in all over the build and could use
// cpus CPUs: each unit starts once the client has spent its share of the
// CPU on it and on every unit before it (cpu / len(units) each, at cpus
// CPUs), then takes its own time. The latest of those ends is the bound;
// it is at least cpu / cpus.
func clientCPUBound(units []Unit, cpu time.Duration, cpus float64) time.Duration {
	if len(units) == 0 || cpus <= 0 {
		return 0
	}
	perUnit := float64(cpu) / float64(len(units)) / cpus
	var bound time.Duration
	for i, u := range units {
		bound = max(bound, time.Duration(float64(i+1)*perUnit)+u.Duration)
	}
	return bound
}
