package toolstore

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dcc-build/dcc/protocol"
)

// Put stores one chunk of a file being shipped. Chunks come in order: the
// first (offset 0) makes room for the whole file, removing least recently
// used bundles no job uses; the last checks the file against its digest
// and keeps it. complete reports that the store keeps the whole file (now,
// or already). A chunk out of order is ErrBusy when another upload of the
// file is under way, else an *InvalidError.
func (s *Store) Put(b *protocol.ToolchainBlob) (complete bool, err error) {
	if b.Size < 0 || b.Size > min(s.opts.MaxBytes, protocol.MaxBundleBytes) {
		return false, invalid("a file of %d bytes refused: this host keeps at most %d bytes of shipped toolchains", b.Size, s.opts.MaxBytes)
	}
	if b.Offset < 0 || b.Offset+int64(len(b.Data)) > b.Size {
		return false, invalid("chunk at offset %d of %d bytes is past the file's %d bytes", b.Offset, len(b.Data), b.Size)
	}
	s.mu.Lock()
	if size, ok := s.blobs[b.Digest]; ok && size == b.Size {
		s.mu.Unlock()
		return true, nil
	}
	up := s.partial[b.Digest]
	now := time.Now()
	switch {
	case up != nil && up.written == b.Offset:
	case b.Offset == 0 && (up == nil || now.Sub(up.touched) > staleUpload):
		if up != nil {
			s.dropUpload(b.Digest) // stalled: start again
		}
		if err := s.makeRoom(b.Size); err != nil {
			s.mu.Unlock()
			return false, err
		}
		up = &upload{size: b.Size}
		s.partial[b.Digest] = up
		s.used += b.Size
	case up != nil:
		s.mu.Unlock()
		return false, ErrBusy
	default:
		s.mu.Unlock()
		return false, invalid("chunk at offset %d of a file not being received", b.Offset)
	}
	up.touched = now
	// The upload is this caller's until it moves written on: a second
	// chunk at the same offset is refused below.
	up.written = -1
	s.mu.Unlock()

	err = s.write(b)
	end := b.Offset + int64(len(b.Data))
	if err == nil && end == b.Size {
		err = s.check(b.Digest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.dropUpload(b.Digest)
		return false, err
	}
	if end < b.Size {
		up.written, up.touched = end, time.Now()
		return false, nil
	}
	delete(s.partial, b.Digest)
	if err := os.Rename(s.partialPath(b.Digest), s.blobPath(b.Digest)); err != nil {
		s.used -= b.Size
		return false, fmt.Errorf("toolchain store: %w", err)
	}
	s.blobs[b.Digest] = b.Size
	return true, nil
}

// write writes a chunk into the file being received.
func (s *Store) write(b *protocol.ToolchainBlob) error {
	p := s.partialPath(b.Digest)
	flags := os.O_WRONLY | os.O_CREATE
	if b.Offset == 0 {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(p, flags, 0o600)
	if err != nil {
		return fmt.Errorf("toolchain store: %w", err)
	}
	if _, err := f.WriteAt(b.Data, b.Offset); err != nil {
		f.Close()
		return fmt.Errorf("toolchain store: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("toolchain store: %w", err)
	}
	return nil
}

// check checks the received file against digest and makes it read-only.
func (s *Store) check(digest [32]byte) error {
	p := s.partialPath(digest)
	got, err := hashFile(p)
	if err != nil {
		return fmt.Errorf("toolchain store: %w", err)
	}
	if got != digest {
		return invalid("the file sent as %s has digest %s", hex.EncodeToString(digest[:8]), hex.EncodeToString(got[:8]))
	}
	if err := os.Chmod(p, 0o555); err != nil {
		return fmt.Errorf("toolchain store: %w", err)
	}
	return nil
}

// dropUpload forgets an upload and its file. s.mu is held.
func (s *Store) dropUpload(d [32]byte) {
	if up, ok := s.partial[d]; ok {
		s.used -= up.size
		delete(s.partial, d)
	}
	os.Remove(s.partialPath(d))
}

func (s *Store) partialPath(d [32]byte) string {
	return filepath.Join(s.dir, "partial", hex.EncodeToString(d[:]))
}

// makeRoom removes least recently used bundles no job uses, and files
// only they used, until need more bytes fit; uploads that stalled are
// dropped first. s.mu is held.
func (s *Store) makeRoom(need int64) error {
	now := time.Now()
	for d, up := range s.partial {
		if up.written >= 0 && now.Sub(up.touched) > staleUpload {
			s.dropUpload(d)
		}
	}
	if s.used+need <= s.opts.MaxBytes {
		return nil
	}
	s.dropOrphans(now)
	if s.used+need <= s.opts.MaxBytes {
		return nil
	}
	var idle []*Bundle
	for _, b := range s.bundles {
		if b.inUse == 0 {
			idle = append(idle, b)
		}
	}
	slices.SortFunc(idle, func(a, b *Bundle) int { return a.lastUse.Compare(b.lastUse) })
	for _, b := range idle {
		if s.used+need <= s.opts.MaxBytes {
			break
		}
		s.evict(b)
	}
	if s.used+need > s.opts.MaxBytes {
		return fmt.Errorf("%w: %d bytes more would pass the %d bytes this host keeps for shipped toolchains, and the rest is in use",
			ErrFull, need, s.opts.MaxBytes)
	}
	return nil
}

// orphanAge is how long a file no bundle uses is kept: a client sends a
// bundle's files and then offers it again to have it laid out.
const orphanAge = 10 * time.Minute

// dropOrphans removes the files no bundle uses that were received more
// than orphanAge ago (a client that stopped before its bundle was laid
// out). s.mu is held.
func (s *Store) dropOrphans(now time.Time) {
	used := map[[32]byte]bool{}
	for _, b := range s.bundles {
		for _, f := range b.Offer.Files {
			used[f.Digest] = true
		}
	}
	for d, size := range s.blobs {
		if used[d] {
			continue
		}
		info, err := os.Stat(s.blobPath(d))
		if err == nil && now.Sub(info.ModTime()) < orphanAge {
			continue
		}
		os.Remove(s.blobPath(d))
		delete(s.blobs, d)
		s.used -= size
	}
}

// ErrFull is a store that cannot make room: what it holds is in use.
var ErrFull = fmt.Errorf("toolchain store full")

// evict removes bundle b and the files no other bundle uses. s.mu is held;
// the Evicted callback runs in a goroutine of its own.
func (s *Store) evict(b *Bundle) {
	delete(s.bundles, b.Digest)
	s.removeBundleFiles(b.Digest)
	used := map[[32]byte]bool{}
	for _, o := range s.bundles {
		for _, f := range o.Offer.Files {
			used[f.Digest] = true
		}
	}
	for _, f := range b.Offer.Files {
		if size, ok := s.blobs[f.Digest]; ok && !used[f.Digest] && isFile(f.Kind) {
			os.Remove(s.blobPath(f.Digest))
			delete(s.blobs, f.Digest)
			s.used -= size
		}
	}
	s.log.Info("shipped toolchain removed to make room", "bundle", b.Digest[:12], "driver", b.Offer.Driver, "bytes", b.Bytes)
	if s.opts.Evicted != nil {
		go s.opts.Evicted(b)
	}
}

// removeBundleFiles removes a bundle's tree and description.
func (s *Store) removeBundleFiles(digest string) {
	os.Remove(filepath.Join(s.dir, "roots", digest+".json"))
	if err := os.RemoveAll(filepath.Join(s.dir, "roots", digest)); err != nil {
		s.log.Warn("removing a shipped toolchain's tree", "bundle", digest, "err", err)
	}
}
