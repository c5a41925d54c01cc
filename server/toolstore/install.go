package toolstore

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dcc-build/dcc/protocol"
)

// Install lays out an offer whose files the store keeps all of (Missing
// returned none) as a bundle's tree, tries it with try (which runs the
// driver in the sandbox: a tree that does not run is not kept), and keeps
// it. A bundle held already is returned as it is; concurrent installs of
// one bundle lay it out once.
func (s *Store) Install(o *protocol.ToolchainOffer, try func(*Bundle) error) (*Bundle, error) {
	if err := Validate(o, s.opts.Private, s.opts.MaxBytes); err != nil {
		return nil, err
	}
	digest := o.BundleDigest()
	s.mu.Lock()
	if b, ok := s.bundles[digest]; ok {
		s.mu.Unlock()
		return b, nil
	}
	var bytes int64
	counted := map[[32]byte]bool{}
	for _, f := range o.Files {
		if !isFile(f.Kind) {
			continue
		}
		if size, ok := s.blobs[f.Digest]; !ok || size != f.Size {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: file %s was not sent", ErrMissing, f.Path)
		}
		if !counted[f.Digest] {
			counted[f.Digest] = true
			bytes += f.Size
		}
	}
	s.mu.Unlock()

	roots := filepath.Join(s.dir, "roots")
	tmp, err := os.MkdirTemp(roots, digest+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("toolchain store: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("toolchain store: %w", err)
	}
	if err := s.layOut(tmp, o); err != nil {
		return nil, err
	}
	b := &Bundle{Digest: digest, Offer: *o, Root: tmp, Bytes: bytes, lastUse: time.Now()}
	if err := try(b); err != nil {
		return nil, err
	}
	data, err := json.Marshal(meta{Offer: *o, Bytes: bytes})
	if err != nil {
		return nil, fmt.Errorf("toolchain store: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if held, ok := s.bundles[digest]; ok {
		return held, nil // another install of it finished first
	}
	b.Root = filepath.Join(roots, digest)
	if err := os.Rename(tmp, b.Root); err != nil {
		return nil, fmt.Errorf("toolchain store: %w", err)
	}
	if err := os.WriteFile(b.Root+".json", data, 0o644); err != nil {
		os.RemoveAll(b.Root)
		return nil, fmt.Errorf("toolchain store: %w", err)
	}
	s.bundles[digest] = b
	s.log.Info("shipped toolchain kept", "bundle", digest[:12], "driver", o.Driver, "version", o.Info.Version,
		"files", len(o.Files), "bytes", bytes)
	return b, nil
}

// ErrMissing is an install whose files were not all sent.
var ErrMissing = fmt.Errorf("toolchain store: bundle incomplete")

// layOut makes the offer's tree under root: directories, then files (hard
// links to the blobs), then symlinks, so that nothing is ever written
// through a link (Validate: no entry is below a link of the bundle).
func (s *Store) layOut(root string, o *protocol.ToolchainOffer) error {
	files := slices.Clone(o.Files)
	order := func(k uint8) int {
		switch k {
		case protocol.BundleDir:
			return 0
		case protocol.BundleSymlink:
			return 2
		}
		return 1
	}
	slices.SortStableFunc(files, func(a, b protocol.BundleFile) int {
		if d := order(a.Kind) - order(b.Kind); d != 0 {
			return d
		}
		return strings.Compare(a.Path, b.Path)
	})
	for _, f := range files {
		dst := root + f.Path
		var err error
		switch f.Kind {
		case protocol.BundleDir:
			err = os.MkdirAll(dst, 0o755)
		case protocol.BundleSymlink:
			if err = os.MkdirAll(root+path.Dir(f.Path), 0o755); err == nil {
				err = os.Symlink(f.Link, dst)
			}
		default:
			if err = os.MkdirAll(root+path.Dir(f.Path), 0o755); err == nil {
				err = os.Link(s.blobPath(f.Digest), dst)
			}
		}
		if err != nil {
			return fmt.Errorf("toolchain store: lay out %s: %w", f.Path, err)
		}
	}
	return nil
}
