package storages

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/servertest"
)

func open(t *testing.T, s string, opts Options) (*Opened, error) {
	t.Helper()
	specs, err := teamcache.ParseSpecs(s)
	require.NoError(t, err)
	o, err := Open(specs, opts)
	if err == nil {
		t.Cleanup(func() { o.Close() })
	}
	return o, err
}

// Each storage is named without its password, keeps its attributes, and
// gets the default operation timeout unless it names one.
func TestOpenNamesAndAttributes(t *testing.T) {
	dir := t.TempDir()
	o, err := open(t, "file:"+dir+"|read-only redis://:hunter2@127.0.0.1:1/3|operation-timeout=250", Options{})
	require.NoError(t, err)
	require.Len(t, o.Backends, 2)
	assert.Equal(t, "file:"+dir, o.Backends[0].Name)
	assert.True(t, o.Backends[0].ReadOnly)
	assert.Equal(t, DefaultOperationTimeout, o.Backends[0].Timeout)
	assert.Equal(t, "redis://:xxxxx@127.0.0.1:1/3", o.Backends[1].Name)
	assert.False(t, o.Backends[1].ReadOnly)
	assert.Equal(t, 250*time.Millisecond, o.Backends[1].Timeout)
}

func TestOpenRefusals(t *testing.T) {
	_, err := open(t, "file:/no/such/mount", Options{})
	assert.ErrorContains(t, err, "remote_storage file:/no/such/mount: file storage /no/such/mount")
	_, err = open(t, "dcc://127.0.0.1:7777", Options{})
	assert.EqualError(t, err, "remote_storage dcc://127.0.0.1:7777: 127.0.0.1:7777 is not one of the configured hosts (its token and fingerprint come from its [[hosts]] entry)")
}

// A storage with shards spreads its entries over its servers: each server
// holds some, and every entry is read back.
func TestOpenShards(t *testing.T) {
	r1 := servertest.StartRedis(t, servertest.RedisOptions{})
	r2 := servertest.StartRedis(t, servertest.RedisOptions{})
	o, err := open(t, fmt.Sprintf("redis://*|shards=%s,%s(2)", r1.Addr, r2.Addr), Options{})
	require.NoError(t, err)
	b := o.Backends[0].Backend
	ctx := context.Background()
	held := map[*servertest.Redis]int{}
	for i := range 60 {
		k := fmt.Sprintf("%064x", i)
		require.NoError(t, b.Put(ctx, k, []byte(k)))
		for _, r := range []*servertest.Redis{r1, r2} {
			if _, found, err := r.Get(ctx, k); err == nil && found {
				held[r]++
			}
		}
		got, found, err := b.Get(ctx, k)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, k, string(got))
	}
	assert.Equal(t, 60, held[r1]+held[r2], "each entry on one server")
	assert.Positive(t, held[r1])
	assert.Greater(t, held[r2], held[r1], "the server of weight 2 holds more")
}
