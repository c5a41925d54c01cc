package toolstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"

	"github.com/dcc-build/dcc/protocol"
)

// offer makes an offer of one driver program with content, under /opt/tc
// with a link /opt/tc/bin/cc -> gcc-x.
func offer(content []byte, key string) *protocol.ToolchainOffer {
	return &protocol.ToolchainOffer{
		Info:     protocol.Toolchain{Key: key, Family: "gcc", Driver: "gcc", Version: "1.0", Target: "x"},
		Driver:   "/opt/tc/bin/cc",
		PathDirs: []string{"/opt/tc/bin"},
		Files: []protocol.BundleFile{
			{Path: "/opt/tc/bin/gcc-x", Kind: protocol.BundleExec, Size: int64(len(content)), Digest: blake3.Sum256(content)},
			{Path: "/opt/tc/bin/cc", Kind: protocol.BundleSymlink, Link: "gcc-x"},
			{Path: "/opt/tc/include", Kind: protocol.BundleDir},
		},
	}
}

// send puts content in chunks of chunk bytes.
func send(t *testing.T, s *Store, content []byte, chunk int) bool {
	t.Helper()
	d := blake3.Sum256(content)
	for off := 0; ; off += chunk {
		end := min(off+chunk, len(content))
		complete, err := s.Put(&protocol.ToolchainBlob{Digest: d, Size: int64(len(content)), Offset: int64(off), Data: content[off:end]})
		require.NoError(t, err)
		if complete || end == len(content) {
			return complete
		}
	}
}

func open(t *testing.T, dir string, max int64, evicted func(*Bundle)) *Store {
	t.Helper()
	s, err := Open(dir, Options{MaxBytes: max, Private: []string{"/srv/dcc/work"}, Evicted: evicted})
	require.NoError(t, err)
	return s
}

func TestInstallLaysOutAndReloads(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 1<<20, nil)
	content := []byte("#!/bin/sh\necho compiler\n")
	o := offer(content, "k1")
	missing, err := s.Missing(o)
	require.NoError(t, err)
	require.Equal(t, [][32]byte{blake3.Sum256(content)}, missing)
	_, err = s.Install(o, func(*Bundle) error { return nil })
	require.ErrorIs(t, err, ErrMissing, "files not sent yet")

	assert.True(t, send(t, s, content, 7))
	missing, err = s.Missing(o)
	require.NoError(t, err)
	assert.Empty(t, missing)
	var tried string
	b, err := s.Install(o, func(b *Bundle) error { tried = b.Root; return nil })
	require.NoError(t, err)
	assert.NotEqual(t, b.Root, tried, "tried in a tree of its own before it is kept")
	assert.Equal(t, o.BundleDigest(), b.Digest)
	got, err := os.ReadFile(filepath.Join(b.Root, "opt/tc/bin/cc"))
	require.NoError(t, err)
	assert.Equal(t, content, got)
	link, err := os.Readlink(filepath.Join(b.Root, "opt/tc/bin/cc"))
	require.NoError(t, err)
	assert.Equal(t, "gcc-x", link)
	info, err := os.Stat(filepath.Join(b.Root, "opt/tc/include"))
	require.NoError(t, err)
	assert.True(t, info.IsDir())

	// A store opened again holds it.
	again := open(t, dir, 1<<20, nil)
	held, ok := again.Held(b.Digest)
	require.True(t, ok)
	assert.Equal(t, b.Root, held.Root)
	assert.Equal(t, int64(len(content)), held.Bytes)
}

func TestTryFailureKeepsNothing(t *testing.T) {
	s := open(t, t.TempDir(), 1<<20, nil)
	content := []byte("not a compiler")
	o := offer(content, "k1")
	send(t, s, content, 100)
	_, err := s.Install(o, func(*Bundle) error { return errors.New("does not run") })
	require.Error(t, err)
	_, ok := s.Held(o.BundleDigest())
	assert.False(t, ok)
	entries, _ := os.ReadDir(filepath.Join(s.dir, "roots"))
	assert.Empty(t, entries, "no tree left behind")
}

