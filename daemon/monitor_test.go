//go:build unix

package daemon

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// monitorBackend is a remoteBackend that also answers monitor requests.
type monitorBackend struct {
	remoteBackend
	monitored []HostReport
}

func (b *monitorBackend) MonitorHosts(ctx context.Context) ([]HostReport, error) {
	return b.monitored, b.err
}

// monitoredHosts are host reports with jobs in flight.
func monitoredHosts() []HostReport {
	return []HostReport{
		{Host: "127.0.0.2:9693", Jobs: 2, Contacted: true, Reachable: true, Authenticated: true, Server: "h2",
			Slots: 4, Running: 3, Queued: 1, InFlight: 2, Sent: 5, OK: 3,
			InFlightJobs: []InFlightJob{{Source: "src/a.c", Elapsed: 1500 * time.Millisecond}, {Source: "/abs/b.cc", Elapsed: 0}}},
		{Host: "127.0.0.3:9693", Jobs: 2, Contacted: true, Error: "connection refused", Backoff: time.Second},
	}
}

func TestMonitorMessagesRoundTrip(t *testing.T) {
	for name, m := range map[string]*message{
		"request":               {Op: opMonitor},
		"reply":                 {Op: opMonitor, Reply: true, Hosts: monitoredHosts()},
		"no hosts":              {Op: opMonitor, Reply: true},
		"hosts reply with jobs": {Op: opHosts, Reply: true, Hosts: monitoredHosts()},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, writeMessage(&buf, m))
			got, err := readMessage(&buf)
			require.NoError(t, err)
			assert.Equal(t, m, got)
		})
	}
	assert.Equal(t, "monitor", opMonitor.String())
}

func TestMonitorJobCountPastTheBytes(t *testing.T) {
	frame, err := encodeMessage(&message{Op: opMonitor, Reply: true, Hosts: []HostReport{{Host: "h"}}})
	require.NoError(t, err)
	// The host's count of jobs in flight (0) comes before its clock
	// reading (three 1-byte fields): claim 100.
	frame[len(frame)-4] = 100
	_, err = readMessage(bytes.NewReader(frame))
	require.ErrorIs(t, err, ErrProtocol)
	assert.Contains(t, err.Error(), "exceeds the 3 bytes left")
}

func TestMonitorRequests(t *testing.T) {
	hosts := monitoredHosts()
	t.Run("monitor", func(t *testing.T) {
		b := &monitorBackend{monitored: hosts}
		c := dial(t, serve(t, ServerOptions{}, b).socket)
		got, err := c.MonitorHosts(context.Background())
		require.NoError(t, err)
		assert.Equal(t, hosts, got)
		assert.Empty(t, b.checks, "Hosts was not asked")
	})
	t.Run("a remote backend without monitor gives its hosts unchecked", func(t *testing.T) {
		b := &remoteBackend{hosts: hosts[1:]}
		c := dial(t, serve(t, ServerOptions{}, b).socket)
		got, err := c.MonitorHosts(context.Background())
		require.NoError(t, err)
		assert.Equal(t, hosts[1:], got)
		assert.Equal(t, []bool{false}, b.checks)
	})
	t.Run("no remote", func(t *testing.T) {
		c := dial(t, serve(t, ServerOptions{}, &fakeBackend{}).socket)
		_, err := c.MonitorHosts(context.Background())
		require.ErrorIs(t, err, ErrNoRemote)
		_, err = c.Stats(context.Background())
		assert.NoError(t, err, "the connection stays usable")
	})
}
