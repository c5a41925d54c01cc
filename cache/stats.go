package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Names of the statistics counters ("dcc stats --json" shows them).
const (
	// StatHits counts compiles answered from the cache (direct or preprocessed).
	StatHits = "hits"
	// StatDirectHits counts hits found in direct mode, without preprocessing.
	StatDirectHits = "direct_hits"
	// StatPreprocessedHits counts hits found after preprocessing.
	StatPreprocessedHits = "preprocessed_hits"
	// StatMisses counts cacheable compiles that were not in the cache.
	StatMisses = "misses"
	// StatUncacheable counts compiles dcc cannot cache (linking, -E, ...),
	// run unchanged.
	StatUncacheable = "uncacheable"
	// StatLocal counts compiles run on this machine.
	StatLocal = "local"
	// StatErrors counts failures inside dcc that fell back to the compiler.
	StatErrors = "errors"
	// StatCorrupt counts damaged entries found, removed and treated as misses.
	StatCorrupt = "corrupt"
	// StatEvictions counts entries evicted to keep the size limit.
	StatEvictions = "evictions"
	// StatRemote counts compiles done on a compile host.
	StatRemote = "remote"
	// StatFallbacks counts compiles sent to a host that ran here instead
	// because the host failed or timed out.
	StatFallbacks = "fallbacks"
	// StatRemoteCacheHits counts hits found in the team's shared cache
	// (also counted in hits and preprocessed_hits).
	StatRemoteCacheHits = "remote_cache_hits"
	// StatRemoteReruns counts remote compiles that failed or printed
	// diagnostics and were run again here, for the local compiler's words.
	StatRemoteReruns = "remote_reruns"
	// StatRemoteSources counts the remote compiles sent with their sources
	// (also counted in remote).
	StatRemoteSources = "remote_sources"
	// StatHostPrefix starts the per-host counters, "host <addr>": compiles
	// done on that host.
	StatHostPrefix = "host "
	// StatStorageHits and StatStorageMisses count the lookups in remote
	// storage (the team cache, remote_storage) that found an entry to use
	// and those that did not; StatStorageErrors and StatStorageTimeouts
	// the requests of any backend that failed or took too long, and
	// StatStorageRefused the entries refused for a bad checksum or
	// signature.
	StatStorageHits     = "remote_storage_hits"
	StatStorageMisses   = "remote_storage_misses"
	StatStorageErrors   = "remote_storage_errors"
	StatStorageTimeouts = "remote_storage_timeouts"
	StatStorageRefused  = "remote_storage_refused"
	// StatStoragePrefix starts the per-backend counters of remote storage,
	// "storage <name> <event>" with an event of teamcache's.
	StatStoragePrefix = "storage "
	// StatMissPrefix starts the counters of misses by reason, "miss
	// <reason>" with a reason of MissReasons: each miss counts in exactly
	// one ("dcc stats --json" shows them as misses_by_reason).
	StatMissPrefix = "miss "
)

// Why a cacheable compile missed: the reasons a DCC_LOG line gives as
// miss_reason, and the names of the misses_by_reason counters.
const (
	// MissNewSource: no earlier compile of this source to this object, in
	// this directory with this compiler, is remembered (none since the
	// cache was cleared).
	MissNewSource = "new_source"
	// MissSourceChanged: compiled before with the same arguments, from
	// other source content.
	MissSourceChanged = "source_changed"
	// MissChangedHeader: compiled before with the same source and
	// arguments, and a file the compile read has changed (or is gone).
	MissChangedHeader = "changed_header"
	// MissNewHeader: compiled before with the same source and arguments,
	// and a header now exists where the compile found none (it shadows
	// the one used, or appears).
	MissNewHeader = "new_header"
	// MissNewArguments: the same source was compiled to the same object
	// before, with other arguments (or environment).
	MissNewArguments = "new_arguments"
	// MissRecached: DCC_RECACHE was set: the compile ran without a lookup.
	MissRecached = "recached"
	// MissReadOnly: DCC_READONLY was set: nothing is stored, so nothing
	// it compiles is found later either.
	MissReadOnly = "read_only"
	// MissNotInCache: compiled before with the same source, arguments and
	// headers, and the result is gone (evicted, cleared) or was never
	// stored (a header using __TIME__, a file that changed while it
	// compiled).
	MissNotInCache = "not_in_cache"
)

// MissReasons lists the miss reasons, in the order "dcc stats" shows them.
var MissReasons = []string{
	MissNewSource, MissSourceChanged, MissChangedHeader, MissNewHeader, MissNewArguments,
	MissNotInCache, MissRecached, MissReadOnly,
}

