package badgerstore

import (
	"bytes"
	"encoding/binary"
	"github.com/dcc-build/dcc/cache"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testMaxPlain = 64 << 20

// randomBytes returns n pseudo-random bytes (incompressible).
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// textBytes returns n bytes of repetitive, compressible text.
func textBytes(n int) []byte {
	line := []byte("static inline int f(int x) { return x * 2 + 1; } /* header */\n")
	return bytes.Repeat(line, n/len(line)+1)[:n]
}

// assertEntryEqual compares entries treating nil and empty slices alike.
func assertEntryEqual(t *testing.T, want, got cache.Entry) {
	t.Helper()
	assert.Equal(t, want.ExitCode, got.ExitCode, "exit code")
	assert.True(t, bytes.Equal(want.Stdout, got.Stdout), "stdout")
	assert.True(t, bytes.Equal(want.Stderr, got.Stderr), "stderr")
	require.Len(t, got.Files, len(want.Files), "files")
	for name, data := range want.Files {
		g, ok := got.Files[name]
		require.True(t, ok, "file %q missing", name)
		assert.NotNil(t, g, "file %q", name)
		assert.True(t, bytes.Equal(data, g), "file %q: %d bytes, want %d", name, len(g), len(data))
	}
}

func entryCases() []struct {
	name string
	e    cache.Entry
} {
	return []struct {
		name string
		e    cache.Entry
	}{
		{"empty", cache.Entry{}},
		{"object only", cache.Entry{Files: map[string][]byte{"object": textBytes(3000)}}},
		{"several files and output", cache.Entry{
			Files: map[string][]byte{
				"object": randomBytes(1, 5000),
				"deps":   []byte("a.o: a.c a.h\n"),
				"dwo":    textBytes(10000),
				"su":     {},
			},
			Stdout:   []byte("out\n"),
			Stderr:   []byte("a.c:1:2: warning: unused variable 'x'\n"),
			ExitCode: 0,
		}},
		{"empty file", cache.Entry{Files: map[string][]byte{"gcno": {}}}},
		{"negative exit code", cache.Entry{ExitCode: -1, Stderr: []byte("x")}},
		{"large compressible", cache.Entry{Files: map[string][]byte{"object": textBytes(20 << 20)}}},
		{"large random", cache.Entry{Files: map[string][]byte{"object": randomBytes(2, 20<<20)}}},
	}
}

func TestEntryCodecRoundTrip(t *testing.T) {
	for _, tc := range entryCases() {
		t.Run(tc.name, func(t *testing.T) {
			v, err := encodeEntry(tc.e, testMaxPlain)
			require.NoError(t, err)
			got, err := decodeEntry(v, testMaxPlain)
			require.NoError(t, err)
			assertEntryEqual(t, tc.e, got)
			assert.NotNil(t, got.Files)
			again, err := encodeEntry(got, testMaxPlain)
			require.NoError(t, err)
			assert.Equal(t, v, again, "encoding is deterministic")
		})
	}
}

func TestCodecCompresses(t *testing.T) {
	text, err := encodeEntry(cache.Entry{Files: map[string][]byte{"object": textBytes(1 << 20)}}, testMaxPlain)
	require.NoError(t, err)
	assert.Less(t, len(text), 1<<17, "text compresses")
	assert.Equal(t, byte(codecLZ4), text[2])
	random, err := encodeEntry(cache.Entry{Files: map[string][]byte{"object": randomBytes(3, 1<<20)}}, testMaxPlain)
	require.NoError(t, err)
	assert.Equal(t, byte(codecRaw), random[2], "incompressible data is stored raw")
	assert.Less(t, len(random), 1<<20+100)
}

func sampleManifest() cache.Manifest {
	d := func(b byte) cache.Digest { var x cache.Digest; x[0], x[31] = b, ^b; return x }
	return cache.Manifest{Results: []cache.ManifestResult{
		{
			Files:  []cache.FileDigest{{Path: "/usr/include/stdio.h", Digest: d(1)}, {Path: "src/a.h", Digest: d(2)}},
			Absent: []string{"src/missing.h"},
			Result: cache.Key{1},
		},
		{Files: []cache.FileDigest{{Path: "/usr/include/stdio.h", Digest: d(3)}}, Result: cache.Key{2}},
		{Result: cache.Key{3}},
	}}
}

func TestManifestCodecRoundTrip(t *testing.T) {
	for _, m := range []cache.Manifest{{}, sampleManifest()} {
		v, err := encodeManifest(m, testMaxPlain)
		require.NoError(t, err)
		got, err := decodeManifest(v, testMaxPlain)
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
}

func TestCodecRejectsInvalidInput(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), maxPathLen+1))
	tests := []struct {
		name string
		err  func() error
	}{
		{"empty output kind", func() error {
			_, err := encodeEntry(cache.Entry{Files: map[string][]byte{"": nil}}, testMaxPlain)
			return err
		}},
		{"long output kind", func() error {
			_, err := encodeEntry(cache.Entry{Files: map[string][]byte{long[:256]: nil}}, testMaxPlain)
			return err
		}},
		{"empty path", func() error {
			_, err := encodeManifest(cache.Manifest{Results: []cache.ManifestResult{{Absent: []string{""}}}}, testMaxPlain)
			return err
		}},
		{"long path", func() error {
			_, err := encodeManifest(cache.Manifest{Results: []cache.ManifestResult{{Files: []cache.FileDigest{{Path: long}}}}}, testMaxPlain)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Error(t, tc.err()) })
	}
}

