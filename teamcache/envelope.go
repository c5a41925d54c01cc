package teamcache

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/zeebo/blake3"
)

// An envelope is how an entry is stored: a magic, a flag, the BLAKE3 digest
// of the entry's key and payload, with a team key an HMAC-SHA256 of the
// same, then the payload. Binding both to the key means an entry copied
// under another key (a valid object for another compile) is refused, as is
// one whose bytes changed.

// envelopeMagic starts every envelope.
var envelopeMagic = []byte("dcc-team-1")

const (
	flagSigned = 1
	sumLen     = 32
)

// ErrCorrupt is an entry whose checksum does not match: damaged, cut, or
// written under another key.
var ErrCorrupt = errors.New("teamcache: entry damaged or not this key's")

// ErrUnsigned is an entry without a valid signature of the team key.
var ErrUnsigned = errors.New("teamcache: entry not signed with the team key")

// Seal wraps payload for storage under key, signed when teamKey is set.
func Seal(key string, payload, teamKey []byte) []byte {
	out := make([]byte, 0, len(envelopeMagic)+1+2*sumLen+len(payload))
	out = append(out, envelopeMagic...)
	flag := byte(0)
	if len(teamKey) > 0 {
		flag = flagSigned
	}
	out = append(out, flag)
	sum := checksum(key, payload)
	out = append(out, sum[:]...)
	if flag == flagSigned {
		out = append(out, signature(teamKey, key, payload)...)
	}
	return append(out, payload...)
}

// Open checks an envelope read under key and returns its payload. With a
// teamKey, an entry that is not signed with it is ErrUnsigned.
func Open(key string, envelope, teamKey []byte) ([]byte, error) {
	head := len(envelopeMagic) + 1 + sumLen
	if len(envelope) < head || string(envelope[:len(envelopeMagic)]) != string(envelopeMagic) {
		return nil, fmt.Errorf("%w: not an entry of this format", ErrCorrupt)
	}
	flag := envelope[len(envelopeMagic)]
	if flag&^flagSigned != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, flag)
	}
	var sum [sumLen]byte
	copy(sum[:], envelope[len(envelopeMagic)+1:head])
	var mac []byte
	if flag == flagSigned {
		if len(envelope) < head+sumLen {
			return nil, fmt.Errorf("%w: cut short", ErrCorrupt)
		}
		mac = envelope[head : head+sumLen]
		head += sumLen
	}
	payload := envelope[head:]
	if checksum(key, payload) != sum {
		return nil, ErrCorrupt
	}
	if len(teamKey) > 0 && (mac == nil || !hmac.Equal(mac, signature(teamKey, key, payload))) {
		return nil, ErrUnsigned
	}
	return payload, nil
}

// checksum digests key and payload, length-prefixed.
func checksum(key string, payload []byte) [sumLen]byte {
	h := blake3.New()
	writeField(h.Write, []byte(key))
	writeField(h.Write, payload)
	var sum [sumLen]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// signature is HMAC-SHA256 of key and payload, length-prefixed, with teamKey.
func signature(teamKey []byte, key string, payload []byte) []byte {
	m := hmac.New(sha256.New, teamKey)
	writeField(m.Write, []byte(key))
	writeField(m.Write, payload)
	return m.Sum(nil)
}

// writeField writes b's length, then b.
func writeField(write func([]byte) (int, error), b []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	_, _ = write(n[:])
	_, _ = write(b)
}