// StatNames lists the named counters, in the order "dcc stats" shows them:
// those above, then the misses by reason.
var StatNames = append([]string{
	StatHits, StatDirectHits, StatPreprocessedHits, StatMisses, StatUncacheable,
	StatLocal, StatErrors, StatCorrupt, StatEvictions,
	StatRemote, StatFallbacks, StatRemoteCacheHits, StatRemoteReruns, StatRemoteSources,
	StatStorageHits, StatStorageMisses, StatStorageErrors, StatStorageTimeouts, StatStorageRefused,
}, missCounterNames()...)

// missCounterNames returns the counter name of each of MissReasons.
func missCounterNames() []string {
	out := make([]string, len(MissReasons))
	for i, r := range MissReasons {
		out[i] = StatMissPrefix + r
	}
	return out
}

// ErrStatsDamaged: the statistics file did not decode. LoadStats returns zero
// statistics with it.
var ErrStatsDamaged = errors.New("cache: damaged statistics file")

// statsVersion is the statistics file's format version.
const statsVersion = 1

// statsFile is the statistics file's JSON form.
type statsFile struct {
	Version  int              `json:"version"`
	Since    time.Time        `json:"since"`
	Counters map[string]int64 `json:"counters"`
}

// Stats holds event counters by name. It is safe for concurrent use.
type Stats struct {
	mu       sync.Mutex
	counters map[string]int64
	since    time.Time
	// changes counts the calls that changed the counters (Generation).
	changes uint64
}

// NewStats returns zero statistics, counting from now.
func NewStats() *Stats {
	return &Stats{counters: map[string]int64{}, since: time.Now()}
}

// Add adds n to the counter called name (a Stat constant, or any other name).
func (s *Stats) Add(name string, n int64) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	s.counters[name] += n
	s.changes++
	s.mu.Unlock()
}

// Generation changes whenever the counters do (Add, Zero): a saver that
// remembers the generation it saved can skip saving what is unchanged.
func (s *Stats) Generation() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes
}

// Get returns the counter called name.
func (s *Stats) Get(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters[name]
}

// Snapshot returns a copy of every counter: each of StatNames, zero or not,
// and any other name that was added to.
func (s *Stats) Snapshot() map[string]int64 {
	out := make(map[string]int64, len(StatNames))
	for _, name := range StatNames {
		out[name] = 0
	}
	s.mu.Lock()
	maps.Copy(out, s.counters)
	s.mu.Unlock()
	return out
}

// Zero sets every counter to zero and Since to now.
func (s *Stats) Zero() {
	s.mu.Lock()
	s.counters = map[string]int64{}
	s.since = time.Now()
	s.changes++
	s.mu.Unlock()
}

// Since returns when the counters were last zeroed (or first created).
func (s *Stats) Since() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.since
}

// LoadStats reads statistics saved at path. It always returns usable
// statistics: a missing file gives zero statistics and no error; a file that
// cannot be read or does not decode gives zero statistics and an error saying
// so (wrapping ErrStatsDamaged when damaged), for the caller to log; the next
// Save replaces it.
func LoadStats(path string) (*Stats, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return NewStats(), nil
	}
	if err != nil {
		return NewStats(), fmt.Errorf("load statistics: %w", err)
	}
	var f statsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return NewStats(), fmt.Errorf("%w %s (counting from zero): %w", ErrStatsDamaged, path, err)
	}
	if err := f.check(); err != nil {
		return NewStats(), fmt.Errorf("%w %s (counting from zero): %w", ErrStatsDamaged, path, err)
	}
	if f.Counters == nil {
		f.Counters = map[string]int64{}
	}
	return &Stats{counters: f.Counters, since: f.Since}, nil
}

// check rejects a decoded file that cannot be right.
func (f *statsFile) check() error {
	if f.Version != statsVersion {
		return fmt.Errorf("version %d, want %d", f.Version, statsVersion)
	}
	if f.Since.IsZero() {
		return errors.New("no start time")
	}
	for name, n := range f.Counters {
		if n < 0 {
			return fmt.Errorf("counter %q is negative", name)
		}
	}
	return nil
}

// Save writes the statistics to path atomically: a temporary file in the same
// directory (created if missing), synced, then renamed over path.
func (s *Stats) Save(path string) (err error) {
	f := statsFile{Version: statsVersion, Since: s.Since(), Counters: s.Snapshot()}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("save statistics: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save statistics: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save statistics: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("save statistics: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save statistics: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save statistics: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save statistics: %w", err)
	}
	return nil
}
