package remote

import "time"

// ClockReading is how far a host's clock is from this machine's, from one
// status answer: the host says its time, and the client takes the middle of
// the round trip as the moment it said it.
type ClockReading struct {
	// Known: the host said its time (a dcc-server of protocol 6 or later).
	Known bool
	// Skew is the host's clock minus this machine's: positive when the
	// host is ahead.
	Skew time.Duration
	// Uncertainty is half the round trip: the skew is right to within it.
	Uncertainty time.Duration
}

// measure records the reading of a host that said hostNanos (Unix
// nanoseconds; 0 when it did not say) in an answer to a request sent at
// sent and answered at received, both on this machine's clock.
func (c *ClockReading) measure(hostNanos int64, sent, received time.Time) {
	if hostNanos == 0 {
		return
	}
	rtt := received.Sub(sent)
	mid := sent.Add(rtt / 2)
	*c = ClockReading{Known: true, Skew: time.Unix(0, hostNanos).Sub(mid), Uncertainty: rtt / 2}
}
