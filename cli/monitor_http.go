package cli

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// monitorPage is the page dcc monitor --http serves at /: it polls
// /farm.json.
//
//go:embed monitor.html
var monitorPage []byte

// Limits of the monitor's web server.
const (
	monitorHeaderTimeout   = 10 * time.Second
	monitorShutdownTimeout = 2 * time.Second
)

// historyLength is how many frames' rates the page's charts show.
const historyLength = 60

// latestFrame is the last frame polled, as /farm.json serves it, with the
// rates of the frames before it for the page's charts.
type latestFrame struct {
	mu      sync.Mutex
	json    []byte
	history farmHistory
}

// farmHistory is the rates of the last historyLength frames, oldest first
// (an unknown rate as 0).
type farmHistory struct {
	Hits   []float64            `json:"hits_per_second"`
	Misses []float64            `json:"misses_per_second"`
	Remote []float64            `json:"remote_per_second"`
	Hosts  map[string][]float64 `json:"hosts"`
}

// servedFrame is /farm.json: the frame and the history.
type servedFrame struct {
	farmFrame
	History farmHistory `json:"history"`
}

// push appends v (0 when unknown) to a history, keeping historyLength.
func push(h []float64, v *float64) []float64 {
	x := 0.0
	if v != nil {
		x = *v
	}
	h = append(h, x)
	if len(h) > historyLength {
		h = h[len(h)-historyLength:]
	}
	return h
}

// set stores f and adds its rates to the history.
func (l *latestFrame) set(f farmFrame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := &l.history
	h.Hits = push(h.Hits, f.Local.HitsPerSecond)
	h.Misses = push(h.Misses, f.Local.MissesPerSecond)
	h.Remote = push(h.Remote, f.Local.RemotePerSecond)
	hosts := map[string][]float64{}
	for _, hf := range f.Hosts {
		hosts[hf.Host] = push(h.Hosts[hf.Host], hf.CompilesPerSecond)
	}
	h.Hosts = hosts
	b, err := json.Marshal(servedFrame{farmFrame: f, History: *h})
	if err != nil {
		return // a frame always marshals
	}
	l.json = b
}

// get returns the last frame's JSON.
func (l *latestFrame) get() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.json
}

// monitorHandler serves the page at / and the latest frame at /farm.json.
func monitorHandler(latest *latestFrame) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /farm.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(latest.get())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(monitorPage)
	})
	return mux
}

// serveHTTP serves the farm's page on addr until ctx ends, polling the
// daemon every interval. It prints the page's address on stdout once it
// listens, and warns on stderr when others may reach it.
func (m *monitor) serveHTTP(ctx context.Context, addr string, stdout, stderr io.Writer) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("serve the monitor page: %w", err)
	}
	if a, ok := l.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		fmt.Fprintf(stderr, "dcc monitor: note: the page shows the farm and source names to anyone who can reach %s (no token, no TLS)\n", l.Addr())
	}
	latest := &latestFrame{}
	latest.set(m.next(ctx))
	srv := &http.Server{Handler: monitorHandler(latest), ReadHeaderTimeout: monitorHeaderTimeout,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Fprintf(stdout, "dcc monitor: the farm's page is on http://%s/ (data: /farm.json); Ctrl-C stops\n", l.Addr())
	if f, ok := stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
	for sleep(ctx, m.interval) == nil {
		latest.set(m.next(ctx))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), monitorShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve the monitor page on %s: %w", l.Addr(), err)
	}
	return nil
}
