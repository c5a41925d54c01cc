// Package toolstore keeps the toolchains clients ship to a dcc-server host:
// their files by BLAKE3 digest (the digest the source files sent with jobs
// are named by), each bundle laid out once as a file tree of its own (hard
// links to the files) that the host's sandbox shows in place of the host's
// /usr, and least recently used bundles removed past a size bound.
//
// Layout under the store's directory:
//
//	blobs/<hex>      a file, checked against its digest, read-only
//	partial/<hex>    a file being received
//	roots/<hex>/     a bundle's tree (hex is its BundleDigest)
//	roots/<hex>.json the bundle's offer, its size; its mtime is its last use
package toolstore

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/zeebo/blake3"
)

// Bundle is a toolchain the store holds, laid out.
type Bundle struct {
	// Digest is the bundle's BundleDigest.
	Digest string
	// Offer is what the client offered.
	Offer protocol.ToolchainOffer
	// Root is the directory holding the bundle's tree.
	Root string
	// Bytes are the bytes of its files.
	Bytes int64

	lastUse time.Time
	inUse   int
}

// Options configure a Store.
type Options struct {
	// MaxBytes bounds the bytes of the files kept.
	MaxBytes int64
	// Private are the host's own directories a bundle may not cover.
	Private []string
	// Evicted is called (without the store's lock) for each bundle
	// removed to make room.
	Evicted func(*Bundle)
	// Logger receives the store's log.
	Logger *slog.Logger
}

// Store keeps shipped toolchains. It is safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	bundles map[string]*Bundle
	// blobs are the sizes of the files kept, by digest.
	blobs map[[32]byte]int64
	// partial are the files being received: bytes written so far.
	partial map[[32]byte]*upload
	used    int64
}

// upload is a file being received.
type upload struct {
	// size is the file's size, counted in the store's bytes.
	size    int64
	written int64
	touched time.Time
}

// staleUpload is how long an upload that receives nothing keeps its file.
const staleUpload = 30 * time.Second

// Open opens (or makes) the store in dir, keeping the bundles laid out
// there whose files are all present and removing what no bundle uses.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Store{dir: dir, opts: opts, log: opts.Logger, bundles: map[string]*Bundle{},
		blobs: map[[32]byte]int64{}, partial: map[[32]byte]*upload{}}
	for _, d := range []string{"blobs", "roots"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("toolchain store: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, "partial")); err != nil {
		return nil, fmt.Errorf("toolchain store: %w", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "partial"), 0o700); err != nil {
		return nil, fmt.Errorf("toolchain store: %w", err)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// load reads the blobs and bundles kept, dropping bundles that lack a file
// and blobs no bundle uses.
func (s *Store) load() error {
	entries, err := os.ReadDir(filepath.Join(s.dir, "blobs"))
	if err != nil {
		return fmt.Errorf("toolchain store: %w", err)
	}
	for _, e := range entries {
		d, ok := parseDigest(e.Name())
		info, err := e.Info()
		if !ok || err != nil || !info.Mode().IsRegular() {
			os.RemoveAll(filepath.Join(s.dir, "blobs", e.Name()))
			continue
		}
		s.blobs[d] = info.Size()
	}
	roots, err := os.ReadDir(filepath.Join(s.dir, "roots"))
	if err != nil {
		return fmt.Errorf("toolchain store: %w", err)
	}
	used := map[[32]byte]bool{}
	for _, e := range roots {
		name := e.Name()
		digest, isMeta := strings.CutSuffix(name, ".json")
		if !isMeta {
			if _, err := os.Stat(filepath.Join(s.dir, "roots", name+".json")); err != nil {
				os.RemoveAll(filepath.Join(s.dir, "roots", name)) // half laid out
			}
			continue
		}
		b, err := s.loadBundle(digest)
		if err != nil {
			s.log.Warn("a shipped toolchain is dropped", "bundle", digest, "err", err)
			s.removeBundleFiles(digest)
			continue
		}
		s.bundles[digest] = b
		for _, f := range b.Offer.Files {
			used[f.Digest] = true
		}
	}
	for d, size := range s.blobs {
		if !used[d] {
			os.Remove(s.blobPath(d))
			delete(s.blobs, d)
			continue
		}
		s.used += size
	}
	return nil
}

// meta is a bundle's description on disk.
type meta struct {
	Offer protocol.ToolchainOffer `json:"offer"`
	Bytes int64                   `json:"bytes"`
}

// loadBundle reads the bundle digest's description and checks its tree
// and files.
func (s *Store) loadBundle(digest string) (*Bundle, error) {
	metaPath := filepath.Join(s.dir, "roots", digest+".json")
	data, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", metaPath, err)
	}
	if m.Offer.BundleDigest() != digest {
		return nil, fmt.Errorf("%s describes another bundle", metaPath)
	}
	for _, f := range m.Offer.Files {
		if isFile(f.Kind) {
			if _, ok := s.blobs[f.Digest]; !ok {
				return nil, fmt.Errorf("file %s is missing", f.Path)
			}
		}
	}
	root := filepath.Join(s.dir, "roots", digest)
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("its tree %s is missing", root)
	}
	info, _ := os.Stat(metaPath)
	return &Bundle{Digest: digest, Offer: m.Offer, Root: root, Bytes: m.Bytes, lastUse: info.ModTime()}, nil
}