func TestPutRefusesForgedAndDisorderedChunks(t *testing.T) {
	s := open(t, t.TempDir(), 1<<20, nil)
	content := []byte("the real content of a file")
	d := blake3.Sum256(content)
	_, err := s.Put(&protocol.ToolchainBlob{Digest: d, Size: int64(len(content)), Offset: 5, Data: content[5:]})
	var inv *InvalidError
	require.ErrorAs(t, err, &inv, "a chunk of a file not being received")

	forged := []byte("forged content of same size")[:len(content)]
	_, err = s.Put(&protocol.ToolchainBlob{Digest: d, Size: int64(len(forged)), Data: forged})
	require.ErrorAs(t, err, &inv, "content that is not its digest's")
	assert.Contains(t, err.Error(), "has digest")
	missing, err := s.Missing(offer(content, "k"))
	require.NoError(t, err)
	assert.Len(t, missing, 1, "the forged file is not kept")
	assert.Zero(t, s.used, "nothing counted for it")

	_, err = s.Put(&protocol.ToolchainBlob{Digest: d, Size: 1 << 30, Data: content})
	require.ErrorAs(t, err, &inv, "a file larger than the store")

	// Two uploads of one file: the second waits for the first.
	_, err = s.Put(&protocol.ToolchainBlob{Digest: d, Size: int64(len(content)), Data: content[:4]})
	require.NoError(t, err)
	_, err = s.Put(&protocol.ToolchainBlob{Digest: d, Size: int64(len(content)), Data: content[:4]})
	require.ErrorIs(t, err, ErrBusy)
	complete, err := s.Put(&protocol.ToolchainBlob{Digest: d, Size: int64(len(content)), Offset: 4, Data: content[4:]})
	require.NoError(t, err)
	assert.True(t, complete)
}

func TestEvictsLeastRecentlyUsedBundlesNotInUse(t *testing.T) {
	var evicted []string
	s := open(t, t.TempDir(), 100, func(b *Bundle) { evicted = append(evicted, b.Digest) })
	a := []byte(string(make([]byte, 40)) + "a")
	b := []byte(string(make([]byte, 40)) + "b")
	c := []byte(string(make([]byte, 40)) + "c")
	install := func(content []byte, key string) *Bundle {
		send(t, s, content, 16)
		bundle, err := s.Install(offer(content, key), func(*Bundle) error { return nil })
		require.NoError(t, err)
		return bundle
	}
	ba := install(a, "ka")
	bb := install(b, "kb")
	inUse, ok := s.Acquire(ba.Digest)
	require.True(t, ok)
	// c needs room: b goes (a is in use).
	bc := install(c, "kc")
	_, ok = s.Held(bb.Digest)
	assert.False(t, ok, "b was removed")
	_, ok = s.Held(ba.Digest)
	assert.True(t, ok, "a, in use, was kept")
	_, err := os.Stat(bb.Root)
	assert.True(t, os.IsNotExist(err), "b's tree is gone")
	_, err = os.Stat(s.blobPath(blake3.Sum256(b)))
	assert.True(t, os.IsNotExist(err), "b's file is gone")
	assert.LessOrEqual(t, s.used, int64(100))
	s.Release(inUse)

	// With everything in use, no room: refused as full.
	_, ok = s.Acquire(ba.Digest)
	require.True(t, ok)
	_, ok = s.Acquire(bc.Digest)
	require.True(t, ok)
	d := []byte(string(make([]byte, 40)) + "d")
	_, err = s.Put(&protocol.ToolchainBlob{Digest: blake3.Sum256(d), Size: int64(len(d)), Data: d})
	require.ErrorIs(t, err, ErrFull)
}

