package server

import (
	"slices"
	"sync"
	"time"
)

// runningJobs are the jobs holding a compile slot now, for the status page.
type runningJobs struct {
	mu   sync.Mutex
	next uint64
	jobs map[uint64]runningJob
}

// runningJob is one job running: its source's name, the client's name and
// when it got its slot.
type runningJob struct {
	source, client string
	start          time.Time
}

// newRunningJobs returns an empty set of running jobs.
func newRunningJobs() *runningJobs { return &runningJobs{jobs: map[uint64]runningJob{}} }

// add notes a job started and returns its id for remove.
func (r *runningJobs) add(source, client string, start time.Time) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	r.jobs[r.next] = runningJob{source: source, client: client, start: start}
	return r.next
}

// remove forgets a job that ended.
func (r *runningJobs) remove(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.jobs, id)
}

// list returns the jobs running, the longest-running first.
func (r *runningJobs) list() []runningJob {
	r.mu.Lock()
	jobs := make([]runningJob, 0, len(r.jobs))
	for _, j := range r.jobs {
		jobs = append(jobs, j)
	}
	r.mu.Unlock()
	slices.SortFunc(jobs, func(a, b runningJob) int { return a.start.Compare(b.start) })
	return jobs
}

// rateWindow counts events per second over the last minute.
type rateWindow struct {
	mu     sync.Mutex
	secs   [60]int64
	counts [60]int
}

// add counts one event at now.
func (w *rateWindow) add(now time.Time) {
	s := now.Unix()
	i := s % 60
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.secs[i] != s {
		w.secs[i], w.counts[i] = s, 0
	}
	w.counts[i]++
}

// lastMinute returns the events of the 60 seconds up to now.
func (w *rateWindow) lastMinute(now time.Time) int {
	s := now.Unix()
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for i, sec := range w.secs {
		if s-sec < 60 && sec <= s {
			n += w.counts[i]
		}
	}
	return n
}

// hostStatus is /status.json: this host as the status page shows it.
type hostStatus struct {
	Name       string            `json:"name"`
	Transport  string            `json:"transport"`
	Sandboxed  bool              `json:"sandboxed"`
	Toolchains []statusToolchain `json:"toolchains"`
	Slots      int               `json:"slots"`
	Busy       int               `json:"busy"`
	Queued     int               `json:"queued"`
	Jobs       []statusJob       `json:"jobs"`
	// CompilesPerMinute counts the jobs run that ended in the last minute.
	CompilesPerMinute int              `json:"compiles_per_minute"`
	Refusals          int64            `json:"refusals"`
	RefusalsByReason  map[string]int64 `json:"refusals_by_reason"`
	UptimeSeconds     float64          `json:"uptime_seconds"`
}

// statusToolchain is a compiler served.
type statusToolchain struct {
	Driver  string `json:"driver"`
	Version string `json:"version"`
	Target  string `json:"target"`
	Shipped bool   `json:"shipped,omitempty"`
}

// statusJob is a job running.
type statusJob struct {
	Source         string  `json:"source"`
	Client         string  `json:"client"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// status returns the host's status now.
func (s *Server) status(now time.Time) hostStatus {
	load := s.runner.Load("")
	st := hostStatus{Name: s.name, Transport: s.Transport(), Sandboxed: s.runner.Sandboxed(),
		Toolchains: []statusToolchain{}, Jobs: []statusJob{},
		Slots: load.Slots, Busy: load.Running, Queued: load.Queued, UptimeSeconds: now.Sub(s.started).Seconds()}
	for _, tc := range s.toolchains.List() {
		st.Toolchains = append(st.Toolchains, statusToolchain{Driver: tc.Driver, Version: tc.Version, Target: tc.Target, Shipped: tc.Bundle != ""})
	}
	if s.metrics != nil {
		for _, j := range s.metrics.running.list() {
			st.Jobs = append(st.Jobs, statusJob{Source: j.source, Client: j.client, ElapsedSeconds: now.Sub(j.start).Seconds()})
		}
		st.CompilesPerMinute = s.metrics.rate.lastMinute(now)
	}
	st.Refusals, st.RefusalsByReason = s.metrics.refused()
	return st
}
