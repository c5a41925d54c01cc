package remote

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote/remotetest"
)

// namedJob is a compile request for the source name.
func namedJob(name string) *protocol.CompileRequest {
	r := job(name)
	r.SourceName = name
	return r
}

// TestInFlightJobsNamed: the jobs in flight on each host are reported with
// their sources' names, the longest-running first, and leave the report
// when they end.
func TestInFlightJobsNamed(t *testing.T) {
	gate := make(chan struct{})
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Gate: gate})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Gate: gate})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 2), hostOf(b.Addr, 1)}, Options{})
	done := make(chan error, 3)
	for i, name := range []string{"src/one.c", "two.c", "/abs/three.c"} {
		go func() {
			_, _, err := p.Compile(context.Background(), gccKey, namedJob(name))
			done <- err
		}()
		waitFor(t, "job in flight", func() bool {
			n := 0
			for _, s := range p.Status() {
				n += len(s.InFlightJobs)
			}
			return n == i+1
		})
	}
	// The first job goes to a (2 free), the second to a or b, the third
	// to the host left with a slot.
	names := map[string][]string{}
	for _, s := range p.Status() {
		assert.Len(t, s.InFlightJobs, s.InFlight, "%s: one name per job in flight", s.Addr)
		for i, j := range s.InFlightJobs {
			names[s.Addr] = append(names[s.Addr], j.Source)
			if i > 0 {
				assert.False(t, j.Started.Before(s.InFlightJobs[i-1].Started), "the longest-running first")
			}
		}
	}
	assert.Len(t, names[a.Addr], 2)
	assert.Len(t, names[b.Addr], 1)
	assert.ElementsMatch(t, []string{"src/one.c", "two.c", "/abs/three.c"}, append(names[a.Addr], names[b.Addr]...))
	assert.Equal(t, "src/one.c", names[a.Addr][0], "the first job sent is listed first")

	reports, err := p.MonitorHosts(context.Background())
	require.NoError(t, err)
	require.Len(t, reports, 2)
	assert.Equal(t, names[a.Addr][0], reports[0].InFlightJobs[0].Source)
	assert.Positive(t, reports[0].InFlightJobs[0].Elapsed)
	assert.Equal(t, 2, reports[0].Running, "the host's load, asked now, counts the jobs it holds")

	close(gate)
	for range 3 {
		require.NoError(t, <-done)
	}
	for _, s := range p.Status() {
		assert.Empty(t, s.InFlightJobs, "%s: no job in flight", s.Addr)
	}
}

// TestRefreshAsksLoad: Refresh asks each host with a session for its load
// now (other clients' jobs included), dials a host never tried for the
// next report, and does not back off a host that stopped answering.
func TestRefreshAsksLoad(t *testing.T) {
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{Slots: 4})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{Slots: 4})
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 2), hostOf(b.Addr, 2)}, Options{})
	_, _, err := p.Compile(context.Background(), gccKey, job("x"))
	require.NoError(t, err)
	a.SetOthers(3)
	b.SetOthers(1)
	st := p.Refresh(context.Background())
	waitFor(t, "both hosts connected", func() bool {
		st = p.Refresh(context.Background())
		return st[0].Connected && st[1].Connected
	})
	assert.Equal(t, 3, st[0].Load.Running, "a's load as it reports it now")
	assert.Equal(t, 1, st[1].Load.Running, "b's load as it reports it now")
	assert.Equal(t, "remotetest-"+a.Addr, st[0].Server)

	// A pool that never compiled dials its hosts at its first Refresh.
	q := newTestPool(t, []config.Host{hostOf(a.Addr, 2)}, Options{})
	q.Refresh(context.Background())
	waitFor(t, "the new pool's host connected", func() bool { return q.Status()[0].Connected })

	// A status request that fails (here: given up at once) leaves the
	// host as it was: up, not backed off, with its last load.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	st = p.Refresh(gone)
	assert.True(t, st[0].Connected)
	assert.Zero(t, st[0].Backoff, "watching does not back a host off")
	assert.Equal(t, 3, st[0].Load.Running)

	b.Stop()
	start := time.Now()
	st = p.Refresh(context.Background())
	assert.Less(t, time.Since(start), 3*time.Second, "bounded")
	assert.Zero(t, st[1].Backoff, "watching does not back a host off")
}
