package storages

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/remote"
	"github.com/dcc-build/dcc/teamcache"
)

// DccNamespace is the namespace (project) of a dcc-server's shared cache
// that remote storage entries go to: "dcc clean --remote" with
// DCC_PROJECT=remote-storage cleans them.
const DccNamespace = "remote-storage"

// dccStore is a dcc-server's shared cache as a storage (dcc://HOST:PORT),
// reached through a pool of that one host.
type dccStore struct {
	pool *remote.Pool
}

// newDccStore opens dcc://HOST[:PORT], which must be one of the configured
// hosts.
func newDccStore(spec teamcache.Spec, opts Options) (*dccStore, error) {
	addr := spec.URL.Host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, strconv.Itoa(config.DefaultPort))
	}
	for _, h := range opts.Hosts {
		if h.Connect == addr {
			return &dccStore{pool: remote.NewPool([]config.Host{h}, remote.Options{Logger: opts.Logger})}, nil
		}
	}
	return nil, fmt.Errorf("%s is not one of the configured hosts (its token and fingerprint come from its [[hosts]] entry)", addr)
}

// Get reads key from the host's shared cache.
func (s *dccStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return s.pool.CacheLookup(ctx, DccNamespace, key)
}

// Put writes key to the host's shared cache.
func (s *dccStore) Put(ctx context.Context, key string, entry []byte) error {
	return s.pool.CacheStore(ctx, DccNamespace, key, entry)
}

// Close closes the connection to the host.
func (s *dccStore) Close() error { return s.pool.Close() }
