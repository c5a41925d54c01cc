package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
)

func TestRate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		name      string
		prev, cur int64
		have      bool
		dt        time.Duration
		want      *float64
	}{
		{"two per second", 10, 14, true, 2 * time.Second, f(2)},
		{"none", 5, 5, true, time.Second, f(0)},
		{"half a second", 0, 3, true, 500 * time.Millisecond, f(6)},
		{"no previous poll", 0, 3, false, time.Second, nil},
		{"no time between", 1, 3, true, 0, nil},
		{"zeroed counter", 9, 2, true, time.Second, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, rate(tt.prev, tt.cur, tt.have, tt.dt))
		})
	}
}

// sampleAt is a sample of daemon pid at t with counters and hosts.
func sampleAt(t time.Time, pid int, hits, misses, remote int64, hosts ...daemon.HostReport) *farmSample {
	return &farmSample{at: t, pid: pid, hosts: hosts, stats: &daemon.StatsReport{
		Counters: map[string]int64{cache.StatHits: hits, cache.StatMisses: misses, cache.StatRemote: remote}}}
}

// upHost is a host report of a host that is up.
func upHost(addr string, slots, running, queued int, ok int64, jobs ...daemon.InFlightJob) daemon.HostReport {
	return daemon.HostReport{Host: addr, Jobs: 2, Contacted: true, Reachable: true, Authenticated: true, Server: "s-" + addr,
		Slots: slots, Running: running, Queued: queued, InFlight: len(jobs), InFlightJobs: jobs, Sent: ok + int64(len(jobs)), OK: ok}
}

