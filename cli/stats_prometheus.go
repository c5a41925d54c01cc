package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
)

// statsCollector turns a stats report into Prometheus metrics: each named
// counter as dcc_<name>_total, the counters with a prefix as one family
// with a label each (compiles per host, misses per reason, remote storage
// events per storage), and the cache's size, limit and entries as gauges.
type statsCollector struct {
	r daemon.StatsReport
}

var (
	hostCompilesDesc = prometheus.NewDesc("dcc_host_compiles_total", "Compiles done on each compile host.", []string{"host"}, nil)
	missReasonDesc   = prometheus.NewDesc("dcc_misses_by_reason_total", "Cache misses by reason (each miss counts in one).", []string{"reason"}, nil)
	storageDesc      = prometheus.NewDesc("dcc_remote_storage_events_total", "Events of each remote storage: hits, misses, errors, timeouts, refused, writes, dropped.", []string{"storage", "event"}, nil)
	cacheSizeDesc    = prometheus.NewDesc("dcc_cache_size_bytes", "Bytes the local cache holds.", nil, nil)
	cacheMaxDesc     = prometheus.NewDesc("dcc_cache_max_size_bytes", "The local cache's size limit (max_size).", nil, nil)
	cacheEntriesDesc = prometheus.NewDesc("dcc_cache_entries", "Entries in the local cache.", nil, nil)
	statsSinceDesc   = prometheus.NewDesc("dcc_stats_since_seconds", "When the counters were last zeroed, in Unix seconds.", nil, nil)
)

// counterDesc describes the named counter name.
func counterDesc(name string) *prometheus.Desc {
	return prometheus.NewDesc("dcc_"+name+"_total", "dcc stats counter "+name+".", nil, nil)
}

// Describe sends nothing: the metrics depend on the report (an unchecked
// collector).
func (c statsCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the report's metrics.
func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	named := map[string]bool{}
	for _, name := range cache.StatNames {
		named[name] = true
	}
	for name, v := range c.r.Counters {
		switch {
		case named[name] && !strings.HasPrefix(name, cache.StatMissPrefix):
			ch <- prometheus.MustNewConstMetric(counterDesc(name), prometheus.CounterValue, float64(v))
		case strings.HasPrefix(name, cache.StatHostPrefix):
			ch <- prometheus.MustNewConstMetric(hostCompilesDesc, prometheus.CounterValue, float64(v), strings.TrimPrefix(name, cache.StatHostPrefix))
		case strings.HasPrefix(name, cache.StatMissPrefix):
			ch <- prometheus.MustNewConstMetric(missReasonDesc, prometheus.CounterValue, float64(v), strings.TrimPrefix(name, cache.StatMissPrefix))
		case strings.HasPrefix(name, cache.StatStoragePrefix):
			rest := strings.TrimPrefix(name, cache.StatStoragePrefix)
			if i := strings.LastIndexByte(rest, ' '); i > 0 {
				ch <- prometheus.MustNewConstMetric(storageDesc, prometheus.CounterValue, float64(v), rest[:i], rest[i+1:])
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(cacheSizeDesc, prometheus.GaugeValue, float64(c.r.CacheSize))
	ch <- prometheus.MustNewConstMetric(cacheMaxDesc, prometheus.GaugeValue, float64(c.r.MaxSize))
	ch <- prometheus.MustNewConstMetric(cacheEntriesDesc, prometheus.GaugeValue, float64(c.r.Entries))
	if t, err := time.Parse(time.RFC3339, c.r.StatsSince); err == nil {
		ch <- prometheus.MustNewConstMetric(statsSinceDesc, prometheus.GaugeValue, float64(t.Unix()))
	}
}

// writeStatsPrometheus prints the report in Prometheus's text format, for
// node_exporter's textfile collector or a scrape through a script.
func writeStatsPrometheus(w io.Writer, r daemon.StatsReport) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(statsCollector{r: r}); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("prometheus: %w", err)
		}
	}
	return nil
}
