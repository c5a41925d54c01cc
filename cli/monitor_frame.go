package cli

import (
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
)

// farmSample is one poll of the daemon: its counters and its hosts.
type farmSample struct {
	at time.Time
	// pid is the daemon's; 0 when none answered (note says why).
	pid  int
	note string
	// stats is nil when the daemon did not answer.
	stats *daemon.StatsReport
	hosts []daemon.HostReport
	// hostsErr says why the daemon gave no hosts.
	hostsErr string
}

// farmFrame is what dcc monitor shows at one moment, and /farm.json.
type farmFrame struct {
	Time            string  `json:"time"`
	IntervalSeconds float64 `json:"interval_seconds"`
	// Remote: remote compiling is on in the configuration.
	Remote bool `json:"remote"`
	// DaemonPID is the daemon whose view this is; 0 when none answered.
	DaemonPID int `json:"daemon_pid"`
	// Note says, in one line, what is missing from the frame ("no daemon
	// is running ...", "no hosts configured ..."); empty when nothing is.
	Note  string      `json:"note,omitempty"`
	Local localFrame  `json:"local"`
	Farm  farmTotals  `json:"farm"`
	Hosts []hostFrame `json:"hosts"`
}

// localFrame is this machine's side: the daemon's counters, and their
// rates since the previous poll (null on the first frame, or after the
// counters were zeroed or the daemon restarted).
type localFrame struct {
	Hits            int64    `json:"hits"`
	Misses          int64    `json:"misses"`
	Remote          int64    `json:"remote"`
	Fallbacks       int64    `json:"fallbacks"`
	Errors          int64    `json:"errors"`
	HitsPerSecond   *float64 `json:"hits_per_second"`
	MissesPerSecond *float64 `json:"misses_per_second"`
	RemotePerSecond *float64 `json:"remote_per_second"`
	CacheSize       int64    `json:"cache_size"`
	MaxSize         int64    `json:"max_size"`
	Entries         int64    `json:"entries"`
}

// farmTotals adds up the hosts that are up.
type farmTotals struct {
	HostsUp  int `json:"hosts_up"`
	Slots    int `json:"slots"`
	Busy     int `json:"busy"`
	Queued   int `json:"queued"`
	InFlight int `json:"in_flight"`
}

// hostFrame is one host.
type hostFrame struct {
	Host   string `json:"host"`
	Server string `json:"server,omitempty"`
	Njob   int    `json:"njob"`
	// State is "up", "backed off", "down" or "not tried yet".
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Slots, Busy and Queued are the host's load (every client's jobs).
	Slots  int `json:"slots"`
	Busy   int `json:"busy"`
	Queued int `json:"queued"`
	// InFlight is this client's jobs there; Jobs names them.
	InFlight int        `json:"in_flight"`
	Jobs     []jobFrame `json:"jobs"`
	// CompilesPerSecond is this client's jobs answered per second since
	// the previous poll (null when there is no previous poll to compare).
	CompilesPerSecond *float64 `json:"compiles_per_second"`
	Sent              int64    `json:"sent"`
	OK                int64    `json:"ok"`
	Failed            int64    `json:"failed"`
	BackoffSeconds    float64  `json:"backoff_seconds"`
}

// jobFrame is one of this client's jobs in flight on a host.
type jobFrame struct {
	Source         string  `json:"source"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// hostState is a host's STATE.
func hostState(r daemon.HostReport) string {
	switch {
	case !r.Contacted:
		return "not tried yet"
	case r.Backoff > 0:
		return "backed off"
	case r.Reachable && r.Authenticated:
		return "up"
	}
	return "down"
}

// rate is (cur-prev)/dt per second, or nil when there is nothing to
// compare: no previous value, no time between, or a counter that went down
// (zeroed, or another daemon).
func rate(prev, cur int64, havePrev bool, dt time.Duration) *float64 {
	if !havePrev || dt <= 0 || cur < prev {
		return nil
	}
	r := float64(cur-prev) / dt.Seconds()
	return &r
}

// buildFrame turns a sample into a frame, with rates from prev (nil for
// the first).
func buildFrame(prev, cur *farmSample, interval time.Duration, remoteOn bool) farmFrame {
	f := farmFrame{Time: cur.at.Format(time.RFC3339), IntervalSeconds: interval.Seconds(), Remote: remoteOn,
		DaemonPID: cur.pid, Note: cur.note, Hosts: []hostFrame{}}
	comparable := prev != nil && prev.pid == cur.pid && prev.pid != 0
	dt := time.Duration(0)
	if comparable {
		dt = cur.at.Sub(prev.at)
	}
	if s := cur.stats; s != nil {
		c := s.Counters
		f.Local = localFrame{Hits: c[cache.StatHits], Misses: c[cache.StatMisses], Remote: c[cache.StatRemote],
			Fallbacks: c[cache.StatFallbacks], Errors: c[cache.StatErrors],
			CacheSize: s.CacheSize, MaxSize: s.MaxSize, Entries: s.Entries}
		if comparable && prev.stats != nil {
			p := prev.stats.Counters
			f.Local.HitsPerSecond = rate(p[cache.StatHits], f.Local.Hits, true, dt)
			f.Local.MissesPerSecond = rate(p[cache.StatMisses], f.Local.Misses, true, dt)
			f.Local.RemotePerSecond = rate(p[cache.StatRemote], f.Local.Remote, true, dt)
		}
	}
	if f.Note == "" {
		f.Note = cur.hostsErr
	}
	before := map[string]daemon.HostReport{}
	if comparable {
		for _, r := range prev.hosts {
			before[r.Host] = r
		}
	}
	for _, r := range cur.hosts {
		h := hostFrame{Host: r.Host, Server: r.Server, Njob: r.Jobs, State: hostState(r), Error: r.Error,
			InFlight: r.InFlight, Jobs: []jobFrame{}, Sent: r.Sent, OK: r.OK, Failed: r.Failed,
			BackoffSeconds: r.Backoff.Seconds()}
		if r.Reachable && r.Authenticated {
			h.Slots, h.Busy, h.Queued = r.Slots, r.Running, r.Queued
			f.Farm.HostsUp++
			f.Farm.Slots += r.Slots
			f.Farm.Busy += r.Running
			f.Farm.Queued += r.Queued
		}
		f.Farm.InFlight += r.InFlight
		for _, j := range r.InFlightJobs {
			h.Jobs = append(h.Jobs, jobFrame{Source: j.Source, ElapsedSeconds: j.Elapsed.Seconds()})
		}
		p, ok := before[r.Host]
		h.CompilesPerSecond = rate(p.OK, r.OK, ok, dt)
		f.Hosts = append(f.Hosts, h)
	}
	return f
}
