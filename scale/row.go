package scale

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Row is one measured configuration: kind ("dcc" or "distcc"), hosts and
// clients building at once. Durations are in seconds, CPU in milliseconds
// per unit, memory in MiB.
type Row struct {
	Kind    string `json:"kind"`
	Hosts   int    `json:"hosts"`
	Clients int    `json:"clients"`
	Slots   int    `json:"slots"`
	// Units is the units per client; Jobs make's -j of each client.
	Units int `json:"units_per_client"`
	Jobs  int `json:"make_jobs"`

	// Makespan runs from the start of every client's build to the end of
	// the last; Ideal is max(total work / total slots, longest unit).
	Makespan float64 `json:"makespan_s"`
	Ideal    float64 `json:"ideal_s"`
	Ratio    float64 `json:"makespan_over_ideal"`
	// IdealLocal counts the slots of the clients too (dcc compiles up to
	// local_jobs units here, the number of CPUs; distcc, with no localhost
	// in DISTCC_HOSTS, none): the stand-in's local compiles only sleep, as
	// if each client had CPUs of its own.
	IdealLocal float64 `json:"ideal_with_local_s"`
	RatioLocal float64 `json:"makespan_over_ideal_with_local"`
	// MaxClient is the slowest client's makespan; its fair share is the
	// ideal (each client has 1/C of the work and 1/C of the slots).
	MaxClient      float64 `json:"max_client_makespan_s"`
	MaxClientRatio float64 `json:"max_client_over_fair_share"`
	// Spread is the slowest client's makespan over the fastest's;
	// ClientMakespans are every client's.
	Spread          float64   `json:"slowest_over_fastest_client"`
	ClientMakespans []float64 `json:"client_makespans_s"`
	// Utilisation is the hosts' busy slot time / (slots x makespan).
	Utilisation float64 `json:"host_utilisation"`
	// IdleAllBuilding is the share of the hosts' slot time they were idle
	// from the start until the first client's build ended: while every
	// client was still building, with units waiting for a slot or about
	// to. Unlike QueuedWhileIdle it weighs how long a slot stayed idle,
	// not whether one was idle at a sample.
	IdleAllBuilding float64 `json:"host_idle_while_all_build"`
	// HandoffP50MS, HandoffP99MS: the median and 99th percentile of the
	// time a host's slot stayed idle from one unit's end to the next
	// unit's start there, until the first client ended (handoff.go);
	// HandoffsOver1s counts those over a second, HandoffsOver1sShare is
	// their share of all that idle time. FirstWaveS is the mean time from
	// the start to a slot's first unit.
	HandoffP50MS        float64 `json:"handoff_p50_ms"`
	HandoffP99MS        float64 `json:"handoff_p99_ms"`
	HandoffsOver1s      int     `json:"handoffs_over_1s"`
	HandoffsOver1sShare float64 `json:"handoffs_over_1s_share"`
	FirstWaveS          float64 `json:"first_wave_s"`
	// IdleWhileWaiting is the share of the hosts' slot time they were
	// idle while some client had a unit made and not started, after the
	// first wave (from the last slot's first unit; waitidle.go), over
	// WaitingS seconds.
	IdleWhileWaiting float64 `json:"host_idle_while_units_wait"`
	WaitingS         float64 `json:"units_waiting_s"`

	// RemoteUnits, LocalUnits count where units ran (the stand-in's log);
	// HostUnitsMin/Max are the fewest and most units one host ran.
	RemoteUnits  int `json:"remote_units"`
	LocalUnits   int `json:"local_units"`
	HostUnitsMin int `json:"host_units_min"`
	HostUnitsMax int `json:"host_units_max"`
	// QueueWaitMS is the mean time a compile request spent on a host
	// beyond its compile (dcc: waiting for a slot, mostly); QueuedMax the
	// most units one host had waiting in a sample; QueuedWhileIdle the
	// share of samples in which some host had units waiting while another
	// had a free slot.
	QueueWaitMS     float64 `json:"queue_wait_ms"`
	QueuedMax       int     `json:"queued_max"`
	QueuedWhileIdle float64 `json:"queued_while_idle"`
	// RefusedBusy counts requests hosts refused as busy; Fallbacks units
	// sent to a host that compiled here after all (dcc stats: fallbacks),
	// NoHost units dcc compiled here at once (stats local).
	RefusedBusy int64 `json:"refused_busy"`
	Fallbacks   int64 `json:"fallbacks"`
	NoHost      int64 `json:"local_no_free_host"`
	// WrapperLocal are local units the daemons did not count: wrappers
	// that had no answer from their daemon in time and ran the compiler
	// themselves (local minus the daemons' local compiles).
	WrapperLocal int64 `json:"local_by_wrapper"`
	// IdleDaemonCPU, IdleHostsCPU: CPU milliseconds per second a client's
	// daemon (the mean) and all hosts together spent before the build,
	// sessions open and nothing to compile.
	IdleDaemonCPU float64 `json:"idle_daemon_cpu_ms_per_s"`
	IdleHostsCPU  float64 `json:"idle_hosts_cpu_ms_per_s"`

	// ClientCPU is a client's CPU per unit (its make, wrappers and
	// distcc, its daemon), the mean over clients; DaemonCPU the daemon's
	// part.
	ClientCPU float64 `json:"client_cpu_ms_per_unit"`
	DaemonCPU float64 `json:"daemon_cpu_ms_per_unit"`
	// HostCPU is the hosts' CPU per unit compiled there (the servers, the
	// stand-in they ran).
	HostCPU float64 `json:"host_cpu_ms_per_remote_unit"`
	// MachineBusy is the share of the CPU time the hypervisor gave this
	// machine during the builds that something used: near 1, the row
	// measured the machine, not the farm's scheduling. Steal is the share
	// of the CPUs' time the hypervisor took (reports before 2026-12-07
	// counted it as busy, in machine_cpu_busy).
	MachineBusy float64 `json:"machine_cpu_busy_of_given"`
	Steal       float64 `json:"cpu_steal"`
	// MachineCPU is the CPU seconds the machine's processes used during
	// the builds: the figure to compare between rows that ran under
	// different steal, when both used all they were given.
	MachineCPU   float64 `json:"machine_cpu_s"`
	MeanUnitMS   float64 `json:"mean_unit_ms"`
	HostsPerCore float64 `json:"hosts_one_client_core_keeps_busy"`
	// ClientCPULimit is the CPUs each client could use (Env.ClientCPU; 0:
	// not limited, and the next two are 0). ClientBound is the makespan
	// the slowest-bound client's CPU allowed (clientCPUBound, from the CPU
	// it used), ClientBoundRatio the makespan over it.
	ClientCPULimit   float64 `json:"client_cpu_limit,omitempty"`
	ClientBound      float64 `json:"client_cpu_bound_s,omitempty"`
	ClientBoundRatio float64 `json:"makespan_over_client_cpu_bound,omitempty"`

	// Connections open on hosts at the end (dcc), the most on one host.
	HostConns    float64 `json:"host_connections_max"`
	HostRSS      float64 `json:"host_rss_max_mib"`
	HostRSSTotal float64 `json:"hosts_rss_total_mib"`
	HostFDs      int     `json:"host_fds_max"`
	ClientRSS    float64 `json:"client_daemon_rss_peak_mib"`
	ClientFDs    int     `json:"client_daemon_fds_max"`

	Wall   float64  `json:"row_wall_s"`
	Errors []string `json:"errors,omitempty"`
}

