package compile

import (
	"context"
	"fmt"
	"runtime"
)

// localSlots bounds the compiles a daemon with compile hosts runs on this
// machine at once. A build run at the hosts' width (make -j64) would
// otherwise compile everything here at once when the hosts go away (every
// unit falls back), freezing the machine: the units beyond the bound wait
// for a slot instead. A nil *localSlots bounds nothing (no hosts: the build's
// -j is the user's own choice for this machine).
type localSlots struct {
	slots chan struct{}
}

// newLocalSlots returns a bound of n compiles at once (n <= 0: the number of
// CPUs).
func newLocalSlots(n int) *localSlots {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	return &localSlots{slots: make(chan struct{}, n)}
}

// acquire waits for a slot until ctx ends; release gives it back.
func (l *localSlots) acquire(ctx context.Context) (release func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for one of the %d local compile slots: %w", cap(l.slots), ctx.Err())
	}
	return func() { <-l.slots }, nil
}

// localSlot takes one of the local compile slots for this job. A compile
// started below another dcc's compile (a compiler script that runs dcc
// again) takes none: its parent holds one, and waiting for a second could
// wait forever.
func (j *job) localSlot(ctx context.Context) (release func(), err error) {
	if nested(j.req.Env) {
		return func() {}, nil
	}
	return j.s.local.acquire(ctx)
}
