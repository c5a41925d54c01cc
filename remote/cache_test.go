package remote

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/remote/remotetest"
)

func TestRendezvousStable(t *testing.T) {
	addrs := []string{"127.0.0.2:9693", "127.0.0.3:9693", "127.0.0.4:9693"}
	hostsIn := func(order ...int) []config.Host {
		var hs []config.Host
		for _, i := range order {
			hs = append(hs, hostOf(addrs[i], 4))
		}
		return hs
	}
	p1 := NewPool(hostsIn(0, 1, 2), Options{})
	p2 := NewPool(hostsIn(2, 0, 1), Options{}) // another client, hosts listed in another order
	without := NewPool(hostsIn(0, 2), Options{})
	owned := map[string]int{}
	const keys = 3000
	for i := range keys {
		key := fmt.Sprintf("%064x", i*7919)
		o1 := p1.Owners(key)
		require.ElementsMatch(t, addrs, o1)
		assert.Equal(t, o1, p2.Owners(key), "every client agrees, whatever the host order")
		assert.Equal(t, o1, p1.Owners(key), "the same answer every time")
		owned[o1[0]]++
		// Without the second host, only its keys move.
		if o1[0] != addrs[1] {
			assert.Equal(t, o1[0], without.Owners(key)[0])
		}
	}
	for _, a := range addrs {
		assert.InDelta(t, keys/3, owned[a], keys/10, "keys spread evenly: %v", owned)
	}
}

func TestSharedCache(t *testing.T) {
	a := remotetest.Start(t, "127.0.0.2", remotetest.Options{})
	b := remotetest.Start(t, "127.0.0.3", remotetest.Options{})
	servers := map[string]*remotetest.Server{a.Addr: a, b.Addr: b}
	p := newTestPool(t, []config.Host{hostOf(a.Addr, 4), hostOf(b.Addr, 4)}, Options{})
	ctx := context.Background()

	assert.Empty(t, p.SharedOwner(fmt.Sprintf("%064x", 0)), "no host is connected yet")

	// Each entry lands on its key's owner, and comes back from there.
	perHost := map[string]int{}
	for i := range 40 {
		key := fmt.Sprintf("%064x", i)
		_, found := p.CacheGet(ctx, "proj", key)
		assert.False(t, found)
		p.CachePut(ctx, "proj", key, []byte("entry "+key))
		entry, found := p.CacheGet(ctx, "proj", key)
		require.True(t, found)
		assert.Equal(t, "entry "+key, string(entry))
		_, found = p.CacheGet(ctx, "other-project", key)
		assert.False(t, found, "namespaces are apart")
		perHost[p.Owners(key)[0]]++
		assert.Equal(t, p.Owners(key)[0], p.SharedOwner(key))
	}
	for addr, s := range servers {
		assert.Equal(t, perHost[addr], s.Entries(), addr)
		assert.Positive(t, s.Entries(), addr)
	}
	st := p.Status()
	assert.Equal(t, int64(40), st[0].CacheHits+st[1].CacheHits)
	assert.Equal(t, int64(40), st[0].CachePuts+st[1].CachePuts)

	// Clean removes the project's entries everywhere.
	res := p.Clean(ctx, "proj")
	require.Len(t, res, 2)
	var removed int64
	for i, r := range res {
		require.NoError(t, r.Err)
		assert.Equal(t, []string{a.Addr, b.Addr}[i], r.Host)
		removed += r.Removed
	}
	assert.Equal(t, int64(40), removed)
	assert.Zero(t, a.Entries()+b.Entries())

	// With its owner down, a key goes to the next host; errors are misses.
	key := fmt.Sprintf("%064x", 1000)
	owners := p.Owners(key)
	servers[owners[0]].Stop()
	waitFor(t, "the session to close", func() bool {
		for _, s := range p.Status() {
			if s.Addr == owners[0] {
				return !s.Connected
			}
		}
		return false
	})
	assert.Equal(t, owners[1], p.SharedOwner(key), "its owner down, the next host owns the key")
	start := time.Now()
	p.CachePut(ctx, "proj", key, []byte("moved"))
	entry, found := p.CacheGet(ctx, "proj", key)
	require.True(t, found)
	assert.Equal(t, "moved", string(entry))
	assert.Equal(t, 1, servers[owners[1]].Entries())
	assert.Less(t, time.Since(start), 2*time.Second)

	// Clean reports the host that is down.
	res = p.Clean(ctx, "proj")
	for _, r := range res {
		if r.Host == owners[0] {
			require.Error(t, r.Err)
			assert.Equal(t, "connection refused", r.Err.Error())
		} else {
			require.NoError(t, r.Err)
			assert.Equal(t, int64(1), r.Removed)
		}
	}
}

// A shared-cache request to a host that stops answering is a miss within
// the host's send timeout, and backs the host off; so is a host that never
// answers at all.
func TestSharedCacheTimeout(t *testing.T) {
	stall := make(chan struct{})
	s := remotetest.Start(t, "127.0.0.2", remotetest.Options{CacheStall: stall})
	h := hostOf(s.Addr, 4)
	h.SendTimeout = 200 * time.Millisecond
	p := newTestPool(t, []config.Host{h}, Options{})
	start := time.Now()
	_, found := p.CacheGet(context.Background(), "p", "k")
	assert.False(t, found)
	assert.Less(t, time.Since(start), 2*time.Second)
	st := p.Status()[0]
	assert.False(t, st.Connected)
	assert.Greater(t, st.Backoff, time.Duration(0))
	p.CachePut(context.Background(), "p", "k", []byte("e")) // backed off: skipped at once
	assert.Less(t, time.Since(start), 2*time.Second)

	silent := remotetest.StartSilent(t, "127.0.0.3")
	hs := hostOf(silent.Addr, 4)
	hs.ConnectTimeout = 100 * time.Millisecond
	q := newTestPool(t, []config.Host{hs}, Options{})
	start = time.Now()
	_, found = q.CacheGet(context.Background(), "p", "k")
	assert.False(t, found)
	q.CachePut(context.Background(), "p", "k", []byte("e"))
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Greater(t, q.Status()[0].Backoff, time.Duration(0))
}
