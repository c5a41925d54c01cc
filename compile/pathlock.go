package compile

import (
	"path/filepath"
	"sync"
)

// pathLocks serializes the compiles that write the same output file (make
// -j with duplicated rules): each reads back what it compiled to store it,
// and another compile writing the same file meanwhile (the assembler
// deletes and recreates it) would let it read nothing, or half an object.
// The zero value is ready to use.
type pathLocks struct {
	mu    sync.Mutex
	locks map[string]*pathLock
}

// pathLock is one path's lock and how many compiles hold or wait for it.
type pathLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks path and returns the function that unlocks it.
func (p *pathLocks) lock(path string) (unlock func()) {
	p.mu.Lock()
	if p.locks == nil {
		p.locks = map[string]*pathLock{}
	}
	l := p.locks[path]
	if l == nil {
		l = &pathLock{}
		p.locks[path] = l
	}
	l.refs++
	p.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		p.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(p.locks, path)
		}
		p.mu.Unlock()
	}
}

// chainEnv is the marker the wrapper leaves for the compilers it starts
// (wrapper.ChainEnv): the real programs started so far in this process chain,
// in PATH-list syntax, its own included.
const chainEnv = "DCC_CHAIN"

// nested reports whether a request comes from a dcc started below another
// dcc's compile (its chain names more than the compiler it runs).
func nested(env []string) bool {
	v, _ := lookupEnv(env, chainEnv)
	n := 0
	for _, p := range filepath.SplitList(v) {
		if p != "" {
			n++
		}
	}
	return n > 1
}
