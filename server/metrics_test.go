package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// httpGet fetches path from ts's status listener and returns the body and
// the content type.
func httpGet(t *testing.T, ts *testServer, path string) (body []byte, contentType string) {
	t.Helper()
	addr := ts.srv.HTTPAddr()
	require.NotNil(t, addr, "no http listener")
	client := &http.Client{Timeout: 10 * time.Second}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr.String()+path, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", path)
	body, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	return body, resp.Header.Get("Content-Type")
}

// scrape reads /metrics with Prometheus's parser and returns each sample
// as "name{label="value",...}" (labels sorted as exposed) => value;
// histograms give name_count and name_sum.
func scrape(t *testing.T, ts *testServer) map[string]float64 {
	t.Helper()
	body, _ := httpGet(t, ts, "/metrics")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	out := map[string]float64{}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[strings.Replace(key, name, name+"_count", 1)] = float64(m.GetHistogram().GetSampleCount())
				out[strings.Replace(key, name, name+"_sum", 1)] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func TestHTTPMetricsCountCompilesAndRefusals(t *testing.T) {
	realCompiler(t, "gcc")
	ts := startServer(t, func(c *Config) { c.HTTP = "127.0.0.1:0"; c.Jobs = 3 }, nil)
	s := ts.dial(t)
	key := gccKey(t, s.Welcome())
	dir, text := clientUnit(t, "gcc")
	req := &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-O2"}, Preprocessed: text,
		SourceName: "x.c", ClientDir: dir, Project: "demo", CacheKey: strings.Repeat("cd", 32), TimeoutMS: 60000}
	m, err := call(t, s, req, protocol.MsgCompileResult)
	require.NoError(t, err)
	require.Equal(t, 0, m.(*protocol.CompileResult).ExitCode)
	_, err = call(t, s, &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-fplugin=/tmp/evil.so"},
		Preprocessed: text}, protocol.MsgCompileResult)
	var perr *protocol.RemoteError
	require.ErrorAs(t, err, &perr)
	require.Equal(t, protocol.CodeForbiddenArg, perr.Code)

	got := scrape(t, ts)
	for name, want := range map[string]float64{
		`dcc_server_requests_total{outcome="ok",type="CompileRequest"}`:            1,
		`dcc_server_requests_total{outcome="forbidden-arg",type="CompileRequest"}`: 1,
		`dcc_server_request_duration_seconds_count{type="CompileRequest"}`:         2,
		`dcc_server_refusals_total{reason="forbidden-arg"}`:                        1,
		`dcc_server_compiles_total{result="compiled"}`:                             1,
		`dcc_server_compiles_total{result="failed"}`:                               0,
		`dcc_server_compiles_total{result="result_cache"}`:                         0,
		`dcc_server_compiles_total{result="shared_cache"}`:                         0,
		`dcc_server_compile_duration_seconds_count`:                                1,
		`dcc_server_cache_misses_total{cache="shared"}`:                            1,
		`dcc_server_cache_misses_total{cache="result"}`:                            1,
		`dcc_server_cache_hits_total{cache="result"}`:                              0,
		`dcc_server_slots`:                  3,
		`dcc_server_slots_busy`:             0,
		`dcc_server_queue_depth`:            0,
		`dcc_server_connections`:            1,
		`dcc_server_sandbox_failures_total`: 0,
	} {
		v, ok := got[name]
		if assert.True(t, ok, "no sample %s", name) {
			assert.Equal(t, want, v, name)
		}
	}
	assert.Greater(t, got["dcc_server_bytes_received_total"], 1000.0, "the unit sent (compressed)")
	assert.Greater(t, got["dcc_server_bytes_sent_total"], 0.0)
	assert.Greater(t, got["dcc_server_cache_entries"], 0.0, "the compile was shared")
	assert.Greater(t, got["dcc_server_cache_bytes"], 0.0)
	assert.Contains(t, got, "go_goroutines", "the Go collector")
	assert.Contains(t, got, "process_open_fds", "the process collector")

	// The same unit again: answered from the shared cache, no job run.
	m, err = call(t, s, req, protocol.MsgCompileResult)
	require.NoError(t, err)
	require.True(t, m.(*protocol.CompileResult).FromShared)
	got = scrape(t, ts)
	assert.Equal(t, 1.0, got[`dcc_server_compiles_total{result="shared_cache"}`])
	assert.Equal(t, 1.0, got[`dcc_server_cache_hits_total{cache="shared"}`])
	assert.Equal(t, 1.0, got[`dcc_server_compile_duration_seconds_count`])
	assert.Equal(t, 2.0, got[`dcc_server_requests_total{outcome="ok",type="CompileRequest"}`])
}

