package ship

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dcc-build/dcc/toolchain"
)

// Source knows the compilers this client ran remotely, by toolchain key,
// and collects each one's bundle once, again only when one of its files
// changed. It is safe for concurrent use; the zero value is ready.
type Source struct {
	mu      sync.Mutex
	known   map[string]compiler
	bundles map[string]*entry
}

// compiler is a compiler this client runs.
type compiler struct {
	exe string
	id  toolchain.Identity
}

// entry is one key's bundle, collected or being collected.
type entry struct {
	done    chan struct{}
	b       *Bundle
	err     error
	checked time.Time
}

// recheck is how often a bundle's files are checked for changes.
const recheck = time.Second

// Remember records that the compiler exe, of identity id, may be shipped.
func (s *Source) Remember(exe string, id toolchain.Identity) {
	if id.Family != toolchain.FamilyGCC && id.Family != toolchain.FamilyClang {
		return
	}
	key := id.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil {
		s.known = map[string]compiler{}
		s.bundles = map[string]*entry{}
	}
	if c, ok := s.known[key]; !ok || c.exe != exe {
		s.known[key] = compiler{exe: exe, id: id}
	}
}

// Bundle returns the bundle of the compiler whose key is key, collecting
// it the first time and when one of its files changed.
func (s *Source) Bundle(ctx context.Context, key string) (*Bundle, error) {
	e, err := s.start(key)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.done:
		return e.b, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Ready returns the bundle of key when it is collected and current, and
// otherwise starts collecting it and returns nil: a caller that cannot
// wait (a compile) does without it this time.
func (s *Source) Ready(key string) (*Bundle, error) {
	e, err := s.start(key)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.done:
		return e.b, e.err
	default:
		return nil, nil
	}
}

// failedAgain is how long a bundle that failed to collect is not tried again.
const failedAgain = time.Minute

// start returns key's entry, collecting it in the background when it is
// missing, failed a while ago, or its files changed.
func (s *Source) start(key string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.known[key]
	if !ok {
		return nil, fmt.Errorf("ship: no compiler of toolchain %s ran here", key)
	}
	e := s.bundles[key]
	if e != nil {
		select {
		case <-e.done:
			switch {
			case e.err != nil && time.Since(e.checked) > failedAgain:
				e = nil
			case e.err == nil && time.Since(e.checked) > recheck:
				if e.b.Current() {
					e.checked = time.Now()
				} else {
					e = nil // a file changed: collect again
				}
			}
		default:
		}
	}
	if e == nil {
		e = &entry{done: make(chan struct{})}
		s.bundles[key] = e
		go func() {
			// Not bound by one job's context: the bundle serves them all.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b, err := Collect(ctx, c.exe, c.id)
			s.mu.Lock()
			e.b, e.err, e.checked = b, err, time.Now()
			s.mu.Unlock()
			close(e.done)
		}()
	}
	return e, nil
}
