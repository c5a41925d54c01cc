package scale

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
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

// scrapeHost reads one dcc-server's /metrics.
func scrapeHost(ctx context.Context, httpc *http.Client, h *farmHost) (hostMetrics, error) {
	var m hostMetrics
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s:%d/metrics", h.ip, httpPort), nil)
	if err != nil {
		return m, err
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return m, fmt.Errorf("metrics of %s: %w", h.ip, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name, v := line[:i], line[i+1:]
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case `dcc_server_request_duration_seconds_sum{type="CompileRequest"}`:
			m.requestSum = x
		case `dcc_server_request_duration_seconds_count{type="CompileRequest"}`:
			m.requestCount = x
		case "dcc_server_compile_duration_seconds_sum":
			m.compileSum = x
		case "dcc_server_compile_duration_seconds_count":
			m.compileCount = x
		case `dcc_server_refusals_total{reason="busy"}`:
			m.refusedBusy = x
		case "dcc_server_connections":
			m.connections = x
		}
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("metrics of %s: %w", h.ip, err)
	}
	return m, nil
}
