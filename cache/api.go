// Package cache defines dcc's local result cache: keys, entries (every output
// file of a compile plus its stdout, stderr and exit code), direct-mode
// manifests, the Store contract, and the statistics counters. The Badger
// backend is in cache/badgerstore; this package stays light so that the
// wrapper, which starts once per compile, does not link a database.
package cache

import (
	"encoding/hex"
	"errors"
)

// Key is a cache key: a BLAKE3-256 digest computed by the caller over a
// version prefix and everything the result depends on.
type Key [32]byte

// String returns the key in hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// Digest is the BLAKE3-256 digest of a file's content.
type Digest [32]byte

// Errors callers test with errors.Is.
var (
	// ErrNotFound: no entry under that key (a miss).
	ErrNotFound = errors.New("cache: not found")
	// ErrCorrupt: the stored value failed its checksum or did not decode. The
	// store has already removed it and counted it; the caller treats it as a miss.
	ErrCorrupt = errors.New("cache: damaged entry")
	// ErrTooLarge: a value larger than the store accepts; nothing was written.
	ErrTooLarge = errors.New("cache: entry too large")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("cache: closed")
)

// ObjectFile is the Files key of an entry's object file.
const ObjectFile = "object"

// ReadListFile is the Files key, in a shared-cache entry of a unit compiled
// from its sources, of the files the compile read (one per line, as the
// client names them): the client writes its dependency file and manifest
// from it.
const ReadListFile = "read-list"

// Entry is the result of one successful compile.
type Entry struct {
	// Files maps an output kind ("object", "deps", "dwo", "gcno", "su") to the
	// file's content.
	Files map[string][]byte
	// Stdout and Stderr are the compiler's output, replayed on a hit.
	Stdout, Stderr []byte
	// ExitCode is the compiler's exit code (0: failed compiles are not cached).
	ExitCode int
}

// FileDigest is one file a compile read, with its content digest.
type FileDigest struct {
	Path   string
	Digest Digest
}

// ManifestResult is one way a direct-mode lookup can hit: when every file in
// Files still has its digest and no path in Absent exists, Result is the key of
// the entry to use.
type ManifestResult struct {
	Files  []FileDigest
	Absent []string
	Result Key
}

// Manifest lists the results recorded under one direct-mode key, newest first.
type Manifest struct {
	Results []ManifestResult
}

// Store is the cache database. All methods are safe for concurrent use. One
// process at a time may open a directory (the daemon).
type Store interface {
	// GetEntry returns the entry under k, and counts it as used now for
	// eviction. A missing entry is ErrNotFound; a damaged one is removed and
	// returned as ErrCorrupt.
	GetEntry(k Key) (Entry, error)
	// PutEntry stores e under k, replacing any earlier value atomically:
	// a concurrent reader sees the old entry or the new one, never a mix.
	PutEntry(k Key, e Entry) error
	// GetManifest returns the manifest under k (ErrNotFound, ErrCorrupt as GetEntry).
	GetManifest(k Key) (Manifest, error)
	// AddManifestResult puts r first in the manifest under k, dropping an
	// older result with the same files and keeping at most a bounded number,
	// in one transaction.
	AddManifestResult(k Key, r ManifestResult) error
	// Usage reports the bytes stored and the number of entries.
	Usage() (bytes int64, entries int64)
	// Clear removes every entry and manifest.
	Clear() error
	// Close flushes and closes the database.
	Close() error
}
