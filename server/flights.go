package server

import (
	"context"
	"sync"

	"github.com/dcc-build/dcc/protocol"
)

// flights makes concurrent identical compiles run once: while a compile is
// running for a result key, others with the same key wait for it and share
// its result when it succeeds (when it fails, or its client gives up, each
// waiter compiles for itself).
type flights struct {
	mu sync.Mutex
	m  map[flightKey]*flight
}

// flightKey names one compile: its project and result key.
type flightKey struct {
	project string
	key     [32]byte
}

// flight is one compile others may wait for.
type flight struct {
	done chan struct{}
	res  *protocol.CompileResult
}

// do returns the result of fn for key, or of the run of fn already in
// flight for key (shared is then true). A waiter gives up when ctx ends.
func (f *flights) do(ctx context.Context, key flightKey, fn func() (*protocol.CompileResult, error)) (res *protocol.CompileResult, shared bool, err error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[flightKey]*flight{}
	}
	if fl, ok := f.m[key]; ok {
		f.mu.Unlock()
		select {
		case <-fl.done:
			if fl.res != nil {
				copied := *fl.res
				return &copied, true, nil
			}
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		res, err = fn()
		return res, false, err
	}
	fl := &flight{done: make(chan struct{})}
	f.m[key] = fl
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.m, key)
		f.mu.Unlock()
		close(fl.done)
	}()
	res, err = fn()
	if err == nil && res.ExitCode == 0 {
		copied := *res
		fl.res = &copied
	}
	return res, false, err
}