func TestCodecTooLarge(t *testing.T) {
	_, err := encodeEntry(cache.Entry{Stdout: make([]byte, 2000)}, 1024)
	assert.ErrorIs(t, err, cache.ErrTooLarge)
	files := make([]cache.FileDigest, 100)
	for i := range files {
		files[i].Path = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	_, err = encodeManifest(cache.Manifest{Results: []cache.ManifestResult{{Files: files}}}, 1024)
	assert.ErrorIs(t, err, cache.ErrTooLarge)

	v, err := encodeEntry(cache.Entry{Stdout: textBytes(5000)}, testMaxPlain)
	require.NoError(t, err)
	_, err = decodeEntry(v, 4000)
	assert.ErrorIs(t, err, errBadValue, "a value over the decoder's limit is refused")
}

// Every single-bit flip and every truncation of a value must either fail to
// decode or decode to exactly the original: a damaged value is never returned
// as a different entry. (lz4 streams have redundant encodings, e.g. a match
// copying zeros from either of two zero runs, so a flip there can leave the
// plain bytes, and so the checksum, intact.) Raw values must always fail.
func TestCodecDetectsEveryFlipAndTruncation(t *testing.T) {
	entries := map[string]cache.Entry{
		"lz4": {Files: map[string][]byte{"object": textBytes(700), "deps": []byte("a.o: a.c\n")}, Stderr: []byte("w")},
		"raw": {Files: map[string][]byte{"object": randomBytes(4, 300)}},
	}
	type codecCase struct {
		value  []byte
		decode func([]byte) (any, error)
		want   any
		strict bool // every change must fail
	}
	cases := map[string]codecCase{}
	for name, e := range entries {
		v, err := encodeEntry(e, testMaxPlain)
		require.NoError(t, err)
		want, err := decodeEntry(v, testMaxPlain)
		require.NoError(t, err)
		cases["entry "+name] = codecCase{
			value:  v,
			decode: func(v []byte) (any, error) { return decodeEntry(v, testMaxPlain) },
			want:   want,
			strict: v[2] == codecRaw,
		}
	}
	require.Equal(t, byte(codecLZ4), cases["entry lz4"].value[2])
	require.Equal(t, byte(codecRaw), cases["entry raw"].value[2])
	m, err := encodeManifest(sampleManifest(), testMaxPlain)
	require.NoError(t, err)
	cases["manifest"] = codecCase{
		value:  m,
		decode: func(v []byte) (any, error) { return decodeManifest(v, testMaxPlain) },
		want:   sampleManifest(),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tried, failed := 0, 0
			for i := range c.value {
				for bit := range 8 {
					d := bytes.Clone(c.value)
					d[i] ^= 1 << bit
					got, err := c.decode(d)
					tried++
					if err != nil {
						failed++
						assert.ErrorIs(t, err, errBadValue)
						continue
					}
					assert.False(t, c.strict, "flip of bit %d of byte %d decoded", bit, i)
					assert.Equal(t, c.want, got, "flip of bit %d of byte %d decoded to something else", bit, i)
				}
			}
			assert.Greater(t, failed, tried*9/10, "most flips are detected")
			for n := range len(c.value) {
				_, err := c.decode(c.value[:n])
				assert.ErrorIs(t, err, errBadValue, "truncated to %d bytes", n)
			}
			_, err := c.decode(append(bytes.Clone(c.value), 0))
			assert.ErrorIs(t, err, errBadValue, "trailing byte")
		})
	}
	t.Run("wrong kind", func(t *testing.T) {
		_, err := decodeManifest(cases["entry lz4"].value, testMaxPlain)
		assert.ErrorIs(t, err, errBadValue)
		_, err = decodeEntry(m, testMaxPlain)
		assert.ErrorIs(t, err, errBadValue)
	})
}

// A value that declares a huge plain length must be refused before the
// decoder allocates it.
func TestCodecBoundsAllocation(t *testing.T) {
	const declared = 1 << 30
	for _, codec := range []byte{codecRaw, codecLZ4} {
		v := []byte{valueVersion, kindEntry, codec}
		v = binary.AppendUvarint(v, declared)
		v = append(v, make([]byte, checksumSize+64)...)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := decodeEntry(v, 2*declared)
		runtime.ReadMemStats(&after)
		assert.ErrorIs(t, err, errBadValue, "codec %d", codec)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "codec %d allocated", codec)
	}
}

func TestDecodeResultDoesNotAliasValue(t *testing.T) {
	e := cache.Entry{Files: map[string][]byte{"object": randomBytes(5, 100)}, Stdout: []byte("hello")}
	v, err := encodeEntry(e, testMaxPlain)
	require.NoError(t, err)
	require.Equal(t, byte(codecRaw), v[2])
	got, err := decodeEntry(v, testMaxPlain)
	require.NoError(t, err)
	for i := range v {
		v[i] = 0
	}
	assertEntryEqual(t, e, got)
}

func TestPortableEntryRoundTrip(t *testing.T) {
	e := cache.Entry{Files: map[string][]byte{"object": []byte("\x7fELF..."), "deps": []byte("x.o: x.c\n")}, Stderr: []byte("warning\n"), ExitCode: 0}
	b, err := EncodePortableEntry(e)
	require.NoError(t, err)
	got, err := DecodePortableEntry(b)
	require.NoError(t, err)
	assert.Equal(t, e.Files, got.Files)
	assert.Equal(t, e.Stderr, got.Stderr)
	b[len(b)-1] ^= 1
	_, err = DecodePortableEntry(b)
	assert.Error(t, err, "a damaged entry from a shared cache is refused")
}
