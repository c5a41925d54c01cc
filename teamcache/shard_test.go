package teamcache_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/backendtest"
	"github.com/dcc-build/dcc/teamcache/filestore"
)

// shardedDirs is a Sharded storage over one directory per shard.
func shardedDirs(t *testing.T, shards []teamcache.Shard) (*teamcache.Sharded, map[string]*filestore.Store) {
	dirs := map[string]*filestore.Store{}
	var backends []teamcache.Backend
	for _, sh := range shards {
		s, err := filestore.New(t.TempDir())
		require.NoError(t, err)
		dirs[sh.Name] = s
		backends = append(backends, s)
	}
	s, err := teamcache.NewSharded(shards, backends)
	require.NoError(t, err)
	return s, dirs
}

func TestShardedConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) teamcache.Backend {
		s, _ := shardedDirs(t, []teamcache.Shard{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}, {Name: "c", Weight: 2}})
		return s
	})
}

// Keys spread by weight, each on its owner alone, and removing a shard
// moves only the keys it held.
func TestShardedSpreadsByWeight(t *testing.T) {
	shards := []teamcache.Shard{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}, {Name: "c", Weight: 2}}
	s, dirs := shardedDirs(t, shards)
	ctx := context.Background()
	count := map[string]int{}
	const n = 600
	for i := range n {
		k := fmt.Sprintf("%064x", i)
		require.NoError(t, s.Put(ctx, k, []byte("v")))
		owner := s.Owner(k)
		count[owner]++
		for name, d := range dirs {
			_, found, err := d.Get(ctx, k)
			require.NoError(t, err)
			assert.Equal(t, name == owner, found, "key %s on %s", k, name)
		}
	}
	assert.InDelta(t, n/4, count["a"], n/20)
	assert.InDelta(t, n/4, count["b"], n/20)
	assert.InDelta(t, n/2, count["c"], n/20)

	fewer, _ := shardedDirs(t, shards[:2])
	for i := range n {
		k := fmt.Sprintf("%064x", i)
		if owner := s.Owner(k); owner != "c" {
			assert.Equal(t, owner, fewer.Owner(k), "a key not on the removed shard stays where it was")
		}
	}
}
