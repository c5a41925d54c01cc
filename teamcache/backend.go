// Package teamcache is the team's shared cache on storage a team already
// runs (issue 16, in progress): one small Backend interface, a backend per
// subpackage (filestore so far), one conformance suite every backend runs
// (backendtest), the envelope every entry is stored in (a checksum and,
// with a team key, a signature, both bound to the entry's key), and the
// parsing of remote_storage's ccache-style specifications. Nothing here is
// wired into compiles yet.
package teamcache

import "context"

// Backend stores entries by key. Keys are lowercase hex digests; entries
// are opaque bytes (sealed envelopes). Implementations are safe for
// concurrent use, by several processes and machines at once.
type Backend interface {
	// Get returns the entry stored under key; found is false when there
	// is none. An error is a failure of the storage, never a miss.
	Get(ctx context.Context, key string) (entry []byte, found bool, err error)
	// Put stores entry under key, replacing any entry there; a reader
	// sees the old entry or the new one whole, never a part.
	Put(ctx context.Context, key string, entry []byte) error
}
