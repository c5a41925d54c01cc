package cache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatsAddSnapshotZero(t *testing.T) {
	s := NewStats()
	snap := s.Snapshot()
	require.Len(t, snap, len(StatNames), "every named counter is present")
	for _, name := range StatNames {
		assert.Zero(t, snap[name], name)
	}

	s.Add(StatHits, 2)
	s.Add(StatDirectHits, 1)
	s.Add("host 127.0.0.2:9693", 5) // names beyond the constants are kept too
	snap = s.Snapshot()
	assert.Equal(t, int64(2), snap[StatHits])
	assert.Equal(t, int64(1), snap[StatDirectHits])
	assert.Equal(t, int64(5), snap["host 127.0.0.2:9693"])
	assert.Equal(t, int64(2), s.Get(StatHits))

	snap[StatHits] = 100 // a snapshot is a copy
	assert.Equal(t, int64(2), s.Get(StatHits))

	before := time.Now()
	s.Zero()
	assert.Equal(t, int64(0), s.Get(StatHits))
	assert.NotContains(t, s.Snapshot(), "host 127.0.0.2:9693")
	assert.False(t, s.Since().Before(before), "Since moves to the zeroing")
}

func TestStatsGeneration(t *testing.T) {
	s := NewStats()
	tests := []struct {
		name    string
		do      func()
		changes bool
	}{
		{"nothing", func() {}, false},
		{"add", func() { s.Add(StatHits, 1) }, true},
		{"add zero", func() { s.Add(StatHits, 0) }, false},
		{"read", func() { s.Get(StatHits); s.Snapshot(); s.Since() }, false},
		{"zero", s.Zero, true},
	}
	for _, tt := range tests {
		before := s.Generation()
		tt.do()
		assert.Equal(t, tt.changes, s.Generation() != before, tt.name)
	}
}

func TestStatsConcurrentAdd(t *testing.T) {
	s := NewStats()
	const goroutines, adds = 16, 1000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < adds; i++ {
				s.Add(StatNames[(g+i)%len(StatNames)], 1)
				if i%100 == 0 {
					_ = s.Snapshot()
				}
			}
		}()
	}
	wg.Wait()
	var total int64
	for _, n := range s.Snapshot() {
		total += n
	}
	assert.Equal(t, int64(goroutines*adds), total)
}

func TestStatsSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "stats.json") // the directory is created
	s := NewStats()
	s.Add(StatMisses, 3)
	s.Add(StatEvictions, 7)
	s.Add("remote", 1)
	require.NoError(t, s.Save(path))

	got, err := LoadStats(path)
	require.NoError(t, err)
	assert.Equal(t, s.Snapshot(), got.Snapshot())
	assert.True(t, s.Since().Equal(got.Since()), "%v != %v", s.Since(), got.Since())

	// Saving again replaces the file, leaving no temporary file behind.
	got.Add(StatMisses, 1)
	require.NoError(t, got.Save(path))
	again, err := LoadStats(path)
	require.NoError(t, err)
	assert.Equal(t, int64(4), again.Get(StatMisses))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

func TestLoadStatsMissing(t *testing.T) {
	before := time.Now()
	s, err := LoadStats(filepath.Join(t.TempDir(), "none.json"))
	require.NoError(t, err)
	for name, n := range s.Snapshot() {
		assert.Zero(t, n, name)
	}
	assert.False(t, s.Since().Before(before))
}

func TestLoadStatsDamaged(t *testing.T) {
	valid := func(mutate func(f *statsFile)) string {
		f := statsFile{Version: statsVersion, Since: time.Now(), Counters: map[string]int64{StatHits: 1}}
		mutate(&f)
		b, err := json.Marshal(f)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name, content, wantMsg string
	}{
		{"empty", "", "unexpected end of JSON input"},
		{"truncated", `{"version":1,"counters":{"hits":`, "unexpected end of JSON input"},
		{"garbage", "\x00\x01binary", "invalid character"},
		{"wrong type", `{"version":1,"since":"2024-01-01T00:00:00Z","counters":{"hits":"many"}}`, "cannot unmarshal"},
		{"other version", valid(func(f *statsFile) { f.Version = 99 }), "version 99"},
		{"no start time", valid(func(f *statsFile) { f.Since = time.Time{} }), "no start time"},
		{"negative counter", valid(func(f *statsFile) { f.Counters[StatHits] = -1 }), `counter "hits" is negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stats.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
			s, err := LoadStats(path)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrStatsDamaged)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), tt.wantMsg)
			require.NotNil(t, s, "zero statistics come with the error")
			for name, n := range s.Snapshot() {
				assert.Zero(t, n, name)
			}
			// The next save replaces the damaged file.
			s.Add(StatHits, 1)
			require.NoError(t, s.Save(path))
			again, err := LoadStats(path)
			require.NoError(t, err)
			assert.Equal(t, int64(1), again.Get(StatHits))
		})
	}
}

func TestLoadStatsUnreadable(t *testing.T) {
	dir := t.TempDir() // a directory where the file should be
	s, err := LoadStats(dir)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrStatsDamaged)
	assert.Contains(t, err.Error(), "load statistics")
	require.NotNil(t, s)
}

// The misses by reason are named counters like the others: present at zero,
// saved and loaded, and zeroed with the rest ("dcc stats --zero").
func TestStatsMissReasons(t *testing.T) {
	s := NewStats()
	require.Len(t, MissReasons, 8)
	for _, reason := range MissReasons {
		assert.Contains(t, StatNames, StatMissPrefix+reason)
		v, ok := s.Snapshot()[StatMissPrefix+reason]
		assert.True(t, ok, "%s present before any miss", reason)
		assert.Zero(t, v)
	}
	s.Add(StatMisses, 3)
	s.Add(StatMissPrefix+MissNewSource, 2)
	s.Add(StatMissPrefix+MissChangedHeader, 1)

	path := filepath.Join(t.TempDir(), "stats.json")
	require.NoError(t, s.Save(path))
	got, err := LoadStats(path)
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Get(StatMissPrefix+MissNewSource))
	assert.Equal(t, int64(1), got.Get(StatMissPrefix+MissChangedHeader))

	got.Zero()
	for _, reason := range MissReasons {
		assert.Zero(t, got.Snapshot()[StatMissPrefix+reason], reason)
	}
	require.NoError(t, got.Save(path))
	again, err := LoadStats(path)
	require.NoError(t, err)
	assert.Zero(t, again.Get(StatMissPrefix+MissNewSource), "zeroed on disk too")
}
