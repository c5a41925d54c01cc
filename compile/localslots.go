package compile

import (
	"context"
	"fmt"
	"runtime"

	"github.com/dcc-build/dcc/protocol"
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
	if j.heldSlot != nil { // taken while waiting for a host (farmCompile)
		release, j.heldSlot = j.heldSlot, nil
		return release, nil
	}
	return j.s.local.acquire(ctx)
}

// farmCompile sends req to the farm. When every host is busy the job waits
// for a host slot or a local one, whichever frees first: a local slot
// taken is kept for the compile here (localSlot) and the error is
// remote.ErrNoHost. A nested compile takes no local slot (see localSlot),
// so it does not wait: with no host free it compiles here at once.
func (j *job) farmCompile(ctx context.Context, req *protocol.CompileRequest) (*protocol.CompileResult, string, error) {
	farm := j.s.opts.Remote.Farm
	if nested(j.req.Env) || j.s.local == nil || j.heldSlot != nil {
		return farm.Compile(ctx, j.id.Key(), req)
	}
	res, host, tookLocal, err := farm.CompileOr(ctx, j.id.Key(), req, j.s.local.slots)
	if tookLocal {
		slots := j.s.local.slots
		j.heldSlot = func() { <-slots }
	}
	return res, host, err
}

// dropHeldSlot gives back a local slot the job took and did not use.
func (j *job) dropHeldSlot() {
	if j.heldSlot != nil {
		j.heldSlot()
		j.heldSlot = nil
	}
}
