package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func uvarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// lz4Block compresses b as one lz4 block.
func lz4Block(t testing.TB, b []byte) []byte {
	t.Helper()
	out := make([]byte, lz4.CompressBlockBound(len(b)))
	n, err := lz4.CompressBlock(b, out, nil)
	require.NoError(t, err)
	require.NotZero(t, n)
	return out[:n]
}

func TestCompression(t *testing.T) {
	tests := []struct {
		name  string
		msg   Message
		codec byte
	}{
		{"small stays raw", &CachePut{Entry: bytes.Repeat([]byte{'a'}, 400)}, codecRaw},
		{"compressible is lz4", &CachePut{Entry: bytes.Repeat([]byte{'a'}, 4096)}, codecLZ4},
		{"incompressible stays raw", &CachePut{Entry: randomBytes(4096)}, codecRaw},
		{"large text is lz4", &CachePut{Entry: preprocessedLike(300 << 10)}, codecLZ4},
		{"large incompressible stays raw", &CachePut{Entry: randomBytes(200 << 10)}, codecRaw},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame := mustFrame(t, tc.msg)
			assert.Equal(t, byte(tc.msg.Type()), frame[0])
			assert.Equal(t, tc.codec, frame[1])
			size := binary.BigEndian.Uint32(frame[2:6])
			wire := binary.BigEndian.Uint32(frame[6:10])
			assert.Equal(t, len(encodePayload(t, tc.msg)), int(size))
			assert.Equal(t, len(frame)-headerSize, int(wire))
			if tc.codec == codecLZ4 {
				assert.Less(t, wire, size)
			}
		})
	}
}

// Frames of every size around the switch to the reference algorithm
// (largeBlock) read back as sent, also when written one after another with
// the encoding buffers reused in between.
func TestFramesRoundTripAcrossBlockSizes(t *testing.T) {
	var stream bytes.Buffer
	var sent []*CachePut
	for _, size := range []int{600, largeBlock - 64, largeBlock, largeBlock + 1, 1 << 20, maxPooledBuffer + 1<<10} {
		for _, payload := range [][]byte{preprocessedLike(size), randomBytes(size)} {
			m := &CachePut{Project: "p", Key: "k", Entry: payload}
			require.NoError(t, WriteMessage(&stream, m))
			sent = append(sent, m)
		}
	}
	for i, want := range sent {
		got, err := ReadMessage(&stream)
		require.NoError(t, err, "message %d", i)
		require.Equal(t, want, got, "message %d (%d bytes)", i, len(want.Entry))
	}
	_, err := ReadMessage(&stream)
	assert.ErrorIs(t, err, io.EOF)
}

func TestReadMessageLimits(t *testing.T) {
	cacheGet := encodePayload(t, &CacheGet{Project: "p", Key: "k"})
	big := bytes.Repeat([]byte("abcdefgh"), 512)
	bigPayload := encodePayload(t, &CachePut{Entry: big})
	compressed := lz4Block(t, bigPayload)
	tooLongString := concat(uvarint(MaxStringLen+1), make([]byte, 10))

	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"decoded length past MaxMessageSize", frameBytes(MsgCachePut, codecRaw, MaxMessageSize+1, MaxMessageSize+1, nil), ErrTooLarge},
		{"decoded length at uint32 max", frameBytes(MsgCachePut, codecLZ4, math32, 100, nil), ErrTooLarge},
		{"wire length past MaxFrameSize", frameBytes(MsgCachePut, codecLZ4, 1000, MaxFrameSize+1, nil), ErrTooLarge},
		{"raw wire length past MaxFrameSize", frameBytes(MsgCachePut, codecRaw, 10, MaxFrameSize+1, nil), ErrTooLarge},
		{"raw lengths disagree", frameBytes(MsgCacheGet, codecRaw, uint32(len(cacheGet)+1), uint32(len(cacheGet)), cacheGet), ErrMalformed},
		{"lz4 claims more than it can hold", frameBytes(MsgCachePut, codecLZ4, 256*10, 10, make([]byte, 10)), ErrMalformed},
		{"lz4 decompresses short", frameBytes(MsgCachePut, codecLZ4, uint32(len(bigPayload)+1), uint32(len(compressed)), compressed), ErrMalformed},
		{"lz4 decompresses long", frameBytes(MsgCachePut, codecLZ4, uint32(len(bigPayload)-1), uint32(len(compressed)), compressed), ErrMalformed},
		{"lz4 garbage", frameBytes(MsgCachePut, codecLZ4, 100, 10, bytes.Repeat([]byte{0xff}, 10)), ErrMalformed},
		{"unknown codec", frameBytes(MsgCacheGet, 2, uint32(len(cacheGet)), uint32(len(cacheGet)), cacheGet), ErrMalformed},
		{"type zero", rawFrame(0, cacheGet), ErrMalformed},
		{"type past the last", rawFrame(MsgStatusResult+1, nil), ErrMalformed},
		{"trailing byte", rawFrame(MsgCacheGet, append(append([]byte(nil), cacheGet...), 0)), ErrMalformed},
		{"trailing bytes in Status", rawFrame(MsgStatus, []byte{1, 2}), ErrMalformed},
		{"missing field", rawFrame(MsgCacheGet, cacheGet[:len(cacheGet)-2]), ErrMalformed},
		{"string past MaxStringLen", rawFrame(MsgClean, tooLongString), ErrTooLarge},
		{"string past the end", rawFrame(MsgClean, concat(uvarint(100), []byte("short"))), ErrMalformed},
		{"args past MaxArgs", rawFrame(MsgCompileRequest, concat([]byte{0, 0}, uvarint(MaxArgs+1), make([]byte, MaxArgs+1))), ErrTooLarge},
		{"args more than bytes left", rawFrame(MsgCompileRequest, concat([]byte{0, 0}, uvarint(100), make([]byte, 50))), ErrMalformed},
		{"toolchains past MaxToolchains", rawFrame(MsgStatusResult, concat([]byte{0}, uvarint(MaxToolchains+1))), ErrTooLarge},
		{"toolchains more than bytes left", rawFrame(MsgStatusResult, concat([]byte{0}, uvarint(3), make([]byte, 14))), ErrMalformed},
		{"bool not 0 or 1", rawFrame(MsgCachePutResult, []byte{2}), ErrMalformed},
		{"varint overflow", rawFrame(MsgCleanResult, bytes.Repeat([]byte{0xff}, 11)), ErrMalformed},
		{"varint unterminated", rawFrame(MsgCleanResult, []byte{0x80}), ErrMalformed},
		{"version past uint16", rawFrame(MsgHello, concat(uvarint(1<<16), []byte{0}, make([]byte, 32))), ErrMalformed},
		{"nonce short", rawFrame(MsgHello, concat([]byte{1, 0}, make([]byte, 31))), ErrMalformed},
		{"byte slice past the end", rawFrame(MsgCacheGetResult, concat([]byte{1}, uvarint(1<<30))), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadMessage(bytes.NewReader(tc.input))
			require.ErrorIs(t, err, tc.want)
			assert.Nil(t, m)
		})
	}
}

