package remote

import (
	"context"
	"strings"

	"github.com/dcc-build/dcc/daemon"
)

// Pool answers the daemon's remote requests itself: a Backend that compiles
// through a Pool implements daemon.RemoteBackend by delegating to it.
var _ daemon.RemoteBackend = (*Pool)(nil)

// Hosts reports on every host for "dcc hosts" and "dcc jobs": Check's
// report with check, else Status's. It never fails.
func (p *Pool) Hosts(ctx context.Context, check bool) ([]daemon.HostReport, error) {
	if check {
		return Reports(p.Check(ctx)), nil
	}
	return Reports(p.Status()), nil
}

// CleanRemote cleans project on every host (Clean) for "dcc clean
// --remote". Per-host failures are in the reports; it never fails itself.
func (p *Pool) CleanRemote(ctx context.Context, project string) ([]daemon.CleanReport, error) {
	res := p.Clean(ctx, project)
	out := make([]daemon.CleanReport, len(res))
	for i, r := range res {
		out[i] = daemon.CleanReport{Host: r.Host, Removed: r.Removed}
		if r.Err != nil {
			out[i].Error = r.Err.Error()
		}
	}
	return out, nil
}

// Reports converts host statuses to the daemon's wire reports.
func Reports(st []HostStatus) []daemon.HostReport {
	out := make([]daemon.HostReport, len(st))
	for i, s := range st {
		r := daemon.HostReport{
			Host: s.Addr, Jobs: s.Jobs, Contacted: s.Contacted, Reachable: s.Reachable,
			Authenticated: s.Authenticated, Error: s.Error, Server: s.Server, Sandboxed: s.Sandboxed,
			Slots: s.Load.Slots, Running: s.Load.Running, Queued: s.Load.Queued,
			InFlight: s.InFlight, Backoff: s.Backoff, Sent: s.Sent, OK: s.OK, Failed: s.Failed,
			Ships: s.Ships, Shipped: s.Shipped, ShipBytes: s.ShipBytes,
			ClockKnown: s.Clock.Known, ClockSkew: s.Clock.Skew, ClockUncertainty: s.Clock.Uncertainty,
		}
		for _, t := range s.Toolchains {
			r.Toolchains = append(r.Toolchains, daemon.HostToolchain{
				Key: t.Key, Family: t.Family, Driver: t.Driver, Version: t.Version, Target: t.Target, Shipped: t.Bundle != ""})
		}
		out[i] = r
	}
	return out
}

// JobsOf is Jobs for the daemon's reports: ceil(ncpu*3/2) plus the njob of
// every host that may take jobs: one that is up, one not tried yet, and
// one whose last contact only timed out (a host swamped by a farm's
// clients connecting at once, say, is back a moment later; leaving it out
// would run the whole build at a small -j). A host that refused this client
// (token, version, key) or is known down (connection refused, unreachable)
// is not counted.
func JobsOf(ncpu int, hosts []daemon.HostReport) int {
	n := Jobs(ncpu, nil)
	for _, h := range hosts {
		if h.Reachable && h.Authenticated || !h.Contacted || !h.Reachable && onlyTimedOut(h.Error) {
			n += h.Jobs
		}
	}
	return n
}

// The start of the error texts of a host whose last contact timed out
// (describe).
const (
	noAnswerWithin = "no answer within "
	timedOut       = "timed out: "
)

// onlyTimedOut reports whether a host's error text says its last contact
// timed out, and nothing worse.
func onlyTimedOut(errText string) bool {
	return strings.HasPrefix(errText, noAnswerWithin) || strings.HasPrefix(errText, timedOut)
}
