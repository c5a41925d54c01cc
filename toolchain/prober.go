package toolchain

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Prober memoizes Probe: a compiler is run and hashed once, and a repeated probe
// only stats the files the answer came from (the driver as named, and each
// Component), probing again when any changed. Failures are not remembered.
// Concurrent probes of one path share one run. A Prober is safe for concurrent
// use; the zero value is ready to use.
type Prober struct {
	mu      sync.Mutex
	entries map[string]*probeEntry
	// run probes one compiler; nil means probe (tests count calls through it).
	run func(ctx context.Context, path string) (Identity, []fileStamp, error)
}

// probeEntry is one memoized or running probe.
type probeEntry struct {
	done   chan struct{} // closed when id, stamps and err are set
	id     Identity
	stamps []fileStamp
	err    error
}

// Probe returns the Identity of the compiler at path, as the package-level
// Probe does, from memory when nothing it depends on has changed.
func (p *Prober) Probe(ctx context.Context, path string) (Identity, error) {
	key, err := lookExe(path)
	if err != nil {
		return Identity{}, fmt.Errorf("probe %s: %w", path, err)
	}
	run := p.run
	if run == nil {
		run = probe
	}
	return p.memo(ctx, path, key, func(ctx context.Context) (Identity, []fileStamp, error) { return run(ctx, key) })
}

// ProbeTarget returns the Identity of clang at path compiling for target, the
// value of the command's --target: clang's own Identity with Target the
// triple its driver gives cc1 for target and Plan a digest of what the driver
// decided from the machine (the GCC installation it selected, and the cc1
// command line for preprocessed C, without file and directory names), so
// that the Key differs from the compiler's own target's and from that of
// the same clang on a machine where the driver decides otherwise. It fails
// for another family, for a target clang refuses, and for one where clang
// runs another program (an external assembler). Memoized as Probe is.
//
// driverArgs are the command's options that change what the driver finds
// (ClangDriverArgs: --sysroot, --gcc-toolchain), which are not sent to
// hosts: a host's entry is probed without them, so a command whose driver
// decides otherwise with them has another Key. target "" is clang's own.
func (p *Prober) ProbeTarget(ctx context.Context, path, target string, driverArgs ...string) (Identity, error) {
	exe, err := lookExe(path)
	if err != nil {
		return Identity{}, fmt.Errorf("probe %s: %w", path, err)
	}
	key := exe + "\x00--target=" + target + "\x00" + strings.Join(driverArgs, "\x00")
	return p.memo(ctx, path, key, func(ctx context.Context) (Identity, []fileStamp, error) {
		// clang's own identity from memory (the compile probed it first),
		// its files stamped again for this entry.
		base, err := p.Probe(ctx, exe)
		if err != nil {
			return Identity{}, nil, err
		}
		var stamps []fileStamp
		for _, f := range append([]string{exe}, componentPaths(base)...) {
			st, err := stampOf(f)
			if err != nil {
				return Identity{}, nil, fmt.Errorf("probe %s: %w", path, err)
			}
			stamps = append(stamps, st)
		}
		id, more, err := probeTarget(ctx, exe, target, driverArgs, base)
		return id, append(stamps, more...), err
	})
}

// componentPaths are the paths of id's Components.
func componentPaths(id Identity) []string {
	paths := make([]string, len(id.Components))
	for i, c := range id.Components {
		paths[i] = c.Path
	}
	return paths
}

// memo returns the memoized answer under key, running run when there is
// none or when a file it depends on changed.
func (p *Prober) memo(ctx context.Context, path, key string, run func(context.Context) (Identity, []fileStamp, error)) (Identity, error) {
	for {
		p.mu.Lock()
		if p.entries == nil {
			p.entries = make(map[string]*probeEntry)
		}
		e, found := p.entries[key]
		if !found {
			e = &probeEntry{done: make(chan struct{})}
			p.entries[key] = e
		}
		p.mu.Unlock()
		if !found {
			return p.fill(ctx, key, e, run)
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return Identity{}, fmt.Errorf("probe %s: %w", path, ctx.Err())
		}
		if e.err != nil {
			return Identity{}, e.err
		}
		if e.valid() {
			return e.id, nil
		}
		p.mu.Lock()
		if p.entries[key] == e {
			delete(p.entries, key)
		}
		p.mu.Unlock()
	}
}

// fill runs the probe for e, publishes the result and forgets failures.
func (p *Prober) fill(ctx context.Context, key string, e *probeEntry, run func(context.Context) (Identity, []fileStamp, error)) (Identity, error) {
	e.id, e.stamps, e.err = run(ctx)
	if e.err != nil {
		p.mu.Lock()
		if p.entries[key] == e {
			delete(p.entries, key)
		}
		p.mu.Unlock()
	}
	close(e.done)
	return e.id, e.err
}

// valid reports whether every file the entry depends on is unchanged.
func (e *probeEntry) valid() bool {
	for _, s := range e.stamps {
		if !s.current() {
			return false
		}
	}
	return true
}
