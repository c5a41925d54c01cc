package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dcc-build/dcc/filelock"
	"github.com/dgraph-io/badger/v4"
)

// A Store whose database saw no operation for IdleClose closes it until the
// next one. Badger's two compactors wake every 50 ms even when nothing was
// written: an idle dcc-server spent 6 ms of CPU a second on them, 200 of
// them on one machine (the farm simulator) 40% of two CPUs. Closing flushes
// the memtable; reopening takes 10-30 ms, paid by the first request after
// the pause. The size and item counts stay in memory meanwhile, since no
// one else writes the directory: the lock file below, held from OpenStore
// to Close, keeps other processes out while Badger's own lock is released.

// storeLockName is the lock file in a store's directory.
const storeLockName = "dcc-server.lock"

// ErrStoreInUse is a store directory another process holds.
var ErrStoreInUse = errors.New("another process has the cache database open")

// lockStoreDir creates dir if needed and takes its lock file, without
// waiting; the returned file holds the lock until it is closed.
func lockStoreDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, storeLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache lock: %w", err)
	}
	held, err := filelock.TryExclusive(f)
	if err != nil || !held {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("cache lock %s: %w", dir, err)
		}
		return nil, fmt.Errorf("open cache %s: %w", dir, ErrStoreInUse)
	}
	return f, nil
}

// begin starts an operation, opening the database again if it was closed
// while idle; it fails with ErrClosed after Close. The caller calls the
// returned function when done.
func (s *Store) begin() (func(), error) {
	for {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return nil, ErrClosed
		}
		if s.db != nil {
			s.lastUse.Store(time.Now().UnixNano())
			return s.mu.RUnlock, nil
		}
		s.mu.RUnlock()
		if err := s.reopen(); err != nil {
			return nil, err
		}
	}
}

// beginAwake starts an operation only if the database is open: the
// background work does not wake a store that sleeps.
func (s *Store) beginAwake() (func(), bool) {
	s.mu.RLock()
	if s.closed || s.db == nil {
		s.mu.RUnlock()
		return nil, false
	}
	return s.mu.RUnlock, true
}

// reopen opens the database closed while idle.
func (s *Store) reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.db != nil {
		return nil
	}
	db, err := badger.Open(s.bopts)
	if err != nil {
		return fmt.Errorf("reopen cache %s: %s", s.bopts.Dir, firstLine(err.Error()))
	}
	s.db = db
	s.reopened.Add(1)
	s.log.Debug("cache opened again")
	return nil
}

// sleepIfIdle closes the database when no operation began for IdleClose
// and none is under way. An operation that holds the store makes it try
// again at the next check rather than wait.
func (s *Store) sleepIfIdle() {
	idle := time.Since(time.Unix(0, s.lastUse.Load()))
	if idle < s.opts.IdleClose || !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	if s.closed || s.db == nil {
		return
	}
	if err := s.db.Close(); err != nil {
		s.log.Warn("closing the idle cache", "err", firstLine(err.Error()))
	}
	s.db, s.compacting = nil, false
	s.log.Debug("cache closed while idle", "idle", idle.Round(time.Second))
}

// sleeping reports whether the database is closed while idle.
func (s *Store) sleeping() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return !s.closed && s.db == nil
}
