package badgerstore

import (
	"fmt"
	"github.com/dcc-build/dcc/badgerquiet"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Options configure a BadgerStore. Open replaces every zero field with its
// value from DefaultOptions, so callers set only what they change.
type Options struct {
	// MaxSize is the size limit in bytes of the stored entries and manifests
	// (values, keys and index). Past it, least-recently-used items are evicted
	// until the total is under LowWatermark × MaxSize.
	MaxSize int64
	// LowWatermark is the fraction of MaxSize that eviction brings usage
	// down to, in (0, 1].
	LowWatermark float64
	// MaxValueSize is the largest stored (compressed) value accepted; larger
	// ones are cache.ErrTooLarge. Badger's value-log files are sized from it.
	MaxValueSize int64
	// MaxEntrySize is the largest entry or manifest accepted before
	// compression, and the most a decoder allocates for one value.
	MaxEntrySize int64
	// MaxManifestResults is how many results a manifest keeps, newest first.
	MaxManifestResults int
	// TouchInterval is the granularity of access times: a read records a new
	// access time only when the stored one is older than this.
	TouchInterval time.Duration
	// FlushInterval is how often recorded access times are written, and how
	// often the background worker checks the size limit.
	FlushInterval time.Duration
	// GCInterval is how often value-log garbage collection runs when
	// something was deleted or replaced since the last run.
	GCInterval time.Duration
	// GCDiscardRatio is the fraction of a value-log file that must be garbage
	// for GC to rewrite it, in (0, 1).
	GCDiscardRatio float64
	// MemTableSize is Badger's memtable size: the main part of its memory
	// footprint (two memtables are kept).
	MemTableSize int64
	// Logger receives the store's and Badger's warnings and errors.
	Logger *slog.Logger

	// now is the clock (tests replace it).
	now func() time.Time
}

// Defaults of Options.
const (
	DefaultMaxSize            = 5 << 30
	DefaultMaxValueSize       = 64 << 20
	DefaultMaxEntrySize       = 256 << 20
	DefaultMaxManifestResults = 16
	DefaultLowWatermark       = 0.9
	DefaultTouchInterval      = time.Minute
	DefaultFlushInterval      = 5 * time.Second
	DefaultGCInterval         = 10 * time.Minute
	DefaultGCDiscardRatio     = 0.5
	DefaultMemTableSize       = 8 << 20
)

// Limits on Options checked by Validate.
const (
	maxMaxValueSize = 1 << 30
	minMemTableSize = 1 << 20
)

// DefaultOptions returns the options a daemon uses: a 5 GiB limit, values
// up to 64 MiB, access times at one-minute granularity.
func DefaultOptions() Options {
	return Options{
		MaxSize:            DefaultMaxSize,
		LowWatermark:       DefaultLowWatermark,
		MaxValueSize:       DefaultMaxValueSize,
		MaxEntrySize:       DefaultMaxEntrySize,
		MaxManifestResults: DefaultMaxManifestResults,
		TouchInterval:      DefaultTouchInterval,
		FlushInterval:      DefaultFlushInterval,
		GCInterval:         DefaultGCInterval,
		GCDiscardRatio:     DefaultGCDiscardRatio,
		MemTableSize:       DefaultMemTableSize,
		Logger:             slog.Default(),
		now:                time.Now,
	}
}

// withDefaults returns o with every zero field set from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	set := func(dst *int64, v int64) {
		if *dst == 0 {
			*dst = v
		}
	}
	set(&o.MaxSize, d.MaxSize)
	set(&o.MaxValueSize, d.MaxValueSize)
	set(&o.MaxEntrySize, d.MaxEntrySize)
	set(&o.MemTableSize, d.MemTableSize)
	setDur := func(dst *time.Duration, v time.Duration) {
		if *dst == 0 {
			*dst = v
		}
	}
	setDur(&o.TouchInterval, d.TouchInterval)
	setDur(&o.FlushInterval, d.FlushInterval)
	setDur(&o.GCInterval, d.GCInterval)
	if o.LowWatermark == 0 {
		o.LowWatermark = d.LowWatermark
	}
	if o.GCDiscardRatio == 0 {
		o.GCDiscardRatio = d.GCDiscardRatio
	}
	if o.MaxManifestResults == 0 {
		o.MaxManifestResults = d.MaxManifestResults
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.now == nil {
		o.now = d.now
	}
	return o
}

// Validate reports the first option out of range (after zero fields take
// their defaults).
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.MaxSize < 0:
		return fmt.Errorf("cache: MaxSize %d is negative", o.MaxSize)
	case o.LowWatermark <= 0 || o.LowWatermark > 1:
		return fmt.Errorf("cache: LowWatermark %g not in (0, 1]", o.LowWatermark)
	case o.MaxValueSize < 1<<10 || o.MaxValueSize > maxMaxValueSize:
		return fmt.Errorf("cache: MaxValueSize %d not in [1 KiB, 1 GiB]", o.MaxValueSize)
	case o.MaxEntrySize < 1<<10:
		return fmt.Errorf("cache: MaxEntrySize %d below 1 KiB", o.MaxEntrySize)
	case o.MaxManifestResults < 1:
		return fmt.Errorf("cache: MaxManifestResults %d below 1", o.MaxManifestResults)
	case o.TouchInterval < 0 || o.FlushInterval < 0 || o.GCInterval < 0:
		return fmt.Errorf("cache: negative interval")
	case o.GCDiscardRatio <= 0 || o.GCDiscardRatio >= 1:
		return fmt.Errorf("cache: GCDiscardRatio %g not in (0, 1)", o.GCDiscardRatio)
	case o.MemTableSize < minMemTableSize || o.MemTableSize > 1<<30:
		return fmt.Errorf("cache: MemTableSize %d not in [1 MiB, 1 GiB]", o.MemTableSize)
	}
	return nil
}

// valueLogFileSize must exceed the largest value (Badger refuses larger
// ones); a file a little over MaxValueSize keeps GC's unit of work small.
func (o Options) valueLogFileSize() int64 {
	return o.MaxValueSize + o.MaxValueSize/4 + 1<<20
}

// badgerOptions translates o into Badger's options, tuned for a small
// footprint and values from 1 KiB to tens of MiB, without compactors
// (compact.go).
func (o Options) badgerOptions(dir string) badger.Options {
	// Values up to valueThreshold stay in the LSM tree (index records,
	// manifests, small objects); larger ones go to the value log so that
	// compactions don't rewrite them. Badger requires it ≤ 15% of the memtable.
	valueThreshold := min(int64(4<<10), o.MemTableSize*15/100)
	return badgerquiet.Quiet(badger.DefaultOptions(dir).
		WithLogger(newBadgerLogger(o.Logger)).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(2).
		WithNumLevelZeroTables(3).
		WithBaseTableSize(2 << 20).
		WithValueThreshold(valueThreshold).
		WithValueLogFileSize(o.valueLogFileSize()).
		// Values are lz4 already; without compression Badger needs no block
		// cache and reads blocks straight from the memory-mapped tables.
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithNumGoroutines(2).
		WithMetricsEnabled(false).
		// A cache can lose its last writes in a crash: every value is
		// checksummed, and a lost one is a miss.
		WithSyncWrites(false).
		WithDetectConflicts(true))
}
