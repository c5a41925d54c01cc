package compile

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dcc-build/dcc/cache"
)

// reopenInterval is how often a daemon whose cache could not be opened tries
// again (a full disk freed, permissions fixed).
const reopenInterval = 10 * time.Second

// errCacheUnavailable: the cache database could not be opened; compiles run
// uncached and are counted as errors.
var errCacheUnavailable = errors.New("the cache is unavailable")

// reopeningStore is the store of a daemon whose cache database could not be
// opened (a read-only or full disk, a broken directory): the daemon keeps
// answering, every compile runs uncached and counts as an error, and the
// database is opened again at most every reopenInterval, on demand, until it
// opens. It is safe for concurrent use.
type reopeningStore struct {
	open func() (cache.Store, error)
	// remove deletes the database that does not open, for Clear.
	remove func() error
	now    func() time.Time

	mu    sync.Mutex
	store cache.Store // nil until open succeeds
	err   error       // why the last attempt failed
	next  time.Time   // the next attempt, not before
}

var _ cache.Store = (*reopeningStore)(nil)

// newReopeningStore returns a store that failed to open with err and is
// opened again with open.
func newReopeningStore(open func() (cache.Store, error), remove func() error, err error) *reopeningStore {
	r := &reopeningStore{open: open, remove: remove, now: time.Now, err: err}
	r.next = r.now().Add(reopenInterval)
	return r
}

// get returns the open store, trying to open it when an attempt is due.
func (r *reopeningStore) get() (cache.Store, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store != nil {
		return r.store, nil
	}
	if now := r.now(); !now.Before(r.next) {
		r.next = now.Add(reopenInterval)
		s, err := r.open()
		if err == nil {
			r.store, r.err = s, nil
			return s, nil
		}
		r.err = err
	}
	return nil, fmt.Errorf("%w (dcc clear starts an empty one): %w", errCacheUnavailable, r.err)
}

// Available reports why the store cannot be used now, or nil.
func (r *reopeningStore) Available() error {
	_, err := r.get()
	return err
}

// GetEntry implements cache.Store.
func (r *reopeningStore) GetEntry(k cache.Key) (cache.Entry, error) {
	s, err := r.get()
	if err != nil {
		return cache.Entry{}, err
	}
	return s.GetEntry(k)
}

// PutEntry implements cache.Store.
func (r *reopeningStore) PutEntry(k cache.Key, e cache.Entry) error {
	s, err := r.get()
	if err != nil {
		return err
	}
	return s.PutEntry(k, e)
}

// GetManifest implements cache.Store.
func (r *reopeningStore) GetManifest(k cache.Key) (cache.Manifest, error) {
	s, err := r.get()
	if err != nil {
		return cache.Manifest{}, err
	}
	return s.GetManifest(k)
}

// AddManifestResult implements cache.Store.
func (r *reopeningStore) AddManifestResult(k cache.Key, m cache.ManifestResult) error {
	s, err := r.get()
	if err != nil {
		return err
	}
	return s.AddManifestResult(k, m)
}

// Usage implements cache.Store: nothing is stored while the cache is
// unavailable.
func (r *reopeningStore) Usage() (int64, int64) {
	if s := r.opened(); s != nil {
		return s.Usage()
	}
	return 0, 0
}

// Clear implements cache.Store. A database that still does not open (a
// damaged one) is removed and an empty one opened in its place.
func (r *reopeningStore) Clear() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store != nil {
		return r.store.Clear()
	}
	if err := r.remove(); err != nil {
		return fmt.Errorf("%w: %w", errCacheUnavailable, err)
	}
	s, err := r.open()
	if err != nil {
		r.err, r.next = err, r.now().Add(reopenInterval)
		return fmt.Errorf("%w: removed, but a new one does not open either: %w", errCacheUnavailable, err)
	}
	r.store, r.err = s, nil
	return nil
}

// Close implements cache.Store.
func (r *reopeningStore) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store == nil {
		return nil
	}
	return r.store.Close()
}

// Corrupt forwards the open store's count (see storeCounters).
func (r *reopeningStore) Corrupt() int64 {
	if sc, ok := r.opened().(storeCounters); ok {
		return sc.Corrupt()
	}
	return 0
}

// Evicted forwards the open store's count (see storeCounters).
func (r *reopeningStore) Evicted() int64 {
	if sc, ok := r.opened().(storeCounters); ok {
		return sc.Evicted()
	}
	return 0
}

// opened returns the store if it is open, without trying to open it.
func (r *reopeningStore) opened() cache.Store {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.store
}

// availability is implemented by stores that can be unusable for a while.
type availability interface {
	// Available reports why the store cannot be used now, or nil.
	Available() error
}
