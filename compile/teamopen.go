package compile

import (
	"log/slog"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/storages"
)

// teamStorage is the team cache of remote_storage: the Front over the
// storages opened.
type teamStorage struct {
	*teamcache.Front
	opened *storages.Opened
}

// Close makes the writes queued, then closes the storages.
func (t *teamStorage) Close() error {
	t.Front.Close()
	return t.opened.Close()
}

// openTeam opens the storages of cfg's remote_storage, counting each
// backend's events in stats. nil when none is configured, or when they
// cannot be opened (logged: compiles go on without them).
func openTeam(cfg *config.Config, stats *cache.Stats, log *slog.Logger) *teamStorage {
	if strings.TrimSpace(cfg.RemoteStorage) == "" {
		return nil
	}
	specs, err := teamcache.ParseSpecs(cfg.RemoteStorage)
	var opened *storages.Opened
	if err == nil {
		opened, err = storages.Open(specs, storages.Options{Hosts: cfg.Hosts, Logger: log})
	}
	if err != nil {
		log.Error("remote storage is off", "err", err)
		return nil
	}
	totals := map[string]string{
		teamcache.EventError: cache.StatStorageErrors, teamcache.EventTimeout: cache.StatStorageTimeouts,
		teamcache.EventRefused: cache.StatStorageRefused,
	}
	front := teamcache.NewFront(opened.Backends, teamcache.Options{
		TeamKey: []byte(cfg.RemoteStorageKey), Logger: log,
		Count: func(backend, event string) {
			stats.Add(cache.StatStoragePrefix+backend+" "+event, 1)
			if total, ok := totals[event]; ok {
				stats.Add(total, 1)
			}
		},
	})
	return &teamStorage{Front: front, opened: opened}
}
