// Package compile is the compile pipeline the daemon runs for each wrapper
// request: classify, look up in direct mode, preprocess and look up in
// preprocessor mode, compile on a miss, store, and restore outputs on a hit.
// It never fails a build: whatever goes wrong, the answer is "run the
// compiler yourself" and the error is counted.
package compile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/toolchain"
)

// Options configure a Service.
type Options struct {
	// Store is the cache database.
	Store cache.Store
	// Stats are the counters; StatsPath is where they are saved.
	Stats     *cache.Stats
	StatsPath string
	// Memo memoizes file content hashes across compiles.
	Memo *filehash.Memo
	// Prober memoizes compiler identities.
	Prober *toolchain.Prober
	// DirectMode enables direct-mode lookups (manifests of included files).
	DirectMode bool
	// DependMode: a direct-mode miss compiles once with dependency output
	// and records the headers it lists, without a preprocessing run (see
	// depend.go).
	DependMode bool
	// BypassDriver: a cold gcc compile runs cc1 and the assembler itself
	// (see compileWithoutDriver).
	BypassDriver bool
	// Disable makes every compile run unchanged.
	Disable bool
	// MaxSize is the cache's size limit, for the stats report.
	MaxSize int64
	// CacheDir is the cache database's directory, whose file system must
	// keep room for writes (see checkRoom); "" skips the check.
	CacheDir string
	// TempDir holds preprocessed text while a compile runs.
	TempDir string
	// Logger receives one line per compile at debug level and errors at warn.
	Logger *slog.Logger
	// Remote configures compiling on hosts and the shared cache (off when
	// Remote.Farm is nil).
	Remote RemoteOptions
	// Team is the team cache on remote storage (nil: none), looked up
	// after the local cache misses and written after each compile.
	Team TeamCache
	// BaseDir is where paths enter team keys relative to the working
	// directory ("": each compile's project root).
	BaseDir string
	// Hosts answers "dcc hosts" and "dcc clean --remote" (nil: no hosts
	// configured); the Service closes it.
	Hosts HostPool
}

// HostPool is the configured compile hosts (remote.Pool), for status and
// cleaning.
type HostPool interface {
	daemon.RemoteBackend
	Close() error
}

// Service implements daemon.Backend.
type Service struct {
	opts   Options
	log    *slog.Logger
	saveMu sync.Mutex
	// savedGen is the counters' generation last saved (or loaded), and
	// unsaved says the file holds something else (guarded by saveMu).
	savedGen uint64
	unsaved  bool
	stop     chan struct{}
	// taken are the store's own counts already added to the counters.
	takenMu sync.Mutex
	taken   map[string]int64
	// cacheDir is the cache's directory as opened, to tell when it is
	// removed (see cacheDirGone).
	cacheDir os.FileInfo
	// local bounds the compiles run here at once when hosts are configured.
	local   *localSlots
	builtin builtinMemo
	// clangDirs remembers clang's own include directories as its driver
	// spells them, for units sent with their sources.
	clangDirs clangDirsMemo
	cc1       cc1Memo
	// driverShapes: what is known of running compiles without gcc's driver.
	driverShapes driverShapes
	scans        scanMemo
	contents     contentCache
	outputs      pathLocks
	saverDone    chan struct{}
	closeOnce    sync.Once
	closeErr     error
}

// statsSaveInterval is how often the counters are written to their file while
// the daemon runs, so a crash loses little.
const statsSaveInterval = 5 * time.Second

var _ daemon.Backend = (*Service)(nil)

// New returns a Service over the given store and counters.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	s := &Service{opts: opts, log: opts.Logger, stop: make(chan struct{}), saverDone: make(chan struct{})}
	if opts.CacheDir != "" {
		s.cacheDir, _ = os.Stat(opts.CacheDir)
	}
	if opts.Remote.Farm != nil {
		s.local = newLocalSlots(opts.Remote.LocalJobs)
	}
	if opts.Stats != nil {
		s.savedGen = opts.Stats.Generation()
	}
	go s.saveStatsPeriodically()
	return s
}

// saveStatsPeriodically writes the counters every statsSaveInterval until Close.
func (s *Service) saveStatsPeriodically() {
	defer close(s.saverDone)
	t := time.NewTicker(statsSaveInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.saveStats(); err != nil {
				s.log.Warn("save stats", "err", err)
			}
		}
	}
}

// storeCounters is what a store that counts its own events offers.
type storeCounters interface {
	// Corrupt is how many damaged values the store removed since it opened.
	Corrupt() int64
	// Evicted is how many items the store evicted since it opened.
	Evicted() int64
}

