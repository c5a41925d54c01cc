package compile

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
)

// testConfig points DCC_DIR at a new directory and loads the configuration.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	t.Setenv("DCC_DIR", t.TempDir())
	cfg, err := config.Load()
	require.NoError(t, err)
	return cfg
}

// openService opens the daemon's service on cfg; it closes at the test's end.
func openService(t *testing.T, cfg *config.Config) *Service {
	t.Helper()
	s, err := Open(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestOpenProbesHintedCompiler: a daemon started for a compile identifies
// that compiler while its cache opens, before any request, and the hint
// does not stay in the environment its probes run with.
func TestOpenProbesHintedCompiler(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	cc := filepath.Join(dir, "gcc")
	require.NoError(t, os.WriteFile(cc, []byte("#!/bin/sh\necho \"$1 hint=${"+daemon.ProbeHintEnv+":-}\" >> "+runs+
		"\necho 'gcc (GCC) 12.2.0'\necho 'Copyright (C) 2022 Free Software Foundation, Inc.'\n"), 0o755))
	t.Setenv("DCC_DIR", filepath.Join(dir, "dcc"))
	t.Setenv(daemon.ProbeHintEnv, cc)
	cfg, err := config.Load()
	require.NoError(t, err)

	s, err := Open(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	_, set := os.LookupEnv(daemon.ProbeHintEnv)
	assert.False(t, set, "the hint is taken out of the daemon's environment")
	assert.Eventually(t, func() bool {
		b, _ := os.ReadFile(runs)
		return strings.Contains(string(b), "--version hint=\n")
	}, 10*time.Second, 10*time.Millisecond, "the hinted compiler was asked for its version, without the hint in its environment")
}

// TestOpenWithDamagedStats: damaged counters restart at zero and are
// rewritten at the next save; the daemon still opens (it used to fail to
// start, so dcc stopped caching until the file was removed).
func TestOpenWithDamagedStats(t *testing.T) {
	cfg := testConfig(t)
	require.NoError(t, os.WriteFile(cfg.StatsPath(), []byte("garbage{"), 0o600))

	s := openService(t, cfg)
	assert.Zero(t, s.opts.Stats.Get(cache.StatMisses))
	require.NoError(t, s.saveStats())
	_, err := cache.LoadStats(cfg.StatsPath())
	assert.NoError(t, err, "the damaged file is replaced at the first save")
}

// TestSaveStatsOnlyWhenChanged: an idle daemon does not rewrite (and sync)
// its counters every few seconds; a change is saved.
func TestSaveStatsOnlyWhenChanged(t *testing.T) {
	cfg := testConfig(t)
	s := openService(t, cfg)
	inode := func() uint64 {
		fi, err := os.Stat(cfg.StatsPath())
		require.NoError(t, err)
		return fi.Sys().(*syscall.Stat_t).Ino
	}

	require.NoError(t, s.saveStats())
	assert.NoFileExists(t, cfg.StatsPath(), "nothing counted, nothing saved")
	s.count(cache.StatMisses)
	require.NoError(t, s.saveStats())
	first := inode()
	require.NoError(t, s.saveStats())
	assert.Equal(t, first, inode(), "unchanged counters are not written again")
	s.count(cache.StatHits)
	require.NoError(t, s.saveStats())
	assert.NotEqual(t, first, inode(), "a change is saved (a new file renamed over the old)")
	loaded, err := cache.LoadStats(cfg.StatsPath())
	require.NoError(t, err)
	assert.Equal(t, int64(1), loaded.Get(cache.StatHits))
}

// TestClearStartsOverDamagedCache: a cache database that no longer opens
// leaves the daemon running uncached; "dcc clear" removes it and the daemon
// caches again at once.
func TestClearStartsOverDamagedCache(t *testing.T) {
	cfg := testConfig(t)
	require.NoError(t, openService(t, cfg).Close())
	require.NoError(t, os.WriteFile(filepath.Join(cfg.CachePath(), "MANIFEST"), []byte("garbage"), 0o600))

	s := openService(t, cfg) // the daemon opens without its cache
	a := s.opts.Store.(availability)
	err := a.Available()
	require.ErrorIs(t, err, errCacheUnavailable)
	assert.Contains(t, err.Error(), "dcc clear starts an empty one")

	require.NoError(t, s.Clear(t.Context()))
	require.NoError(t, a.Available())
	require.NoError(t, s.opts.Store.PutEntry(cache.Key{1}, cache.Entry{Files: map[string][]byte{"object": []byte("o")}}))
	e, err := s.opts.Store.GetEntry(cache.Key{1})
	require.NoError(t, err)
	assert.Equal(t, []byte("o"), e.Files["object"])
}
