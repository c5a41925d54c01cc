package cli

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statsReport is a report over counters as the daemon's Stats gives them:
// every named counter, zero or not, and the per-host ones.
func statsReport(add map[string]int64) daemon.StatsReport {
	s := cache.NewStats()
	for name, n := range add {
		s.Add(name, n)
	}
	return daemon.StatsReport{Counters: s.Snapshot(), CacheSize: 1 << 20, MaxSize: 5 << 30, Entries: 7, StatsSince: "2025-01-02T03:04:05Z"}
}

// "dcc stats --json" gives the misses by reason as one object, every
// reason in it, and the per-host compiles as another; the other counters
// stay top-level numbers.
func TestStatsJSON(t *testing.T) {
	r := statsReport(map[string]int64{
		cache.StatMisses: 5, cache.StatHits: 2,
		cache.StatMissPrefix + cache.MissNewSource: 3, cache.StatMissPrefix + cache.MissChangedHeader: 2,
		cache.StatHostPrefix + "127.0.0.2:9693": 4,
	})
	var out bytes.Buffer
	require.NoError(t, writeStatsJSON(&out, r))
	var got map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())

	assert.Equal(t, 5.0, got["misses"])
	assert.Equal(t, 2.0, got["hits"])
	assert.Equal(t, 7.0, got["entries"])
	assert.Equal(t, map[string]any{"127.0.0.2:9693": 4.0}, got["remote_hosts"])
	want := map[string]any{}
	for _, reason := range cache.MissReasons {
		want[reason] = 0.0
	}
	want[cache.MissNewSource], want[cache.MissChangedHeader] = 3.0, 2.0
	assert.Equal(t, want, got["misses_by_reason"])
	for name := range got {
		assert.NotContains(t, name, " ", "no prefixed counter at the top level")
	}
}

// "dcc stats" shows the misses by reason under the misses, those with none
// left out, in a fixed order; misses counted before reasons were are
// "unrecorded".
func TestStatsTextMissesByReason(t *testing.T) {
	tests := []struct {
		name     string
		counters map[string]int64
		want     string // the line, or "" for none
	}{
		{"no misses", map[string]int64{cache.StatHits: 3}, ""},
		{"by reason", map[string]int64{cache.StatMisses: 18,
			cache.StatMissPrefix + cache.MissNewSource: 12, cache.StatMissPrefix + cache.MissChangedHeader: 3,
			cache.StatMissPrefix + cache.MissNewArguments: 1, cache.StatMissPrefix + cache.MissSourceChanged: 2},
			"    By reason:      new source 12, source changed 2, changed header 3, new arguments 1\n"},
		{"from before the reasons", map[string]int64{cache.StatMisses: 4, cache.StatMissPrefix + cache.MissRecached: 1},
			"    By reason:      recached 1, unrecorded 3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			writeStatsText(&out, statsReport(tt.counters))
			text := out.String()
			assert.Contains(t, text, "  Misses:  ")
			if tt.want == "" {
				assert.NotContains(t, text, "By reason")
				return
			}
			assert.Contains(t, text, tt.want)
			assert.Regexp(t, `\n  Misses: .*\n    By reason:`, text, "right under the misses")
		})
	}
}

// "dcc stats --prometheus" is Prometheus's text format, as its own parser
// reads it: every counter, the per-host, per-reason and per-storage ones
// with their labels, and the cache's gauges.
func TestStatsPrometheus(t *testing.T) {
	r := statsReport(map[string]int64{
		cache.StatHits: 7, cache.StatMisses: 3, cache.StatMissPrefix + cache.MissNewSource: 3,
		cache.StatHostPrefix + "127.0.0.2:9693": 4,
		cache.StatStorageHits:                   2, cache.StatStoragePrefix + "redis://cache:6379 hits": 5,
	})
	var out bytes.Buffer
	require.NoError(t, writeStatsPrometheus(&out, r))
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(out.Bytes()))
	require.NoError(t, err, out.String())

	value := func(name string, labels ...string) float64 {
		f, ok := families[name]
		require.True(t, ok, "%s in\n%s", name, out.String())
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			match := true
			for i := 0; i+1 < len(labels); i += 2 {
				match = match && got[labels[i]] == labels[i+1]
			}
			if match {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
		t.Fatalf("%s%v not in\n%s", name, labels, out.String())
		return 0
	}
	assert.Equal(t, 7.0, value("dcc_hits_total"))
	assert.Equal(t, 3.0, value("dcc_misses_total"))
	assert.Equal(t, 0.0, value("dcc_errors_total"), "counters that counted nothing are there too")
	assert.Equal(t, 3.0, value("dcc_misses_by_reason_total", "reason", cache.MissNewSource))
	assert.Equal(t, 4.0, value("dcc_host_compiles_total", "host", "127.0.0.2:9693"))
	assert.Equal(t, 2.0, value("dcc_remote_storage_hits_total"))
	assert.Equal(t, 5.0, value("dcc_remote_storage_events_total", "storage", "redis://cache:6379", "event", "hits"))
	assert.Equal(t, float64(1<<20), value("dcc_cache_size_bytes"))
	assert.Equal(t, float64(5<<30), value("dcc_cache_max_size_bytes"))
	assert.Equal(t, 7.0, value("dcc_cache_entries"))
	assert.Equal(t, 1735787045.0, value("dcc_stats_since_seconds"))
}
