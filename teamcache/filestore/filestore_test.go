package filestore

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/backendtest"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) teamcache.Backend {
		s, err := New(t.TempDir())
		require.NoError(t, err)
		return s
	})
}

func TestRefusesMissingDirAndBadKeys(t *testing.T) {
	_, err := New(filepath.Join(t.TempDir(), "not-mounted"))
	assert.Error(t, err, "a directory that is not there is not made")
	s, err := New(t.TempDir())
	require.NoError(t, err)
	for _, k := range []string{"", "ab", "../../etc/passwd", "ABCDEF", "abc/def"} {
		assert.Error(t, s.Put(context.Background(), k, []byte("x")), "key %q", k)
		_, _, err := s.Get(context.Background(), k)
		assert.Error(t, err, "key %q", k)
	}
	entries, _ := os.ReadDir(s.dir)
	assert.Empty(t, entries, "nothing written for a bad key")
}