func TestHTTPStatusShowsRunningJob(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	comp := gatedCompiler(t, gate)
	ts := startServer(t, func(c *Config) { c.HTTP = "127.0.0.1:0"; c.Sandbox.Off = true },
		func(o *Options) { o.Toolchains = NewToolchains([]Compiler{comp}) })
	status := func() hostStatus {
		body, ctype := httpGet(t, ts, "/status.json")
		assert.Equal(t, "application/json", ctype)
		var st hostStatus
		require.NoError(t, json.Unmarshal(body, &st), "%s", body)
		return st
	}
	st := status()
	assert.Equal(t, "test-host", st.Name)
	assert.Equal(t, ts.srv.Transport(), st.Transport)
	assert.Equal(t, []statusToolchain{{Driver: "gcc", Version: "0", Target: "test"}}, st.Toolchains)
	assert.Equal(t, 2, st.Slots)
	assert.Empty(t, st.Jobs)

	s := ts.dial(t)
	answer := make(chan error, 1)
	go func() {
		_, err := call(t, s, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x"),
			SourceName: "slow.c"}, protocol.MsgCompileResult)
		answer <- err
	}()
	require.Eventually(t, func() bool { return len(status().Jobs) == 1 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	st = status()
	require.Len(t, st.Jobs, 1)
	assert.Equal(t, "slow.c", st.Jobs[0].Source)
	assert.Equal(t, "tester@test", st.Jobs[0].Client)
	assert.Greater(t, st.Jobs[0].ElapsedSeconds, 0.04)
	assert.Equal(t, 1, st.Busy)
	assert.Equal(t, 0, st.CompilesPerMinute)

	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	require.NoError(t, <-answer)
	_, err := call(t, s, &protocol.CompileRequest{Toolchain: "id2-none", Language: "c", Preprocessed: []byte("x")}, protocol.MsgCompileResult)
	require.Error(t, err)
	st = status()
	assert.Empty(t, st.Jobs, "the job ended")
	assert.Equal(t, 0, st.Busy)
	assert.Equal(t, 1, st.CompilesPerMinute)
	assert.Equal(t, int64(1), st.Refusals)
	assert.Equal(t, map[string]int64{protocol.CodeUnknownToolchain: 1}, st.RefusalsByReason)
}

func TestHTTPPageAndListener(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.HTTP = "127.0.0.1:0"; c.Sandbox.Off = true },
		func(o *Options) { o.Toolchains = NewToolchains([]Compiler{fakeCompiler(t, ": > out.o\n")}) })
	body, ctype := httpGet(t, ts, "/")
	assert.Equal(t, "text/html; charset=utf-8", ctype)
	assert.Contains(t, string(body), `fetch("status.json"`)
	assert.Contains(t, string(body), "setInterval(poll, 1000)")
	assert.NotContains(t, string(body), "src=", "no external assets")

	addr := ts.srv.HTTPAddr().String()
	require.Eventually(t, func() bool {
		ts.logMu.Lock()
		defer ts.logMu.Unlock()
		return strings.Contains(ts.log.String(), "http status page on http://"+addr+"/")
	}, 5*time.Second, 10*time.Millisecond)
	ts.logMu.Lock()
	assert.NotContains(t, ts.log.String(), "readable by anyone", "a loopback address is not warned about")
	ts.logMu.Unlock()
}

func TestHTTPStopsWithTheServer(t *testing.T) {
	cfg := DefaultConfig(t.TempDir())
	cfg.Listen, cfg.HTTP = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Tokens = []string{"http-stop-token-0123456789"}
	cfg.Sandbox.Off = true
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv, err := New(ctx, Options{Config: cfg, Toolchains: NewToolchains([]Compiler{fakeCompiler(t, ": > out.o\n")}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer srv.Close()
	_, err = srv.Listen(ctx)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	url := "http://" + srv.HTTPAddr().String() + "/status.json"
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	cancel()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop")
	}
	_, err = client.Get(url)
	assert.Error(t, err, "the status listener outlived the server")
}

func TestHTTPExposedAddress(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:9694": false, "[::1]:9694": false, "0.0.0.0:9694": true,
		"[::]:9694": true, "192.168.1.5:9694": true} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		require.NoError(t, err)
		assert.Equal(t, want, exposed(a), addr)
	}
}
