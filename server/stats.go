package server

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// ReportOnSignal logs the server's runtime figures each time the process
// receives SIGUSR1, until ctx ends: goroutines, open file descriptors, heap
// in use, and the memory held by requests and by streams' windows. The
// line is logged at warning level, so it shows at any verbosity; the soak
// test reads it to find leaks.
func (s *Server) ReportOnSignal(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fds := -1
			if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
				fds = len(ents) - 1 // the directory being read
			}
			s.log.Log(ctx, slog.LevelWarn, "stats", "goroutines", runtime.NumGoroutine(), "fds", fds,
				"heap_inuse", ms.HeapInuse, "requests_bytes", s.budget.InUse(), "windows_bytes", s.budget.WindowsInUse())
		}
	}
}
