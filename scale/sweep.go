package scale

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"
)

// Sweep is a set of farm sizes to measure.
type Sweep struct {
	// Hosts and Clients are the sizes measured, every pair of them.
	Hosts, Clients []int
	// Kinds are "dcc" and/or "distcc".
	Kinds []string
	// Slots per host (4).
	Slots int
	// Units per client, drawn from Trace in order.
	Units int
	Trace *Trace
	// TimeScale multiplies every unit's duration (1: as recorded).
	TimeScale float64
	// RowTimeout bounds one row's builds.
	RowTimeout time.Duration
	// Progress, when set, gets a line per row as it ends.
	Progress io.Writer
}

// Report is a sweep's result.
type Report struct {
	Project   string  `json:"project"`
	Units     int     `json:"units_per_client"`
	TimeScale float64 `json:"time_scale"`
	// ClientNice is the niceness the clients ran at (Env.ClientNice).
	ClientNice int `json:"client_nice"`
	// ClientCPU is the CPUs each client could use (Env.ClientCPU; 0: not
	// limited).
	ClientCPU float64 `json:"client_cpu_limit,omitempty"`
	// DaemonSession: the daemons ran in sessions of their own
	// (Env.DaemonSession).
	DaemonSession bool      `json:"daemon_session,omitempty"`
	CPUs          int       `json:"cpus"`
	Started       time.Time `json:"started"`
	WallS         float64   `json:"wall_s"`
	Rows          []Row     `json:"rows"`
}

// Run measures every row of the sweep: for each kind and host count it
// starts the hosts once, then runs each client count against them.
func (sw *Sweep) Run(ctx context.Context, env *Env) (*Report, error) {
	rep := &Report{Project: sw.Trace.Project, Units: sw.Units, TimeScale: sw.TimeScale, ClientNice: env.ClientNice,
		ClientCPU: env.ClientCPU, DaemonSession: env.DaemonSession, CPUs: runtime.NumCPU(), Started: time.Now()}
	units := sw.Trace.Take(sw.Units)
	if sw.TimeScale > 0 && sw.TimeScale != 1 {
		for i := range units {
			units[i].Duration = time.Duration(float64(units[i].Duration) * sw.TimeScale)
		}
	}
	for _, h := range sw.Hosts {
		for _, kind := range sw.Kinds {
			if kind == "distcc" && (env.Distcc == "" || env.Distccd == "") {
				return nil, fmt.Errorf("distcc and distccd are not installed (apt-get install distcc)")
			}
			t0 := time.Now()
			f, err := startFarm(ctx, env, kind, h, sw.Slots)
			if err != nil {
				return nil, fmt.Errorf("start %d %s hosts: %w", h, kind, err)
			}
			slog.Debug("farm up", "kind", kind, "hosts", h, "in", time.Since(t0))
			for _, c := range sw.Clients {
				if err := env.resetUnitsLog(); err != nil {
					f.stop()
					return nil, err
				}
				row := runRow(ctx, env, f, sw.Slots, c, units, sw.RowTimeout)
				rep.Rows = append(rep.Rows, row)
				if sw.Progress != nil {
					fmt.Fprintf(sw.Progress, "%-6s hosts %3d clients %2d: makespan %6.1fs ideal %6.1fs (x%.2f), client CPU %.1f ms/unit, row %.0fs%s\n",
						row.Kind, row.Hosts, row.Clients, row.Makespan, row.Ideal, row.Ratio, row.ClientCPU, row.Wall, errNote(row))
				}
				if ctx.Err() != nil {
					break
				}
			}
			f.stop()
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
		}
	}
	rep.WallS = time.Since(rep.Started).Seconds()
	return rep, nil
}

// errNote is " (N errors: first)" for a row with errors.
func errNote(r Row) string {
	if len(r.Errors) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d errors: %s)", len(r.Errors), r.Errors[0])
}
