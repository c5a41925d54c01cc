package scale

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scrapeHost reads the figures the report uses from a /metrics page in
// Prometheus's text format, labels and histograms included.
func TestScrapeHost(t *testing.T) {
	const page = `# TYPE dcc_server_request_duration_seconds histogram
dcc_server_request_duration_seconds_bucket{type="CompileRequest",le="+Inf"} 7
dcc_server_request_duration_seconds_sum{type="CompileRequest"} 2.5
dcc_server_request_duration_seconds_count{type="CompileRequest"} 7
dcc_server_request_duration_seconds_bucket{type="Status",le="+Inf"} 3
dcc_server_request_duration_seconds_sum{type="Status"} 0.01
dcc_server_request_duration_seconds_count{type="Status"} 3
# TYPE dcc_server_compile_duration_seconds histogram
dcc_server_compile_duration_seconds_bucket{le="+Inf"} 6
dcc_server_compile_duration_seconds_sum 1.5
dcc_server_compile_duration_seconds_count 6
# TYPE dcc_server_refusals_total counter
dcc_server_refusals_total{reason="busy"} 4
dcc_server_refusals_total{reason="auth"} 1
# TYPE dcc_server_connections gauge
dcc_server_connections 3
`
	ip := "127.0.30.1"
	l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, httpPort))
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, page) }), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	m, err := scrapeHost(context.Background(), &http.Client{Timeout: 5 * time.Second}, &farmHost{ip: ip})
	require.NoError(t, err)
	assert.Equal(t, hostMetrics{requestSum: 2.5, requestCount: 7, compileSum: 1.5, compileCount: 6, refusedBusy: 4, connections: 3}, m)
}

// TestParseCPULine: steal is counted apart from busy time, and idle and
// iowait in neither.
func TestParseCPULine(t *testing.T) {
	got := parseCPULine("cpu  100 2 30 5000 40 0 8 700 0 0")
	assert.Equal(t, cpuTimes{busy: 140 * clockTick, steal: 700 * clockTick}, got)
	assert.Equal(t, cpuTimes{busy: 10 * clockTick}, got.sub(parseCPULine("cpu  90 2 30 4000 40 0 8 700 0 0")))
	assert.Zero(t, parseCPULine("cpu0 1 2 3"))
}