const math32 = 1<<32 - 1

func TestReadMessageTruncated(t *testing.T) {
	frames := map[string][]byte{
		"raw": mustFrame(t, &CacheGet{Project: "project", Key: "key"}),
		"lz4": mustFrame(t, &CachePut{Entry: bytes.Repeat([]byte("x"), 5000)}),
	}
	for name, frame := range frames {
		t.Run(name, func(t *testing.T) {
			_, err := ReadMessage(bytes.NewReader(nil))
			require.ErrorIs(t, err, io.EOF, "nothing at all is a clean end")
			for n := 1; n < len(frame); n++ {
				_, err := ReadMessage(bytes.NewReader(frame[:n]))
				require.ErrorIs(t, err, ErrMalformed, "cut at %d", n)
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", n)
			}
		})
	}
}

// errReader fails every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadMessageIOError(t *testing.T) {
	boom := errors.New("boom")
	frame := mustFrame(t, &Clean{Project: "x"})
	_, err := ReadMessage(io.MultiReader(bytes.NewReader(frame[:headerSize+1]), errReader{boom}))
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrMalformed)
}

// A frame that announces a large payload and stalls gets memory in step with
// the bytes that arrived, not its announced size.
func TestReadMessageAllocatesAsBytesArrive(t *testing.T) {
	header := frameBytes(MsgCachePut, codecRaw, MaxMessageSize, MaxMessageSize, nil)
	r := io.MultiReader(bytes.NewReader(header), bytes.NewReader(make([]byte, 1000)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadMessage(r)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, ErrMalformed)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20))
}

func TestReadExpect(t *testing.T) {
	tests := []struct {
		name    string
		msg     Message
		want    MsgType
		wantErr error
		remote  *RemoteError
	}{
		{"wanted type", &Clean{Project: "p"}, MsgClean, nil, nil},
		{"Error when it is wanted", &Error{Code: "busy"}, MsgError, nil, nil},
		{"Error becomes RemoteError", &Error{Code: CodeBusy, Message: "try later"}, MsgCompileResult, nil, &RemoteError{Code: CodeBusy, Message: "try later"}},
		{"other type", &Status{}, MsgStatusResult, ErrUnexpected, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadExpect(bytes.NewReader(mustFrame(t, tc.msg)), tc.want)
			switch {
			case tc.remote != nil:
				var re *RemoteError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tc.remote, re)
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
				assert.True(t, strings.Contains(err.Error(), "Status"), err.Error())
			default:
				require.NoError(t, err)
				assert.Equal(t, tc.msg, got)
			}
		})
	}
}

func TestDecodedBytesDoNotOverlap(t *testing.T) {
	m, err := ReadMessage(bytes.NewReader(mustFrame(t, &CompileResult{Stdout: []byte("out"), Stderr: []byte("err")})))
	require.NoError(t, err)
	r := m.(*CompileResult)
	_ = append(r.Stdout, "XXX"...) // must not overwrite Stderr
	assert.Equal(t, []byte("err"), r.Stderr)
}
