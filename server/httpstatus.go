package server

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// statusPage is the page served at /: it polls /status.json.
//
//go:embed status.html
var statusPage []byte

// Limits of the status listener.
const (
	// httpHeaderTimeout bounds reading a request's header.
	httpHeaderTimeout = 10 * time.Second
	// httpShutdownTimeout bounds the wait for requests in progress at stop.
	httpShutdownTimeout = 2 * time.Second
)

// listenHTTP opens the status listener on the configured address, when
// there is one, and warns when it is not a loopback address.
func (s *Server) listenHTTP(ctx context.Context) error {
	if s.cfg.HTTP == "" {
		return nil
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", s.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("server: http listen: %w", err)
	}
	s.httpListener = l
	if exposed(l.Addr()) {
		s.log.Warn("the http status page and metrics are readable by anyone who can reach this address (no token, no TLS)",
			"addr", l.Addr().String())
	}
	return nil
}

// exposed reports whether addr is not a loopback address: others may be
// reached from other machines.
func exposed(addr net.Addr) bool {
	a, ok := addr.(*net.TCPAddr)
	return !ok || !a.IP.IsLoopback()
}

// HTTPAddr returns the address of the status page and metrics listener,
// nil when there is none (http unset) or before Listen.
func (s *Server) HTTPAddr() net.Addr {
	if s.httpListener == nil {
		return nil
	}
	return s.httpListener.Addr()
}

// serveHTTP serves the status page, /status.json and /metrics until ctx
// ends; the returned function waits for it to have stopped.
func (s *Server) serveHTTP(ctx context.Context) (wait func()) {
	if s.httpListener == nil {
		return func() {}
	}
	srv := &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: httpHeaderTimeout,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.log.Info(fmt.Sprintf("http status page on http://%s/", s.httpListener.Addr()))
		if err := srv.Serve(s.httpListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("the http status page stopped", "err", err)
		}
	}()
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
	})
	return func() {
		<-done
		stop()
	}
}

// httpHandler routes the status listener's requests.
func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err := json.NewEncoder(w).Encode(s.status(time.Now())); err != nil {
			s.log.Debug("writing /status.json", "err", err)
		}
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(statusPage)
	})
	return mux
}