// runRow builds units on each of nclients clients at once through f, and
// measures.
func runRow(ctx context.Context, env *Env, f *farm, slots, nclients int, units []Unit, timeout time.Duration) Row {
	began := time.Now()
	row := Row{Kind: f.kind, Hosts: len(f.hosts), Clients: nclients, Slots: slots * len(f.hosts), Units: len(units)}
	name := fmt.Sprintf("%s-h%d-c%d", f.kind, len(f.hosts), nclients)
	fail := func(err error) Row {
		row.Errors = append(row.Errors, err.Error())
		row.Wall = time.Since(began).Seconds()
		return row
	}
	clients := make([]*client, nclients)
	errs := make([]error, nclients)
	var wg sync.WaitGroup
	for k := range nclients {
		wg.Go(func() { clients[k], errs[k] = newClient(ctx, env, f, name, k, units) })
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil && c.daemon != nil {
				c.daemon.stop(10 * time.Second)
			}
			if c != nil {
				c.closeLimit()
			}
		}
	}()
	for _, err := range errs {
		if err != nil {
			return fail(err)
		}
	}
	row.Jobs = clients[0].jobs
	row.measureIdle(ctx, f, clients, 3*time.Second)
	before, err := scrapeFarm(ctx, f)
	if err != nil {
		return fail(err)
	}
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sctx, stopSampling := context.WithCancel(bctx)
	interval := max(time.Second, time.Duration(len(f.hosts))*10*time.Millisecond)
	sampled := make(chan *samples, 1)
	go func() { sampled <- sample(sctx, f, clients, interval) }()
	hostCPU0, cpu0, start := f.cpu(), machineCPU(), time.Now()
	for _, c := range clients {
		wg.Go(func() { c.build(bctx, env) })
	}
	wg.Wait()
	end := time.Now()
	cpu, hostCPU := machineCPU().sub(cpu0), f.cpu()-hostCPU0
	after, err := scrapeFarm(ctx, f)
	if err != nil {
		row.Errors = append(row.Errors, err.Error())
	}
	stopSampling()
	s := <-sampled
	for _, c := range clients {
		c.finish(ctx, env)
		if c.err != nil {
			row.Errors = append(row.Errors, c.err.Error())
		}
	}
	row.fill(env, f, clients, units, start, end, cpu, after.sub(before), s)
	if row.RemoteUnits > 0 {
		row.HostCPU = float64(hostCPU.Microseconds()) / 1000 / float64(row.RemoteUnits)
	}
	row.Wall = time.Since(began).Seconds()
	return row
}

