package protocol

import (
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/zeebo/blake3"
)

// Shipping a toolchain. A client whose compiler a host lacks offers it
// (ToolchainOffer): the compiler's files, each by its BLAKE3 digest, laid
// out at their paths on the client. The host answers with the digests it
// does not keep; the client sends each in chunks (ToolchainBlob) and offers
// again; the host then lays the bundle out, tries it in its sandbox and
// serves it as a Toolchain whose Bundle is the bundle's digest, which jobs
// name (CompileRequest.Bundle).

// Limits of shipping.
const (
	// MaxBundleFiles bounds the entries of a ToolchainOffer.
	MaxBundleFiles = 16384
	// MaxBlobChunk bounds the data of one ToolchainBlob.
	MaxBlobChunk = 8 << 20
	// MaxBundleBytes bounds the bytes of a bundle's files.
	MaxBundleBytes = 4 << 30
)

// Kinds of BundleFile.
const (
	BundleRegular = 1 // a regular file, by digest
	BundleExec    = 2 // an executable regular file, by digest
	BundleSymlink = 3 // a symbolic link to Link
	BundleDir     = 4 // a directory (that may stay empty)
)

// BundleFile is one entry of a shipped toolchain, at its path on the
// client. No entry's parent is a symlink of the bundle: a path through a
// link is sent as the link and the path it leads to.
type BundleFile struct {
	Path   string // absolute and clean
	Kind   uint8  // one of the Bundle* kinds
	Size   int64  // bytes of a regular file
	Digest [32]byte
	Link   string // the target of a symlink, as the link holds it
}

// ToolchainOffer offers a host a toolchain it lacks.
type ToolchainOffer struct {
	// Info is the toolchain as the client probed it (Bundle unset).
	Info Toolchain
	// Driver is the path the client runs the compiler as: an entry.
	Driver string
	// PathDirs is the PATH the compiler finds its programs through (gcc
	// runs "as" from PATH).
	PathDirs []string
	// Files are the bundle's entries.
	Files []BundleFile
}

// Type returns MsgToolchainOffer.
func (*ToolchainOffer) Type() MsgType { return MsgToolchainOffer }

func (m *ToolchainOffer) encode(e *encoder) {
	m.Info.encode(e)
	e.string("driver", m.Driver)
	encodeStrings(e, "path dirs", m.PathDirs, MaxListLen)
	if e.count("bundle files", len(m.Files), MaxBundleFiles) {
		for _, f := range m.Files {
			e.string("bundle path", f.Path)
			e.uvarint(uint64(f.Kind))
			e.varint(f.Size)
			e.raw(f.Digest[:])
			e.string("bundle link", f.Link)
		}
	}
}

func (m *ToolchainOffer) decode(d *decoder) error {
	m.Info.decode(d)
	m.Driver = d.string("driver")
	m.PathDirs = decodeStrings(d, "path dirs", MaxListLen)
	if n := d.count("bundle files", MaxBundleFiles, 36); n > 0 {
		m.Files = make([]BundleFile, n)
		for i := range m.Files {
			f := &m.Files[i]
			f.Path = d.string("bundle path")
			f.Kind = uint8(min(d.uvarint("bundle kind"), 255))
			f.Size = d.varint("bundle size")
			d.fixed("bundle digest", f.Digest[:])
			f.Link = d.string("bundle link")
		}
	}
	return d.err
}

// BundleDigest is the hex BLAKE3 digest of everything the offer lays out
// and runs: the toolchain's description, the driver, PATH and every entry,
// in path order. Client and host compute it each on their own.
func (m *ToolchainOffer) BundleDigest() string {
	h := blake3.New()
	field := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.WriteString(s)
	}
	field("dcc-bundle-v1")
	for _, s := range []string{m.Info.Key, m.Info.Family, m.Info.Driver, m.Info.Version, m.Info.Target, m.Driver, strings.Join(m.PathDirs, ":")} {
		field(s)
	}
	files := slices.Clone(m.Files)
	slices.SortFunc(files, func(a, b BundleFile) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range files {
		field(f.Path)
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(f.Kind))])
		h.Write(n[:binary.PutVarint(n[:], f.Size)])
		h.Write(f.Digest[:])
		field(f.Link)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ToolchainOfferResult answers a ToolchainOffer: the digests the host
// needs, or the toolchain it now serves.
type ToolchainOfferResult struct {
	// Missing are the digests of files to send (ToolchainBlob) before
	// offering again.
	Missing [][32]byte
	// Installed is the toolchain served, when Missing is empty.
	Installed Toolchain
}

// Type returns MsgToolchainOfferResult.
func (*ToolchainOfferResult) Type() MsgType { return MsgToolchainOfferResult }

func (m *ToolchainOfferResult) encode(e *encoder) {
	if e.count("missing", len(m.Missing), MaxBundleFiles) {
		for _, d := range m.Missing {
			e.raw(d[:])
		}
	}
	m.Installed.encode(e)
}

func (m *ToolchainOfferResult) decode(d *decoder) error {
	if n := d.count("missing", MaxBundleFiles, 32); n > 0 {
		m.Missing = make([][32]byte, n)
		for i := range m.Missing {
			d.fixed("missing digest", m.Missing[i][:])
		}
	}
	m.Installed.decode(d)
	return d.err
}

// ToolchainBlob is one chunk of a file of a shipped toolchain: Data at
// Offset of the file of Size bytes whose digest is Digest. Chunks go in
// order; the host checks the digest when the last one arrives.
type ToolchainBlob struct {
	Digest [32]byte
	Size   int64
	Offset int64
	Data   []byte
}

// Type returns MsgToolchainBlob.
func (*ToolchainBlob) Type() MsgType { return MsgToolchainBlob }

func (m *ToolchainBlob) encode(e *encoder) {
	e.raw(m.Digest[:])
	e.varint(m.Size)
	e.varint(m.Offset)
	e.bytes(m.Data)
}

func (m *ToolchainBlob) decode(d *decoder) error {
	d.fixed("blob digest", m.Digest[:])
	m.Size = d.varint("blob size")
	m.Offset = d.varint("blob offset")
	m.Data = d.bytes("blob data")
	return d.err
}

// ToolchainBlobResult answers a ToolchainBlob.
type ToolchainBlobResult struct {
	// Complete: the host keeps the whole file (this chunk was its last,
	// or another client sent it first); send no more of it.
	Complete bool
}

// Type returns MsgToolchainBlobResult.
func (*ToolchainBlobResult) Type() MsgType { return MsgToolchainBlobResult }

func (m *ToolchainBlobResult) encode(e *encoder) { e.bool(m.Complete) }

func (m *ToolchainBlobResult) decode(d *decoder) error {
	m.Complete = d.bool("complete")
	return d.err
}
