package teamcache

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvelope(t *testing.T) {
	team := []byte("the team's key")
	payload := []byte("an object and its outputs")
	const key, other = "0123abcd", "4567ef01"

	for _, signKey := range [][]byte{nil, team} {
		got, err := Open(key, Seal(key, payload, signKey), nil)
		require.NoError(t, err)
		assert.Equal(t, payload, got)
	}
	got, err := Open(key, Seal(key, payload, team), team)
	require.NoError(t, err)
	assert.Equal(t, payload, got)

	sealed := Seal(key, payload, team)
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	_, err = Open(key, tampered, team)
	assert.ErrorIs(t, err, ErrCorrupt, "a changed byte")
	_, err = Open(other, sealed, team)
	assert.ErrorIs(t, err, ErrCorrupt, "a valid entry copied under another key")
	_, err = Open(key, sealed[:20], nil)
	assert.ErrorIs(t, err, ErrCorrupt, "cut short")
	_, err = Open(key, []byte("something else entirely, long enough to be read"), nil)
	assert.ErrorIs(t, err, ErrCorrupt)

	// A writer without the team key can make a well-formed entry with a
	// right checksum, but not a signature.
	forged := Seal(key, []byte("a trojan object"), nil)
	_, err = Open(key, forged, team)
	assert.ErrorIs(t, err, ErrUnsigned, "unsigned, with a key set")
	_, err = Open(key, Seal(key, []byte("a trojan object"), []byte("a guessed key")), team)
	assert.ErrorIs(t, err, ErrUnsigned, "signed with another key")
	// Without a key, a client takes any well-formed entry.
	_, err = Open(key, forged, nil)
	assert.NoError(t, err)
}