func TestValidateRefusals(t *testing.T) {
	content := []byte("x")
	base := func() *protocol.ToolchainOffer { return offer(content, "k") }
	tests := []struct {
		name   string
		change func(o *protocol.ToolchainOffer)
		want   string
	}{
		{"unclean path", func(o *protocol.ToolchainOffer) { o.Files[0].Path = "/opt/tc/../etc/passwd" }, "clean path"},
		{"relative path", func(o *protocol.ToolchainOffer) { o.Files[0].Path = "opt/tc/x" }, "clean path"},
		{"twice", func(o *protocol.ToolchainOffer) { o.Files[2].Path = o.Files[0].Path }, "given twice"},
		{"proc", func(o *protocol.ToolchainOffer) { o.Files[2].Path = "/proc/self" }, "mounts its own /proc"},
		{"tmp", func(o *protocol.ToolchainOffer) { o.Files[2].Path = "/tmp/x" }, "mounts its own /tmp"},
		{"host's directory", func(o *protocol.ToolchainOffer) { o.Files[2].Path = "/srv/tools" }, "this host's own directory"},
		{"below a link", func(o *protocol.ToolchainOffer) {
			o.Files = append(o.Files, protocol.BundleFile{Path: "/opt/tc/bin/cc/evil", Kind: protocol.BundleRegular})
		}, "not a directory of the bundle"},
		{"below a link to the host", func(o *protocol.ToolchainOffer) {
			o.Files = append(o.Files, protocol.BundleFile{Path: "/opt/up", Kind: protocol.BundleSymlink, Link: "/etc"},
				protocol.BundleFile{Path: "/opt/up/passwd", Kind: protocol.BundleRegular})
		}, "not a directory of the bundle"},
		{"top-level file", func(o *protocol.ToolchainOffer) {
			o.Files = append(o.Files, protocol.BundleFile{Path: "/evil", Kind: protocol.BundleRegular})
		}, "top of the file system"},
		{"bad kind", func(o *protocol.ToolchainOffer) { o.Files[2].Kind = 9 }, "kind 9"},
		{"driver not in it", func(o *protocol.ToolchainOffer) { o.Driver = "/usr/bin/gcc" }, "driver"},
		{"family", func(o *protocol.ToolchainOffer) { o.Info.Family = "msvc" }, "family"},
		{"too large", func(o *protocol.ToolchainOffer) { o.Files[0].Size = 1 << 40 }, "size"},
		{"PATH", func(o *protocol.ToolchainOffer) { o.PathDirs = []string{"bin"} }, "PATH directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			require.NoError(t, Validate(o, []string{"/srv/dcc/work"}, 1<<20))
			tt.change(o)
			err := Validate(o, []string{"/srv/dcc/work"}, 1<<20)
			var inv *InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestOrphanFilesGoWhenRoomIsNeeded: files sent for a bundle that was never
// laid out (the client stopped) are removed when room is needed, once
// they are old enough; recent ones are kept for the install to come.
func TestOrphanFilesGoWhenRoomIsNeeded(t *testing.T) {
	s := open(t, t.TempDir(), 100, nil)
	old := []byte(string(make([]byte, 60)) + "old")
	send(t, s, old, 64)
	require.NoError(t, os.Chtimes(s.blobPath(blake3.Sum256(old)), time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)))
	recent := []byte(string(make([]byte, 30)) + "recent")
	send(t, s, recent, 64)
	// 63 + 36 bytes kept: a new 50-byte file needs the old orphan's room.
	fresh := []byte(string(make([]byte, 50)) + "new")
	assert.True(t, send(t, s, fresh, 64))
	_, err := os.Stat(s.blobPath(blake3.Sum256(old)))
	assert.True(t, os.IsNotExist(err), "the old orphan is gone")
	_, err = os.Stat(s.blobPath(blake3.Sum256(recent)))
	assert.NoError(t, err, "the recent one is kept")
	assert.Equal(t, int64(len(recent)+len(fresh)), s.used)
}

func TestRemoveIfEmptyKeepsWhatWasShipped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "toolchains")
	s := open(t, dir, 1<<20, nil)
	assert.True(t, s.RemoveIfEmpty(), "a store that was shipped nothing goes")
	assert.NoDirExists(t, dir)

	s = open(t, dir, 1<<20, nil)
	content := []byte("#!/bin/sh\necho compiler\n")
	send(t, s, content, 5)
	assert.False(t, s.RemoveIfEmpty(), "a file received is kept")
	_, err := s.Install(offer(content, "k1"), func(*Bundle) error { return nil })
	require.NoError(t, err)
	assert.False(t, s.RemoveIfEmpty(), "a bundle is kept")
	assert.NotEmpty(t, open(t, dir, 1<<20, nil).Bundles())
}