func TestBuildFrameRates(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	down := daemon.HostReport{Host: "h3:9693", Jobs: 4, Contacted: true, Error: "connection refused", Backoff: 2 * time.Second, Failed: 3}
	prev := sampleAt(t0, 7, 10, 20, 5, upHost("h1:9693", 4, 1, 0, 10), down)
	cur := sampleAt(t0.Add(2*time.Second), 7, 14, 26, 9,
		upHost("h1:9693", 4, 3, 2, 16, daemon.InFlightJob{Source: "a.c", Elapsed: time.Second}),
		down, upHost("h4:9693", 2, 0, 0, 1))
	f := buildFrame(prev, cur, time.Second, true)

	require.NotNil(t, f.Local.HitsPerSecond)
	assert.Equal(t, 2.0, *f.Local.HitsPerSecond)
	assert.Equal(t, 3.0, *f.Local.MissesPerSecond)
	assert.Equal(t, 2.0, *f.Local.RemotePerSecond)
	require.Len(t, f.Hosts, 3)
	h1, h3, h4 := f.Hosts[0], f.Hosts[1], f.Hosts[2]
	require.NotNil(t, h1.CompilesPerSecond)
	assert.Equal(t, 3.0, *h1.CompilesPerSecond)
	assert.Equal(t, []jobFrame{{Source: "a.c", ElapsedSeconds: 1}}, h1.Jobs)
	assert.Equal(t, "up", h1.State)
	assert.Equal(t, "backed off", h3.State)
	assert.Zero(t, h3.Slots, "no load shown for a host that is down")
	assert.Equal(t, 0.0, *h3.CompilesPerSecond)
	assert.Nil(t, h4.CompilesPerSecond, "a host new in this poll has no rate yet")
	assert.Equal(t, farmTotals{HostsUp: 2, Slots: 6, Busy: 3, Queued: 2, InFlight: 1}, f.Farm)

	first := buildFrame(nil, cur, time.Second, true)
	assert.Nil(t, first.Local.HitsPerSecond, "the first frame has no rates")
	assert.Nil(t, first.Hosts[0].CompilesPerSecond)

	restarted := sampleAt(t0.Add(3*time.Second), 8, 15, 26, 9)
	assert.Nil(t, buildFrame(cur, restarted, time.Second, true).Local.HitsPerSecond, "another daemon: no rates")
	zeroed := sampleAt(t0.Add(3*time.Second), 7, 0, 0, 0)
	assert.Nil(t, buildFrame(cur, zeroed, time.Second, true).Local.HitsPerSecond, "counters zeroed: no rates")

	b, err := json.Marshal(first)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"hits_per_second":null`)
	assert.Contains(t, string(b), `"jobs":[{"source":"a.c","elapsed_seconds":1}]`)
}

func TestRenderFrame(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 14, 3, 5, 0, time.Local)
	prev := sampleAt(t0.Add(-time.Second), 42, 1, 2, 0, upHost("127.0.0.2:9693", 4, 0, 0, 0), upHost("127.0.0.3:9693", 2, 0, 0, 0))
	long := "/very/long/path/" + strings.Repeat("d/", 40) + "unit.c"
	cur := sampleAt(t0, 42, 3, 5, 2,
		upHost("127.0.0.2:9693", 4, 3, 1, 2, daemon.InFlightJob{Source: "src/big.c", Elapsed: 1234 * time.Millisecond},
			daemon.InFlightJob{Source: long, Elapsed: 200 * time.Millisecond}),
		daemon.HostReport{Host: "127.0.0.3:9693", Jobs: 2, Contacted: true, Error: "connection refused", Backoff: 1500 * time.Millisecond})
	var b bytes.Buffer
	require.NoError(t, renderFrame(&b, buildFrame(prev, cur, time.Second, true)))
	out := b.String()
	t.Log("\n" + out)
	for _, want := range []string{
		"dcc monitor  14:03:05  every 1s  daemon pid 42  remote compiling on\n",
		"local  hits 3 (2.0/s)  misses 5 (3.0/s)  on hosts 2 (2.0/s)  fallbacks 0  errors 0  hit rate 37.5%",
		"farm   1 of 2 hosts up  slots 4  busy 3  queued 1  this client's jobs in flight 2\n",
		"HOST            STATE       BUSY        QUEUED  MINE  RATE   SENT/OK/FAILED  BACKOFF  SERVER / ERROR\n",
		"127.0.0.2:9693  up          [###-] 3/4  1       2     2.0/s  4/2/0           -        s-127.0.0.2:9693\n",
		"    > src/big.c  1.2s\n",
		"    > ..." + long[len(long)-57:] + "  0.2s\n",
		"127.0.0.3:9693  backed off  -           -       0     0.0/s  0/0/0           1.5s     connection refused\n",
	} {
		assert.Contains(t, out, want)
	}

	b.Reset()
	require.NoError(t, renderFrame(&b, buildFrame(nil, &farmSample{at: t0, note: "no daemon is running"}, time.Second, false)))
	assert.Equal(t, "dcc monitor  14:03:05  every 1s  no daemon  remote compiling off\nnote: no daemon is running\n", b.String())
}

func TestBusyBar(t *testing.T) {
	for _, tt := range []struct {
		busy, slots int
		want        string
	}{
		{0, 4, "[----]"}, {2, 4, "[##--]"}, {4, 4, "[####]"}, {6, 4, "[####]"},
		{1, 32, "[#---------------]"}, {31, 32, "[###############-]"}, {32, 32, "[################]"},
		{0, 0, "[]"},
	} {
		assert.Equal(t, tt.want, busyBar(tt.busy, tt.slots, maxBarWidth), "%d of %d", tt.busy, tt.slots)
	}
}

// fakeSource is a daemon for the monitor: its hits grow by one per poll.
type fakeSource struct {
	mu     sync.Mutex
	polls  int
	hosts  []daemon.HostReport
	err    error
	closed bool
}

func (s *fakeSource) Stats(context.Context) (daemon.StatsReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls++
	return daemon.StatsReport{Counters: map[string]int64{cache.StatHits: int64(s.polls)}}, s.err
}

func (s *fakeSource) MonitorHosts(context.Context) ([]daemon.HostReport, error) { return s.hosts, nil }
func (s *fakeSource) Server() daemon.ServerInfo                                 { return daemon.ServerInfo{PID: 9} }
func (s *fakeSource) Close() error                                              { s.closed = true; return nil }

// testMonitor is a monitor of src with hosts configured.
func testMonitor(src monitorSource, interval time.Duration) *monitor {
	cfg := &config.Config{Remote: true, Hosts: []config.Host{{Connect: "127.0.0.2:9693"}}}
	m := newMonitor(cfg, interval)
	m.dial = func(context.Context) monitorSource { return src }
	return m
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMonitorLoop(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		src := &fakeSource{hosts: []daemon.HostReport{upHost("127.0.0.2:9693", 2, 1, 0, 0, daemon.InFlightJob{Source: "x.c"})}}
		m := testMonitor(src, 20*time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		var out lockedBuffer
		done := make(chan error)
		go func() { done <- m.loop(ctx, &out, terminal) }()
		for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), "dcc monitor ") < 3; time.Sleep(5 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "three frames")
		}
		cancel()
		require.NoError(t, <-done)
		frames := out.String()
		assert.Contains(t, frames, "    > x.c  0.0s\n")
		if terminal {
			assert.True(t, strings.HasPrefix(frames, "\x1b[H\x1b[2J"), "each frame redraws the screen")
			assert.Equal(t, strings.Count(frames, "dcc monitor "), strings.Count(frames, "\x1b[H\x1b[2J"))
		} else {
			assert.NotContains(t, frames, "\x1b")
			assert.Contains(t, frames, "\n\ndcc monitor ", "frames are separated by a blank line")
			assert.Regexp(t, `hits 2 \([0-9.]+/s\)`, frames, "rates from successive polls")
		}
	}
}

func TestMonitorDaemonGoesAway(t *testing.T) {
	src := &fakeSource{}
	m := testMonitor(src, time.Millisecond)
	f := m.next(context.Background())
	assert.Equal(t, 9, f.DaemonPID)
	src.err = errors.New("connection reset")
	m.dial = func(context.Context) monitorSource { return nil }
	f = m.next(context.Background())
	assert.Zero(t, f.DaemonPID)
	assert.Equal(t, "the daemon did not answer: connection reset", f.Note)
	assert.True(t, src.closed)
	f = m.next(context.Background())
	assert.Contains(t, f.Note, "no daemon is running")
}

func TestMonitorHandler(t *testing.T) {
	latest := &latestFrame{}
	latest.set(buildFrame(nil, sampleAt(time.Unix(1_700_000_000, 0), 3, 1, 1, 0,
		upHost("127.0.0.2:9693", 2, 1, 0, 0, daemon.InFlightJob{Source: "w.c"})), time.Second, true))
	second := sampleAt(time.Unix(1_700_000_002, 0), 3, 5, 1, 0, upHost("127.0.0.2:9693", 2, 1, 0, 4, daemon.InFlightJob{Source: "w.c"}))
	latest.set(buildFrame(sampleAt(time.Unix(1_700_000_001, 0), 3, 1, 1, 0, upHost("127.0.0.2:9693", 2, 1, 0, 0)), second, time.Second, true))
	srv := httptest.NewServer(monitorHandler(latest))
	defer srv.Close()
	get := func(path string) (string, http.Header) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b), resp.Header
	}
	page, h := get("/")
	assert.Contains(t, h.Get("Content-Type"), "text/html")
	assert.Contains(t, page, `fetch("farm.json"`)
	body, h := get("/farm.json")
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	var f servedFrame
	require.NoError(t, json.Unmarshal([]byte(body), &f))
	assert.Equal(t, "w.c", f.Hosts[0].Jobs[0].Source)
	assert.Equal(t, []float64{0, 4}, f.History.Hits, "the hits per second of each frame, oldest first")
	assert.Equal(t, map[string][]float64{"127.0.0.2:9693": {0, 4}}, f.History.Hosts)
	for range historyLength + 5 {
		latest.set(f.farmFrame)
	}
	assert.Len(t, latest.history.Hits, historyLength)
	resp, err := http.Get(srv.URL + "/other")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestMonitorUsage(t *testing.T) {
	for _, args := range [][]string{
		{"monitor", "--interval", "1ms"},
		{"monitor", "--once", "--http", "127.0.0.1:0"},
		{"monitor", "extra"},
	} {
		var out, errb bytes.Buffer
		assert.Equal(t, 2, Execute(context.Background(), args, &out, &errb), "%v", args)
		assert.Contains(t, errb.String(), "usage: dcc monitor", "%v", args)
	}
}
