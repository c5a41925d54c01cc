// Package backendtest is the conformance suite every teamcache.Backend
// runs, with a real server behind it where the backend has one.
package backendtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
)

// key returns a distinct hex key for name.
func key(t *testing.T, name string) string {
	return fmt.Sprintf("%x", []byte(t.Name()+"/"+name+"/0123456789abcdef"))[:64]
}

// Run runs the suite on the backend newBackend makes (empty, or at least
// without the suite's keys).
func Run(t *testing.T, newBackend func(t *testing.T) teamcache.Backend) {
	ctx := context.Background()
	t.Run("missing key is a miss", func(t *testing.T) {
		b := newBackend(t)
		_, found, err := b.Get(ctx, key(t, "none"))
		require.NoError(t, err)
		assert.False(t, found)
	})
	t.Run("put then get", func(t *testing.T) {
		b := newBackend(t)
		k := key(t, "a")
		require.NoError(t, b.Put(ctx, k, []byte("entry a")))
		got, found, err := b.Get(ctx, k)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, "entry a", string(got))
	})
	t.Run("a put replaces", func(t *testing.T) {
		b := newBackend(t)
		k := key(t, "r")
		require.NoError(t, b.Put(ctx, k, []byte("old")))
		require.NoError(t, b.Put(ctx, k, []byte("new")))
		got, _, err := b.Get(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, "new", string(got))
	})
	t.Run("large and binary entries", func(t *testing.T) {
		b := newBackend(t)
		big := make([]byte, 8<<20)
		_, _ = rand.Read(big)
		k := key(t, "big")
		require.NoError(t, b.Put(ctx, k, big))
		got, found, err := b.Get(ctx, k)
		require.NoError(t, err)
		require.True(t, found)
		assert.True(t, bytes.Equal(big, got))
	})
	t.Run("concurrent writers and readers see whole entries", func(t *testing.T) {
		b := newBackend(t)
		k := key(t, "c")
		entries := make([][]byte, 8)
		for i := range entries {
			entries[i] = bytes.Repeat([]byte{byte('a' + i)}, 1<<20)
		}
		isWhole := func(got []byte) bool {
			for _, e := range entries {
				if bytes.Equal(e, got) {
					return true
				}
			}
			return false
		}
		var wg, readers sync.WaitGroup
		done := make(chan struct{})
		for range 2 {
			readers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					got, found, err := b.Get(ctx, k)
					if !assert.NoError(t, err) || found && !assert.True(t, isWhole(got), "a reader saw part of an entry (%d bytes)", len(got)) {
						return
					}
				}
			})
		}
		for round := range 4 {
			for i := range entries {
				wg.Go(func() { assert.NoError(t, b.Put(ctx, k, entries[(i+round)%len(entries)])) })
			}
			wg.Wait()
		}
		close(done)
		readers.Wait()
		got, found, err := b.Get(ctx, k)
		require.NoError(t, err)
		require.True(t, found)
		assert.True(t, isWhole(got), "the entry read last is one writer's, whole")
	})
	t.Run("a cancelled context fails", func(t *testing.T) {
		b := newBackend(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := b.Get(cctx, key(t, "x"))
		assert.Error(t, err)
	})
}
