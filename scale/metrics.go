package scale

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// hostMetrics are the counters of dcc-server's /metrics the report uses,
// summed over hosts.
type hostMetrics struct {
	// requestSum, requestCount: time to answer compile requests, seconds.
	requestSum, requestCount float64
	// compileSum, compileCount: compile jobs run, from getting a slot.
	compileSum, compileCount float64
	// refusedBusy counts requests refused as busy.
	refusedBusy float64
	// connections is the sessions open (a gauge, summed; maxConnections
	// the most of one host).
	connections, maxConnections float64
}

// sub returns m minus before, gauges kept.
func (m hostMetrics) sub(before hostMetrics) hostMetrics {
	m.requestSum -= before.requestSum
	m.requestCount -= before.requestCount
	m.compileSum -= before.compileSum
	m.compileCount -= before.compileCount
	m.refusedBusy -= before.refusedBusy
	return m
}

// scrapeFarm sums the metrics of every dcc-server of f.
func scrapeFarm(ctx context.Context, f *farm) (hostMetrics, error) {
	var total hostMetrics
	if f.kind != "dcc" {
		return total, nil
	}
	httpc := &http.Client{Timeout: 5 * time.Second}
	all := make([]hostMetrics, len(f.hosts))
	errs := make([]error, len(f.hosts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, h := range f.hosts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			all[i], errs[i] = scrapeHost(ctx, httpc, h)
		})
	}
	wg.Wait()
	for i, m := range all {
		if errs[i] != nil {
			return total, errs[i]
		}
		total.requestSum += m.requestSum
		total.requestCount += m.requestCount
		total.compileSum += m.compileSum
		total.compileCount += m.compileCount
		total.refusedBusy += m.refusedBusy
		total.connections += m.connections
		total.maxConnections = max(total.maxConnections, m.connections)
	}
	return total, nil
}

// scrapeHost reads one dcc-server's /metrics with Prometheus's own text
// parser.
func scrapeHost(ctx context.Context, httpc *http.Client, h *farmHost) (hostMetrics, error) {
	var m hostMetrics
	resp, err := getFromHost(ctx, httpc, h, "/metrics")
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return m, fmt.Errorf("metrics of %s: %w", h.ip, err)
	}
	for _, mt := range families["dcc_server_request_duration_seconds"].GetMetric() {
		if label(mt, "type") == "CompileRequest" {
			m.requestSum, m.requestCount = mt.GetHistogram().GetSampleSum(), float64(mt.GetHistogram().GetSampleCount())
		}
	}
	for _, mt := range families["dcc_server_compile_duration_seconds"].GetMetric() {
		m.compileSum, m.compileCount = mt.GetHistogram().GetSampleSum(), float64(mt.GetHistogram().GetSampleCount())
	}
	for _, mt := range families["dcc_server_refusals_total"].GetMetric() {
		if label(mt, "reason") == "busy" {
			m.refusedBusy = mt.GetCounter().GetValue()
		}
	}
	for _, mt := range families["dcc_server_connections"].GetMetric() {
		m.connections = mt.GetGauge().GetValue()
	}
	return m, nil
}

// label returns the value of mt's label name, "" when it has none.
func label(mt *dto.Metric, name string) string {
	for _, l := range mt.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
