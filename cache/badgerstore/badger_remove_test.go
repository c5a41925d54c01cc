package badgerstore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/cache"
)

func TestRemove(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"missing", func(t *testing.T, dir string) {}},
		{"closed database", func(t *testing.T, dir string) {
			s, err := Open(dir, testOptions())
			require.NoError(t, err)
			require.NoError(t, s.PutEntry(testKey(1), benchEntry(1<<10)))
			require.NoError(t, s.Close())
		}},
		{"damaged database", func(t *testing.T, dir string) {
			s, err := Open(dir, testOptions())
			require.NoError(t, err)
			require.NoError(t, s.Close())
			require.NoError(t, os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("garbage"), 0o600))
			_, err = Open(dir, testOptions())
			require.Error(t, err, "the damaged database no longer opens")
		}},
		{"a file in its place", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(dir, []byte("x"), 0o600))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			tt.prepare(t, dir)
			require.NoError(t, Remove(dir))
			s, err := Open(dir, testOptions())
			require.NoError(t, err, "an empty database opens where it was")
			_, err = s.GetEntry(testKey(1))
			assert.ErrorIs(t, err, cache.ErrNotFound)
			require.NoError(t, s.Close())
		})
	}
}

func TestRemoveRefusesOpenDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	s, err := Open(dir, testOptions())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.PutEntry(testKey(1), benchEntry(1<<10)))

	err = Remove(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another process has the cache database")
	_, err = s.GetEntry(testKey(1))
	assert.NoError(t, err, "the open database is untouched")
}