// Bundles returns the bundles kept, most recently used first.
func (s *Store) Bundles() []*Bundle {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Bundle
	for _, b := range s.bundles {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *Bundle) int { return b.lastUse.Compare(a.lastUse) })
	return out
}

// Acquire marks the bundle digest in use (not removed until Release) and
// used now; false when the store does not hold it.
func (s *Store) Acquire(digest string) (*Bundle, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bundles[digest]
	if !ok {
		return nil, false
	}
	b.inUse++
	if now := time.Now(); now.Sub(b.lastUse) > time.Minute {
		b.lastUse = now
		_ = os.Chtimes(filepath.Join(s.dir, "roots", digest+".json"), now, now)
	}
	return b, true
}

// Release ends a use of Acquire.
func (s *Store) Release(b *Bundle) {
	s.mu.Lock()
	b.inUse--
	s.mu.Unlock()
}

// Missing returns the digests of the offer's files the store does not
// keep, after checking the offer (Validate).
func (s *Store) Missing(o *protocol.ToolchainOffer) ([][32]byte, error) {
	if err := Validate(o, s.opts.Private, s.opts.MaxBytes); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[[32]byte]bool{}
	var missing [][32]byte
	for _, f := range o.Files {
		if !isFile(f.Kind) || seen[f.Digest] {
			continue
		}
		seen[f.Digest] = true
		if size, ok := s.blobs[f.Digest]; ok && size == f.Size {
			continue
		}
		missing = append(missing, f.Digest)
	}
	return missing, nil
}

// Held returns the bundle digest when the store holds it.
func (s *Store) Held(digest string) (*Bundle, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bundles[digest]
	return b, ok
}

func isFile(kind uint8) bool { return kind == protocol.BundleRegular || kind == protocol.BundleExec }

func (s *Store) blobPath(d [32]byte) string {
	return filepath.Join(s.dir, "blobs", hex.EncodeToString(d[:]))
}

// parseDigest reads a blob's file name.
func parseDigest(name string) ([32]byte, bool) {
	var d [32]byte
	b, err := hex.DecodeString(name)
	if err != nil || len(b) != 32 {
		return d, false
	}
	copy(d[:], b)
	return d, true
}

// ErrBusy is a chunk that another upload of the same file is ahead of.
var ErrBusy = errors.New("another client is sending this file")

// hashFile returns the BLAKE3 digest of the file at p.
func hashFile(p string) ([32]byte, error) {
	var d [32]byte
	f, err := os.Open(p)
	if err != nil {
		return d, err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return d, err
	}
	copy(d[:], h.Sum(nil))
	return d, nil
}

// RemoveIfEmpty removes the store's directory when it keeps no file and
// no upload is under way, so that a host that was never shipped anything
// leaves nothing behind when it stops. It reports whether it removed it.
func (s *Store) RemoveIfEmpty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bundles) > 0 || len(s.blobs) > 0 || len(s.partial) > 0 {
		return false
	}
	for _, d := range []string{"partial", "blobs", "roots"} {
		if err := os.Remove(filepath.Join(s.dir, d)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false
		}
	}
	return os.Remove(s.dir) == nil
}

// Dir is the directory the store keeps its files in.
func (s *Store) Dir() string { return s.dir }
