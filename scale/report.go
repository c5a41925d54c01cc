package scale

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// WriteTable prints the report as a table, a row per measurement, then the
// note on how many hosts one client keeps busy.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s trace, %d units per client (x%.2g durations), clients at nice %d, %d CPUs, sweep took %.0f s\n",
		r.Project, r.Units, r.TimeScale, r.ClientNice, r.CPUs, r.WallS)
	if r.DaemonSession {
		fmt.Fprintln(w, "each daemon in a session of its own")
	}
	if r.ClientCPU > 0 {
		fmt.Fprintf(w, "each client limited to %.2g CPU on CPU 0, the hosts on the other CPUs\n", r.ClientCPU)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\thosts\tclients\t-j\tmakespan\tideal\tx ideal\tx ideal+local\tslowest/fair\tslowest/fastest\thost util\tidle, all building\thandoff ms p50/p99\t>1 s (of gap time)\tfirst wave s\tidle while units wait (s)\tremote\tlocal\thost units min-max\tq wait ms\tq max\tq while idle\tbusy refused\tfallbacks\tno free host\twrapper alone\tcpu ms/unit\tdaemon ms\thost cpu ms/unit\tmachine cpu\tsteal\tcpu s\thost conns\thost RSS MiB\thosts RSS MiB\thost fds\tdaemon RSS MiB\tdaemon fds\tidle daemon ms/s\tidle hosts ms/s\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f%%\t%.1f%%\t%.0f/%.0f\t%d (%.0f%%)\t%.2f\t%.2f%% (%.0f)\t%d\t%d\t%d-%d\t%.0f\t%d\t%.0f%%\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.0f%%\t%.0f%%\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%.0f\t%d\t%.1f\t%.0f\t\n",
			row.Kind, row.Hosts, row.Clients, row.Jobs, row.Makespan, row.Ideal, row.Ratio, row.RatioLocal, row.MaxClientRatio, row.Spread,
			row.Utilisation*100, row.IdleAllBuilding*100, row.HandoffP50MS, row.HandoffP99MS, row.HandoffsOver1s, row.HandoffsOver1sShare*100, row.FirstWaveS, row.IdleWhileWaiting*100, row.WaitingS, row.RemoteUnits, row.LocalUnits, row.HostUnitsMin, row.HostUnitsMax, row.QueueWaitMS, row.QueuedMax,
			row.QueuedWhileIdle*100, row.RefusedBusy, row.Fallbacks, row.NoHost, row.WrapperLocal, row.ClientCPU, row.DaemonCPU, row.HostCPU, row.MachineBusy*100, row.Steal*100, row.MachineCPU,
			row.HostConns, row.HostRSS, row.HostRSSTotal, row.HostFDs, row.ClientRSS, row.ClientFDs, row.IdleDaemonCPU, row.IdleHostsCPU)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the table: %w", err)
	}
	for _, kind := range []string{"dcc", "distcc"} {
		for _, row := range r.Rows {
			if row.Kind == kind && row.Clients == 1 && row.ClientCPU > 0 {
				fmt.Fprintf(w, "%s: one client spends %.1f ms of CPU per unit (%d hosts, 1 client); at %.0f ms per unit one client core keeps %.1f hosts of %d slots busy (%.1f with this machine's %d CPUs)\n",
					kind, row.ClientCPU, row.Hosts, row.MeanUnitMS, row.HostsPerCore, row.Slots/row.Hosts, row.HostsPerCore*float64(r.CPUs), r.CPUs)
			}
		}
	}
	for _, row := range r.Rows {
		if row.ClientBound > 0 {
			fmt.Fprintf(w, "%s, %d hosts, %d clients, each limited to %.2g CPU: makespan %.1f s, what a client's CPU allows %.1f s (x %.2f); at that CPU one client keeps %.1f hosts of %d slots busy\n",
				row.Kind, row.Hosts, row.Clients, row.ClientCPULimit, row.Makespan, row.ClientBound, row.ClientBoundRatio, row.HostsPerCore*row.ClientCPULimit, row.Slots/row.Hosts)
		}
	}
	for _, row := range r.Rows {
		for _, e := range row.Errors {
			fmt.Fprintf(w, "error: %s hosts %d clients %d: %s\n", row.Kind, row.Hosts, row.Clients, e)
		}
	}
	return nil
}
