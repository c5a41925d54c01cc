package teamcache

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/zeebo/blake3"
)

// Sharded spreads entries over several servers of one storage (remote
// storage's shards attribute) by rendezvous hashing: each key goes to the
// server with the highest weighted score for it, so that every client with
// the same shards agrees, and adding or removing a server moves only the
// keys it gains or held.
type Sharded struct {
	shards []shard
}

// shard is one server of a Sharded storage.
type shard struct {
	name    string
	weight  float64
	backend Backend
}

// NewSharded returns the storage over backends, one per Shard of shards,
// in the same order.
func NewSharded(shards []Shard, backends []Backend) (*Sharded, error) {
	if len(shards) == 0 || len(shards) != len(backends) {
		return nil, fmt.Errorf("teamcache: %d shards for %d backends", len(shards), len(backends))
	}
	s := &Sharded{}
	for i, sh := range shards {
		s.shards = append(s.shards, shard{name: sh.Name, weight: sh.Weight, backend: backends[i]})
	}
	return s, nil
}

// Owner returns the name of the shard that holds key.
func (s *Sharded) Owner(key string) string { return s.owner(key).name }

// owner picks key's shard: the highest weight / -ln(u), u the shard's
// uniform hash of the key (weighted rendezvous hashing).
func (s *Sharded) owner(key string) *shard {
	best, bestScore := &s.shards[0], math.Inf(-1)
	for i := range s.shards {
		sh := &s.shards[i]
		sum := blake3.Sum256([]byte(sh.name + "\x00" + key))
		u := (float64(binary.LittleEndian.Uint64(sum[:8])>>11) + 0.5) / (1 << 53)
		score := sh.weight / -math.Log(u)
		if score > bestScore {
			best, bestScore = sh, score
		}
	}
	return best
}

// Get reads key from its shard.
func (s *Sharded) Get(ctx context.Context, key string) ([]byte, bool, error) {
	sh := s.owner(key)
	b, found, err := sh.backend.Get(ctx, key)
	if err != nil {
		return nil, false, fmt.Errorf("shard %s: %w", sh.name, err)
	}
	return b, found, nil
}

// Put writes key to its shard.
func (s *Sharded) Put(ctx context.Context, key string, entry []byte) error {
	sh := s.owner(key)
	if err := sh.backend.Put(ctx, key, entry); err != nil {
		return fmt.Errorf("shard %s: %w", sh.name, err)
	}
	return nil
}
