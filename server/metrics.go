package server

import (
	"net"
	"sync"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metricsPrefix starts the name of every metric of the server.
const metricsPrefix = "dcc_server_"

// Results of a compile request (label result of compiles_total).
const (
	resultCompiled    = "compiled"
	resultResultCache = "result_cache"
	resultSharedCache = "shared_cache"
	resultFailed      = "failed"
)

// Caches (label cache of cache_hits_total and cache_misses_total).
const (
	cacheResult = "result"
	cacheShared = "shared"
)

// metrics are the server's Prometheus metrics, on a registry of its own,
// and what the status page shows besides (the jobs running, the compile
// rate, the refusals). Every method is safe on a nil *metrics, which counts
// nothing: a Runner made without a server has none.
type metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	compiles        *prometheus.CounterVec
	compileDuration prometheus.Histogram
	refusals        *prometheus.CounterVec
	cacheHits       *prometheus.CounterVec
	cacheMisses     *prometheus.CounterVec
	bytesReceived   prometheus.Counter
	bytesSent       prometheus.Counter
	connections     prometheus.Gauge
	sandboxFailures prometheus.Counter

	running *runningJobs
	rate    *rateWindow

	mu         sync.Mutex
	refusedBy  map[string]int64
	refusedAll int64
}

// newMetrics registers the server's metrics; load and usage are read at
// each scrape (the runner's slots, the result cache's size).
func newMetrics(load func() protocol.Load, usage func() (bytes, items int64)) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), running: newRunningJobs(), rate: &rateWindow{}, refusedBy: map[string]int64{}}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricsPrefix + name, Help: help}, labels)
	}
	m.requests = counter("requests_total", "Requests answered, by protocol request type and outcome (ok or the refusal code).", "type", "outcome")
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricsPrefix + "request_duration_seconds",
		Help: "Time to answer a request, by protocol request type.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"type"})
	m.compiles = counter("compiles_total", "Compile requests by result: compiled, result_cache, shared_cache or failed.", "result")
	m.compileDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: metricsPrefix + "compile_duration_seconds",
		Help: "Time of the compile jobs run, from getting a slot to the end.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)})
	m.refusals = counter("refusals_total", "Requests refused, by refusal code.", "reason")
	m.cacheHits = counter("cache_hits_total", "Cache lookups that found an entry, by cache (result or shared).", "cache")
	m.cacheMisses = counter("cache_misses_total", "Cache lookups that found none, by cache (result or shared).", "cache")
	m.bytesReceived = prometheus.NewCounter(prometheus.CounterOpts{Name: metricsPrefix + "bytes_received_total", Help: "Bytes read from client connections."})
	m.bytesSent = prometheus.NewCounter(prometheus.CounterOpts{Name: metricsPrefix + "bytes_sent_total", Help: "Bytes written to client connections."})
	m.connections = prometheus.NewGauge(prometheus.GaugeOpts{Name: metricsPrefix + "connections", Help: "Client sessions open."})
	m.sandboxFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: metricsPrefix + "sandbox_failures_total",
		Help: "Jobs that failed because of the sandbox (a slot's sandbox did not start, ended or broke off mid-job)."})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metricsPrefix + name, Help: help}, f)
	}
	m.reg.MustRegister(m.requests, m.requestDuration, m.compiles, m.compileDuration, m.refusals, m.cacheHits, m.cacheMisses,
		m.bytesReceived, m.bytesSent, m.connections, m.sandboxFailures,
		gauge("slots", "Compiles that may run at once.", func() float64 { return float64(load().Slots) }),
		gauge("slots_busy", "Compiles running.", func() float64 { return float64(load().Running) }),
		gauge("queue_depth", "Compiles waiting for a slot.", func() float64 { return float64(load().Queued) }),
		gauge("cache_bytes", "Bytes in the result and shared cache.", func() float64 { b, _ := usage(); return float64(b) }),
		gauge("cache_entries", "Entries in the result and shared cache.", func() float64 { _, n := usage(); return float64(n) }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{resultCompiled, resultResultCache, resultSharedCache, resultFailed} {
		m.compiles.WithLabelValues(r)
	}
	for _, c := range []string{cacheResult, cacheShared} {
		m.cacheHits.WithLabelValues(c)
		m.cacheMisses.WithLabelValues(c)
	}
	return m
}

// request counts a request answered: outcome is "ok" or the refusal code.
func (m *metrics) request(typ protocol.MsgType, outcome string, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(typ.String(), outcome).Inc()
	m.requestDuration.WithLabelValues(typ.String()).Observe(elapsed.Seconds())
	if outcome == "ok" {
		return
	}
	m.refusals.WithLabelValues(outcome).Inc()
	m.mu.Lock()
	m.refusedBy[outcome]++
	m.refusedAll++
	m.mu.Unlock()
}

// refused returns the refusals so far, in all and by code.
func (m *metrics) refused() (int64, map[string]int64) {
	if m == nil {
		return 0, map[string]int64{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	by := make(map[string]int64, len(m.refusedBy))
	for k, v := range m.refusedBy {
		by[k] = v
	}
	return m.refusedAll, by
}

// compiled counts a compile request answered from a cache (result_cache,
// shared_cache); jobs run are counted by jobEnded.
func (m *metrics) compiled(result string) {
	if m == nil {
		return
	}
	m.compiles.WithLabelValues(result).Inc()
}

// cacheLookup counts a lookup in cache (result or shared).
func (m *metrics) cacheLookup(cache string, hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.cacheHits.WithLabelValues(cache).Inc()
	} else {
		m.cacheMisses.WithLabelValues(cache).Inc()
	}
}

// jobStarted notes a job that got a slot and returns what ends it: ok is
// whether it compiled (exit status 0), and the time it ran is observed.
func (m *metrics) jobStarted(source, client string) (ended func(ok bool)) {
	if m == nil {
		return func(bool) {}
	}
	start := time.Now()
	id := m.running.add(source, client, start)
	return func(ok bool) {
		m.running.remove(id)
		m.compileDuration.Observe(time.Since(start).Seconds())
		m.rate.add(time.Now())
		result := resultCompiled
		if !ok {
			result = resultFailed
		}
		m.compiles.WithLabelValues(result).Inc()
	}
}

// sandboxFailed counts a job that failed because of the sandbox.
func (m *metrics) sandboxFailed() {
	if m != nil {
		m.sandboxFailures.Inc()
	}
}

// sessionOpened counts a client session until the function it returns.
func (m *metrics) sessionOpened() (closed func()) {
	if m == nil {
		return func() {}
	}
	m.connections.Inc()
	return m.connections.Dec
}

// countConn counts the bytes read and written on a client's connection.
func (m *metrics) countConn(c net.Conn) net.Conn {
	if m == nil {
		return c
	}
	return &countingConn{Conn: c, in: m.bytesReceived, out: m.bytesSent}
}

// countingConn is a connection whose bytes are counted.
type countingConn struct {
	net.Conn
	in, out prometheus.Counter
}

// Read implements net.Conn.
func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.in.Add(float64(n))
	}
	return n, err
}

// Write implements net.Conn.
func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.out.Add(float64(n))
	}
	return n, err
}
