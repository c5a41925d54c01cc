package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/wrapper"
)

// statsCommand is "dcc stats [--json] [--zero]".
func statsCommand() command {
	return command{
		name: "stats", usage: "[--json | --prometheus] [--zero]",
		summary: "Show the cache statistics (or zero them)",
		details: `Shows hits (direct and preprocessed), misses (and why: new source, changed
header, ...), uncacheable compiles, commands run unchanged, errors, and the
cache's size and entry count, like ccache -s.
--json prints one JSON object with the same figures; --prometheus prints them
in Prometheus's text format (for node_exporter's textfile collector:
dcc stats --prometheus > dir/dcc.prom.tmp && mv dir/dcc.prom.tmp dir/dcc.prom);
--zero zeroes the counters and leaves the cache alone. Starts the daemon if it
is not running.`,
		run: func(e env, args []string) error {
			fs := flag.NewFlagSet("stats", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			asJSON := fs.Bool("json", false, "print JSON")
			asProm := fs.Bool("prometheus", false, "print Prometheus's text format")
			zero := fs.Bool("zero", false, "zero the counters")
			if err := fs.Parse(args); err != nil {
				if err == flag.ErrHelp {
					return err
				}
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			if fs.NArg() > 0 {
				return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
			}
			if *asJSON && *asProm {
				return fmt.Errorf("%w: --json and --prometheus are two formats: give one", errUsage)
			}
			c, err := wrapper.ConnectDaemon(e.ctx)
			if err != nil {
				return fmt.Errorf("reach the daemon: %w", err)
			}
			defer c.Close()
			if *zero {
				if err := c.ZeroStats(e.ctx); err != nil {
					return fmt.Errorf("zero stats: %w", err)
				}
				fmt.Fprintln(e.stdout, "Statistics zeroed")
				return nil
			}
			r, err := c.Stats(e.ctx)
			if err != nil {
				return fmt.Errorf("stats: %w", err)
			}
			if *asJSON {
				return writeStatsJSON(e.stdout, r)
			}
			if *asProm {
				return writeStatsPrometheus(e.stdout, r)
			}
			writeStatsText(e.stdout, r)
			return nil
		},
	}
}

// writeStatsJSON prints the report as one JSON object: every counter by
// name, the compiles per host as remote_hosts and the misses by reason as
// misses_by_reason, then cache_size, max_size, entries and stats_since.
func writeStatsJSON(w io.Writer, r daemon.StatsReport) error {
	out := map[string]any{}
	hosts := map[string]int64{}
	reasons := map[string]int64{}
	for _, reason := range cache.MissReasons {
		reasons[reason] = 0
	}
	for name, v := range r.Counters {
		if host, ok := strings.CutPrefix(name, cache.StatHostPrefix); ok {
			hosts[host] = v
			continue
		}
		if reason, ok := strings.CutPrefix(name, cache.StatMissPrefix); ok {
			reasons[reason] = v
			continue
		}
		if _, ok := strings.CutPrefix(name, cache.StatStoragePrefix); ok {
			continue
		}
		out[name] = v
	}
	out["remote_hosts"], out["misses_by_reason"] = hosts, reasons
	out["remote_storage"] = storageCounters(r.Counters)
	out["cache_size"], out["max_size"], out["entries"], out["stats_since"] = r.CacheSize, r.MaxSize, r.Entries, r.StatsSince
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeStatsText prints the report for people, in the manner of ccache -s.
func writeStatsText(w io.Writer, r daemon.StatsReport) {
	c := r.Counters
	hits := c[cache.StatHits]
	cacheable := hits + c[cache.StatMisses]
	calls := cacheable + c[cache.StatUncacheable] + c[cache.StatLocal] + c[cache.StatErrors]
	fmt.Fprintf(w, "Stats since:        %s\n", r.StatsSince)
	fmt.Fprintf(w, "Cacheable calls:    %s\n", ratio(cacheable, calls))
	fmt.Fprintf(w, "  Hits:             %s\n", ratio(hits, cacheable))
	fmt.Fprintf(w, "    Direct:         %s\n", ratio(c[cache.StatDirectHits], hits))
	fmt.Fprintf(w, "    Preprocessed:   %s\n", ratio(c[cache.StatPreprocessedHits], hits))
	fmt.Fprintf(w, "  Misses:           %s\n", ratio(c[cache.StatMisses], cacheable))
	if by := missesByReason(c); by != "" {
		fmt.Fprintf(w, "    By reason:      %s\n", by)
	}
	fmt.Fprintf(w, "Uncacheable calls:  %s\n", ratio(c[cache.StatUncacheable], calls))
	fmt.Fprintf(w, "Run unchanged:      %s\n", ratio(c[cache.StatLocal], calls))
	fmt.Fprintf(w, "Errors:             %d\n", c[cache.StatErrors])
	fmt.Fprintf(w, "Compiled on hosts:  %d (from the sources: %d; fallbacks to local: %d, re-run here: %d)\n",
		c[cache.StatRemote], c[cache.StatRemoteSources], c[cache.StatFallbacks], c[cache.StatRemoteReruns])
	fmt.Fprintf(w, "Shared cache hits:  %d\n", c[cache.StatRemoteCacheHits])
	for _, name := range slices.Sorted(maps.Keys(c)) {
		if host, ok := strings.CutPrefix(name, cache.StatHostPrefix); ok {
			fmt.Fprintf(w, "  on %-16s %d\n", host+":", c[name])
		}
	}
	lookups := c[cache.StatStorageHits] + c[cache.StatStorageMisses]
	fmt.Fprintf(w, "Remote storage:     hits %s, errors %d, timeouts %d, refused %d\n", ratio(c[cache.StatStorageHits], lookups),
		c[cache.StatStorageErrors], c[cache.StatStorageTimeouts], c[cache.StatStorageRefused])
	per := storageCounters(c)
	for _, name := range slices.Sorted(maps.Keys(per)) {
		e := per[name]
		fmt.Fprintf(w, "  %s: hits %d, misses %d, errors %d, timeouts %d, refused %d, writes %d, dropped %d\n", name,
			e["hits"], e["misses"], e["errors"], e["timeouts"], e["refused"], e["writes"], e["dropped"])
	}
	fmt.Fprintf(w, "Damaged entries:    %d\n", c[cache.StatCorrupt])
	fmt.Fprintf(w, "Evictions:          %d\n", c[cache.StatEvictions])
	pct := 0.0
	if r.MaxSize > 0 {
		pct = 100 * float64(r.CacheSize) / float64(r.MaxSize)
	}
	fmt.Fprintf(w, "Cache size:         %s / %s (%.1f%%), %d entries\n",
		config.FormatSize(r.CacheSize), config.FormatSize(r.MaxSize), pct, r.Entries)
}

// storageCounters returns the per-backend counters of remote storage, by
// backend and event ("storage <name> <event>").
func storageCounters(c map[string]int64) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for name, v := range c {
		rest, ok := strings.CutPrefix(name, cache.StatStoragePrefix)
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, ' ')
		if i < 0 {
			continue
		}
		backend, event := rest[:i], rest[i+1:]
		if out[backend] == nil {
			out[backend] = map[string]int64{}
		}
		out[backend][event] = v
	}
	return out
}

// missesByReason lists the misses by reason, "new source 12, changed header
// 3, ...", in the order of cache.MissReasons and leaving out reasons with
// none; misses counted before the reasons were (an older daemon's) show as
// "unrecorded". No misses: "".
func missesByReason(c map[string]int64) string {
	var parts []string
	var sum int64
	for _, reason := range cache.MissReasons {
		if n := c[cache.StatMissPrefix+reason]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", strings.ReplaceAll(reason, "_", " "), n))
			sum += n
		}
	}
	if rest := c[cache.StatMisses] - sum; rest > 0 {
		parts = append(parts, fmt.Sprintf("unrecorded %d", rest))
	}
	return strings.Join(parts, ", ")
}

// ratio formats "n / of (p%)".
func ratio(n, of int64) string {
	if of == 0 {
		return fmt.Sprintf("%d / %d", n, of)
	}
	return fmt.Sprintf("%d / %d (%.1f%%)", n, of, 100*float64(n)/float64(of))
}

// clearCommand is "dcc clear".
func clearCommand() command {
	return command{
		name: "clear", summary: "Empty the cache (the statistics are kept)",
		run: func(e env, args []string) error {
			if len(args) > 0 {
				if args[0] == "-h" || args[0] == "--help" {
					return flag.ErrHelp
				}
				return fmt.Errorf("%w: clear takes no arguments", errUsage)
			}
			c, err := wrapper.ConnectDaemon(e.ctx)
			if err != nil {
				return fmt.Errorf("reach the daemon: %w", err)
			}
			defer c.Close()
			if err := c.Clear(e.ctx); err != nil {
				return fmt.Errorf("clear: %w", err)
			}
			fmt.Fprintln(e.stdout, "Cache cleared")
			return nil
		},
	}
}
