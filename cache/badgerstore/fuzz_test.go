package badgerstore

import (
	"bytes"
	"github.com/dcc-build/dcc/cache"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzMaxPlain keeps the fuzzers' allocations small.
const fuzzMaxPlain = 1 << 20

// fuzzSeeds adds valid values, their plain bytes, and damaged copies of
// them, as seeds.
func fuzzSeeds(f *testing.F, kind byte, values ...[]byte) {
	for _, v := range values {
		plain, err := unseal(kind, v, fuzzMaxPlain)
		require.NoError(f, err)
		f.Add(plain)
		f.Add(v)
		if len(v) > 40 {
			f.Add(v[:len(v)/2])
			d := bytes.Clone(v)
			d[len(d)-1] ^= 0x55
			f.Add(d)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{valueVersion, kindEntry, codecLZ4, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{valueVersion, kindManifest, codecRaw, 0x80})
}

// FuzzDecodeEntry: decoding never panics, and whatever decodes re-encodes
// to a value that decodes to the same entry. Each input is decoded as a
// stored value, and also sealed with a valid checksum so that the fuzzer
// reaches the entry parser.
func FuzzDecodeEntry(f *testing.F) {
	for _, tc := range entryCases() {
		if size, _ := entryPlainSize(tc.e); size > fuzzMaxPlain {
			continue
		}
		v, err := encodeEntry(tc.e, fuzzMaxPlain)
		require.NoError(f, err)
		fuzzSeeds(f, kindEntry, v)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sealed, err := seal(kindEntry, data)
		require.NoError(t, err)
		for _, v := range [][]byte{data, sealed} {
			e, err := decodeEntry(v, fuzzMaxPlain)
			if err != nil {
				assert.ErrorIs(t, err, errBadValue)
				continue
			}
			again, err := encodeEntry(e, fuzzMaxPlain)
			require.NoError(t, err)
			e2, err := decodeEntry(again, fuzzMaxPlain)
			require.NoError(t, err)
			assertEntryEqual(t, e, e2)
		}
	})
}

// FuzzDecodeManifest: decoding never panics, and whatever decodes
// re-encodes to a value that decodes to the same manifest. Each input is
// decoded as a stored value and as sealed plain bytes, like FuzzDecodeEntry.
func FuzzDecodeManifest(f *testing.F) {
	for _, m := range []cache.Manifest{{}, sampleManifest()} {
		v, err := encodeManifest(m, fuzzMaxPlain)
		require.NoError(f, err)
		fuzzSeeds(f, kindManifest, v)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sealed, err := seal(kindManifest, data)
		require.NoError(t, err)
		for _, v := range [][]byte{data, sealed} {
			m, err := decodeManifest(v, fuzzMaxPlain)
			if err != nil {
				assert.ErrorIs(t, err, errBadValue)
				continue
			}
			again, err := encodeManifest(m, fuzzMaxPlain)
			require.NoError(t, err)
			m2, err := decodeManifest(again, fuzzMaxPlain)
			require.NoError(t, err)
			assert.Equal(t, m, m2)
		}
	})
}