// fill computes the row's figures from what was measured.
func (row *Row) fill(env *Env, f *farm, clients []*client, units []Unit, start, end time.Time, cpu cpuTimes, m hostMetrics, s *samples) {
	var work, longest time.Duration
	for _, u := range units {
		work += u.Duration
		longest = max(longest, u.Duration)
	}
	n := len(clients)
	total := work * time.Duration(n)
	row.MeanUnitMS = float64(work.Milliseconds()) / float64(len(units))
	row.Ideal = max(total.Seconds()/float64(row.Slots), longest.Seconds())
	row.Makespan = end.Sub(start).Seconds()
	row.Ratio = row.Makespan / row.Ideal
	local := 0
	if row.Kind == "dcc" {
		local = n * runtime.NumCPU()
	}
	row.IdealLocal = max(total.Seconds()/float64(row.Slots+local), longest.Seconds())
	row.RatioLocal = row.Makespan / row.IdealLocal
	var clientCPU, daemonCPU time.Duration
	for _, c := range clients {
		row.MaxClient = max(row.MaxClient, c.makespan().Seconds())
		row.ClientMakespans = append(row.ClientMakespans, c.makespan().Seconds())
		clientCPU += c.makeCPU + c.daemonCPU
		daemonCPU += c.daemonCPU
		if env.ClientCPU > 0 {
			row.ClientCPULimit = env.ClientCPU
			row.ClientBound = max(row.ClientBound, clientCPUBound(units, c.makeCPU+c.daemonCPU, env.ClientCPU).Seconds())
		}
		row.ClientRSS = max(row.ClientRSS, float64(c.daemonPeak)/(1<<20))
		row.Fallbacks += c.stats["fallbacks"]
		row.NoHost += c.stats["misses"] - c.stats["remote"] - c.stats["fallbacks"] - c.stats["remote_reruns"]
	}
	row.MaxClientRatio = row.MaxClient / row.Ideal
	if row.ClientBound > 0 {
		row.ClientBoundRatio = row.Makespan / row.ClientBound
	}
	row.Spread = row.MaxClient / slices.Min(row.ClientMakespans)
	allUnits := float64(n * len(units))
	row.ClientCPU = float64(clientCPU.Microseconds()) / 1000 / allUnits
	row.DaemonCPU = float64(daemonCPU.Microseconds()) / 1000 / allUnits
	row.MachineCPU = cpu.busy.Seconds()
	if all := row.Makespan * float64(runtime.NumCPU()); all > 0 {
		row.Steal = cpu.steal.Seconds() / all
		if given := all - cpu.steal.Seconds(); given > 0 {
			row.MachineBusy = cpu.busy.Seconds() / given
		}
	}
	if row.ClientCPU > 0 {
		// One core of the client dispatches 1/cpu units a second; a slot
		// takes one every mean-unit; hosts have 4 slots each.
		row.HostsPerCore = row.MeanUnitMS / row.ClientCPU / float64(row.Slots/row.Hosts)
	}
	if runs, err := readUnitRuns(env.UnitsLog, start); err != nil {
		row.Errors = append(row.Errors, err.Error())
	} else {
		perHost, local, busy := placeRuns(env, f, runs)
		row.LocalUnits, row.RemoteUnits = local, len(runs)-local
		row.HostUnitsMin, row.HostUnitsMax = slices.Min(perHost), slices.Max(perHost)
		row.Utilisation = busy.Seconds() / (float64(row.Slots) * row.Makespan)
		firstEnd := slices.MinFunc(clients, func(a, b *client) int { return a.end.Compare(b.end) }).end
		if d := firstEnd.Sub(start).Seconds(); d > 0 {
			row.IdleAllBuilding = 1 - hostBusyBefore(env, runs, firstEnd).Seconds()/(float64(row.Slots)*d)
			h := measureHandoffs(runs, row.Slots/row.Hosts, start, firstEnd)
			row.HandoffP50MS = float64(h.quantile(0.5).Microseconds()) / 1000
			row.HandoffP99MS = float64(h.quantile(0.99).Microseconds()) / 1000
			row.HandoffsOver1s, row.HandoffsOver1sShare = h.over(time.Second)
			row.FirstWaveS = h.firstWave.Seconds()
			jobs := make([]int, len(clients))
			for i, c := range clients {
				jobs[i] = c.jobs
			}
			idle, waited := idleWhileWaiting(runs, func(r unitRun) int { return clientOf(clients, r) }, jobs, len(units), row.Slots, h.waveEnd)
			if waited > 0 {
				row.IdleWhileWaiting = idle.Seconds() / (float64(row.Slots) * waited.Seconds())
				row.WaitingS = waited.Seconds()
			}
		}
		if row.Kind == "dcc" {
			row.WrapperLocal = int64(local) - row.NoHost - row.Fallbacks
		}
	}
	row.RefusedBusy = int64(m.refusedBusy)
	if m.requestCount > 0 {
		row.QueueWaitMS = (m.requestSum - m.compileSum) / m.requestCount * 1000
	}
	row.HostConns = m.maxConnections
	row.QueuedMax = s.maxQueued
	if s.n > 0 && f.kind == "dcc" {
		row.QueuedWhileIdle = float64(s.queuedWhileIdle) / float64(s.n)
	}
	row.HostRSS, row.HostRSSTotal = float64(s.hostRSS)/(1<<20), float64(s.hostSum)/(1<<20)
	row.HostFDs, row.ClientFDs = s.hostFDs, s.clientFDs
}

// measureIdle measures the CPU the daemons and the hosts spend for d with
// sessions open and nothing to compile.
func (row *Row) measureIdle(ctx context.Context, f *farm, clients []*client, d time.Duration) {
	var daemons0 time.Duration
	for _, c := range clients {
		if c.daemon != nil {
			daemons0 += procCPU(c.daemon.pid())
		}
	}
	hosts0, start := f.cpu(), time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(d):
	}
	secs := time.Since(start).Seconds()
	var daemons time.Duration
	for _, c := range clients {
		if c.daemon != nil {
			daemons += procCPU(c.daemon.pid())
		}
	}
	row.IdleHostsCPU = float64((f.cpu() - hosts0).Milliseconds()) / secs
	if f.kind == "dcc" {
		row.IdleDaemonCPU = float64((daemons - daemons0).Milliseconds()) / secs / float64(len(clients))
	}
}
