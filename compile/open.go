package compile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/remote"
	"github.com/dcc-build/dcc/ship"
	"github.com/dcc-build/dcc/toolchain"
)

// memoEntries bounds the file-hash memo: enough for the headers of a large
// project, a few hundred bytes each.
const memoEntries = 200_000

// Open builds the daemon's Service from the configuration: it opens the cache
// under cfg.CachePath() with cfg.MaxSize (a cache that cannot be opened is
// tried again later, and meanwhile compiles run uncached and count as
// errors), loads the counters from
// cfg.StatsPath() (damaged counters restart at zero, with a warning), and
// prepares a private directory for preprocessed text.
func Open(cfg *config.Config, log *slog.Logger) (*Service, error) {
	prober := &toolchain.Prober{}
	probeHinted(prober, log)
	opts := badgerstore.DefaultOptions()
	opts.MaxSize = cfg.MaxSize
	opts.Logger = log
	var store cache.Store
	bs, err := badgerstore.Open(cfg.CachePath(), opts)
	if err == nil {
		store = bs
	} else {
		// Never break a build: the daemon answers without a cache, counting
		// every compile as an error, and tries the database again later.
		log.Error("the cache could not be opened: compiles run uncached until it opens", "err", err)
		store = newReopeningStore(func() (cache.Store, error) {
			s, err := badgerstore.Open(cfg.CachePath(), opts)
			if err != nil {
				return nil, err
			}
			log.Warn("the cache opened")
			return s, nil
		}, func() error { return badgerstore.Remove(cfg.CachePath()) }, err)
	}
	stats, statsErr := cache.LoadStats(cfg.StatsPath())
	if statsErr != nil {
		log.Warn("stats restart at zero", "err", statsErr)
	}
	tmp := filepath.Join(cfg.Dir, "tmp")
	err = os.RemoveAll(tmp)
	if err == nil {
		err = os.MkdirAll(tmp, 0o700)
	}
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("temporary directory %s: %w", tmp, err)
	}
	opts2 := Options{
		Store: store, Stats: stats, StatsPath: cfg.StatsPath(),
		Memo: filehash.NewMemo(memoEntries), Prober: prober,
		DirectMode: cfg.DirectMode, DependMode: cfg.DependMode, BypassDriver: cfg.BypassDriver, Disable: cfg.Disable, MaxSize: cfg.MaxSize,
		CacheDir: cfg.CachePath(), TempDir: tmp, Logger: log,
	}
	if len(cfg.Hosts) > 0 {
		// The pool answers "dcc hosts" whether or not remote compiling is on.
		popts := remote.Options{Logger: log, LivenessTimeout: cfg.LivenessTimeout}
		var shipSource *ship.Source
		if cfg.ShipToolchains {
			shipSource = &ship.Source{}
			popts.Shipper = shipSource
		}
		pool := remote.NewPool(cfg.Hosts, popts)
		opts2.Hosts = pool
		if cfg.Remote {
			opts2.Remote = RemoteOptions{
				Farm: pool, LocalThreshold: int(cfg.LocalThreshold), RerunErrors: cfg.RerunRemoteErrors,
				LocalJobs: cfg.LocalJobs,
				Sources:   cfg.RemoteSources,
				Timeout:   cfg.RecvTimeout,
				Ship:      shipSource,
			}
		}
	}
	if team := openTeam(cfg, stats, log); team != nil {
		opts2.Team = team
	}
	opts2.BaseDir = cfg.BaseDir
	s := New(opts2)
	if statsErr != nil {
		s.statsFileStale()
	}
	return s, nil
}

// probeHinted starts identifying the compiler named by daemon.ProbeHintEnv,
// if set, in the background (concurrent probes of one compiler share one
// run, so the first compile waits for this one), and takes the variable out
// of the environment the daemon's probes run with.
func probeHinted(p *toolchain.Prober, log *slog.Logger) {
	hint, ok := os.LookupEnv(daemon.ProbeHintEnv)
	if !ok {
		return
	}
	os.Unsetenv(daemon.ProbeHintEnv)
	if hint == "" {
		return
	}
	go func() {
		if _, err := p.Probe(context.Background(), hint); err != nil {
			log.Debug("identify the compiler named at start", "compiler", hint, "err", err)
		}
	}()
}