// takeStoreCounts adds what the store counted since the last call to the
// corrupt and evictions counters.
func (s *Service) takeStoreCounts() {
	sc, ok := s.opts.Store.(storeCounters)
	if !ok {
		return
	}
	s.takenMu.Lock()
	defer s.takenMu.Unlock()
	if s.taken == nil {
		s.taken = map[string]int64{}
	}
	for name, now := range map[string]int64{cache.StatCorrupt: sc.Corrupt(), cache.StatEvictions: sc.Evicted()} {
		s.opts.Stats.Add(name, now-s.taken[name])
		s.taken[name] = now
	}
}

// Stats reports the counters and the cache's size.
func (s *Service) Stats(context.Context) (daemon.StatsReport, error) {
	s.takeStoreCounts()
	size, entries := s.opts.Store.Usage()
	return daemon.StatsReport{
		Counters:   s.opts.Stats.Snapshot(),
		CacheSize:  size,
		MaxSize:    s.opts.MaxSize,
		Entries:    entries,
		StatsSince: s.opts.Stats.Since().UTC().Format(time.RFC3339),
	}, nil
}

// ZeroStats zeroes the counters and saves them; the cache is untouched.
func (s *Service) ZeroStats(context.Context) error {
	s.opts.Stats.Zero()
	return s.saveStats()
}

// Clear empties the cache; the counters are untouched.
func (s *Service) Clear(context.Context) error {
	if a, ok := s.opts.Store.(availability); ok && a.Available() != nil {
		// The database does not open: it is removed, which writes nothing.
		if err := s.opts.Store.Clear(); err != nil {
			return fmt.Errorf("clear cache: %w", err)
		}
		return nil
	}
	// Badger clears by writing: it flushes its memtables into new tables
	// through memory maps, which on a full disk kill the daemon (SIGBUS)
	// instead of failing. Without room for that, clearing is refused.
	if err := s.checkRoom(clearReserve); err != nil {
		return fmt.Errorf("clear cache: %w: free some space first, or stop the daemon (dcc daemon stop) and remove %s", err, s.opts.CacheDir)
	}
	if err := s.opts.Store.Clear(); err != nil {
		return fmt.Errorf("clear cache: %w", err)
	}
	return nil
}

// clearReserve is the room Clear needs beyond minFreeSpace: what Badger
// writes while dropping everything (its memtables flushed into tables).
const clearReserve = 32 << 20

// Close saves the counters and closes the store.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.saverDone
		if c, ok := s.opts.Team.(io.Closer); ok {
			// The writes queued are made (each within its timeout) and
			// counted before the counters are saved.
			if err := c.Close(); err != nil {
				s.log.Warn("close remote storage", "err", err)
			}
		}
		if s.opts.Hosts != nil {
			_ = s.opts.Hosts.Close()
		}
		if err := s.cacheDirGone(); err != nil {
			// Closing would write into a directory that is no more, or
			// is another daemon's now (Badger retries such writes
			// forever): the cache was thrown away, nothing to keep.
			s.log.Warn("the cache directory was removed: closing without saving", "err", err)
			return
		}
		serr := s.saveStats()
		cerr := s.opts.Store.Close()
		if cerr != nil {
			s.closeErr = fmt.Errorf("close cache: %w", cerr)
		} else {
			s.closeErr = serr
		}
	})
	return s.closeErr
}

// saveStats writes the counters to their file.
func (s *Service) saveStats() error {
	if s.opts.StatsPath == "" || s.cacheDirGone() != nil {
		return nil // nowhere to save them, or the place is another daemon's
	}
	s.takeStoreCounts()
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	gen := s.opts.Stats.Generation()
	if gen == s.savedGen && !s.unsaved {
		// Unchanged since the last save: an idle daemon writes (and syncs)
		// nothing.
		return nil
	}
	if err := s.opts.Stats.Save(s.opts.StatsPath); err != nil {
		return fmt.Errorf("save stats: %w", err)
	}
	s.savedGen, s.unsaved = gen, false
	return nil
}

// statsFileStale says the saved counters are not the ones in memory (they
// were damaged and restart at zero): the next save writes them even if no
// counter has changed.
func (s *Service) statsFileStale() {
	s.saveMu.Lock()
	s.unsaved = true
	s.saveMu.Unlock()
}

// count adds one to each named counter.
func (s *Service) count(names ...string) {
	for _, n := range names {
		s.opts.Stats.Add(n, 1)
	}
}
