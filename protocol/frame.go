package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/pierrec/lz4/v4"
)

// A frame is a 10-byte header followed by the payload as it travels:
//
//	type         1 byte   MsgType
//	codec        1 byte   codecRaw or codecLZ4
//	decoded len  4 bytes  big-endian, <= MaxMessageSize
//	wire len     4 bytes  big-endian, <= MaxFrameSize
//	payload      wire-len bytes: the encoded message, raw or as one lz4 block
const (
	headerSize = 10

	codecRaw = 0
	codecLZ4 = 1

	// compressMin is the smallest payload worth trying lz4 on.
	compressMin = 512
	// lz4MaxRatio bounds how far one lz4 block can expand (a run of 255-byte
	// length extensions yields about 255 bytes per byte): a header claiming
	// more is refused before the output is allocated.
	lz4MaxRatio = 255
	// readStep is how much of a payload is allocated ahead of the bytes that
	// actually arrived, so a peer that announces a large frame and stalls
	// does not get the whole size allocated.
	readStep = 1 << 20
)

// frameHeader is a decoded frame header.
type frameHeader struct {
	typ   MsgType
	codec byte
	size  uint32 // decoded payload length
	wire  uint32 // payload length on the wire
}

// WriteMessage frames m and writes it with one Write call. A message with a
// field past a limit, or larger than MaxMessageSize, is refused with
// ErrTooLarge before anything is written.
func WriteMessage(w io.Writer, m Message) error {
	frame, release, err := encodeFrame(m)
	if err != nil {
		return err
	}
	defer release() // a Writer does not retain what it is given
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("protocol: write %s: %w", m.Type(), err)
	}
	return nil
}

// encodeFrame returns m's whole frame, lz4-compressed when that pays, and
// the function that gives its buffers back for reuse once the frame has
// been written.
func encodeFrame(m Message) (frame []byte, release func(), err error) {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return nil, nil, errors.New("protocol: write of a nil message")
	}
	typ := m.Type()
	sizing := encoder{counting: true}
	m.encode(&sizing)
	if sizing.err != nil {
		return nil, nil, fmt.Errorf("protocol: encode %s: %w", typ, sizing.err)
	}
	if sizing.n > MaxMessageSize {
		return nil, nil, fmt.Errorf("protocol: encode %s: %w: %d bytes exceed %d",
			typ, ErrTooLarge, sizing.n, MaxMessageSize)
	}
	plain := getBuffer(headerSize + sizing.n)
	e := encoder{buf: (*plain)[:headerSize]}
	m.encode(&e)
	*plain = e.buf
	frame, codec := e.buf, byte(codecRaw)
	payload := frame[headerSize:]
	var packed *[]byte
	if len(payload) >= compressMin {
		packed = getBuffer(headerSize + lz4.CompressBlockBound(len(payload)))
		out := (*packed)[:cap(*packed)]
		n, err := compressBlock(payload, out[headerSize:])
		if err == nil && n > 0 && n < len(payload) {
			frame, codec = out[:headerSize+n], codecLZ4
		}
	}
	frame[0] = byte(typ)
	frame[1] = codec
	binary.BigEndian.PutUint32(frame[2:6], uint32(len(payload)))
	binary.BigEndian.PutUint32(frame[6:10], uint32(len(frame)-headerSize))
	return frame, func() { putBuffer(plain); putBuffer(packed) }, nil
}

// ReadMessage reads one frame and decodes it into a new message of the
// frame's type. Oversized frames are ErrTooLarge, and frames that do not
// decode (unknown type or codec, bad lz4, truncation, trailing bytes) are
// ErrMalformed; a connection closed cleanly before the frame is io.EOF.
func ReadMessage(r io.Reader) (Message, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	if err := h.check(MaxMessageSize, MaxFrameSize); err != nil {
		return nil, err
	}
	return readBody(r, h)
}

// ReadExpect reads one message and returns it if it is of type want. An Error
// message is returned as a *RemoteError (unless want is MsgError); any other
// type is ErrUnexpected.
func ReadExpect(r io.Reader, want MsgType) (Message, error) {
	m, err := ReadMessage(r)
	if err != nil {
		return nil, err
	}
	return expect(m, want)
}

// expect checks that m is of type want, turning an Error into *RemoteError.
func expect(m Message, want MsgType) (Message, error) {
	if m.Type() == want {
		return m, nil
	}
	if e, ok := m.(*Error); ok {
		return nil, &RemoteError{Code: e.Code, Message: e.Message}
	}
	return nil, fmt.Errorf("%w: got %s, want %s", ErrUnexpected, m.Type(), want)
}

// readHeader reads a frame header. A stream that ends before the first byte
// is io.EOF; one that ends inside the header is ErrMalformed.
func readHeader(r io.Reader) (frameHeader, error) {
	var b [headerSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return frameHeader{}, err
		}
		return frameHeader{}, readError("frame header", err)
	}
	return frameHeader{
		typ:   MsgType(b[0]),
		codec: b[1],
		size:  binary.BigEndian.Uint32(b[2:6]),
		wire:  binary.BigEndian.Uint32(b[6:10]),
	}, nil
}

// check validates a header against the limits before anything is allocated.
func (h frameHeader) check(maxSize, maxWire int) error {
	switch {
	case !h.typ.known():
		return fmt.Errorf("%w: unknown message type %d", ErrMalformed, uint8(h.typ))
	case h.size > uint32(maxSize):
		return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrTooLarge, h.typ, h.size, maxSize)
	case h.wire > uint32(maxWire):
		return fmt.Errorf("%w: %s frame of %d bytes exceeds %d", ErrTooLarge, h.typ, h.wire, maxWire)
	}
	switch h.codec {
	case codecRaw:
		if h.wire != h.size {
			return fmt.Errorf("%w: raw %s of %d bytes sent as %d", ErrMalformed, h.typ, h.size, h.wire)
		}
	case codecLZ4:
		if uint64(h.size) > uint64(h.wire)*lz4MaxRatio {
			return fmt.Errorf("%w: %s: %d lz4 bytes cannot decompress to %d", ErrMalformed, h.typ, h.wire, h.size)
		}
	default:
		return fmt.Errorf("%w: %s: unknown codec %d", ErrMalformed, h.typ, h.codec)
	}
	return nil
}

// readBody reads the payload of a checked header and decodes it.
func readBody(r io.Reader, h frameHeader) (Message, error) {
	wire, err := readPayload(r, int(h.wire))
	if err != nil {
		return nil, err
	}
	payload := wire
	if h.codec == codecLZ4 {
		payload = make([]byte, h.size)
		n, err := lz4.UncompressBlock(wire, payload)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: lz4: %v", ErrMalformed, h.typ, err)
		}
		if n != int(h.size) {
			return nil, fmt.Errorf("%w: %s: lz4 gave %d bytes, header says %d", ErrMalformed, h.typ, n, h.size)
		}
	}
	return decodeMessage(h.typ, payload)
}

// readPayload reads n bytes, growing the buffer as they arrive.
func readPayload(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, readStep))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		got, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+got]
		if err != nil {
			return nil, readError("frame payload", err)
		}
	}
	return buf, nil
}

// readError wraps a read failure inside a frame: the stream ending there is
// a truncated frame (ErrMalformed and io.ErrUnexpectedEOF), anything else an
// I/O error.
func readError(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated %s: %w", ErrMalformed, what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("protocol: read %s: %w", what, err)
}

// decodeMessage decodes a payload into a new message of type typ, which must
// consume it exactly.
func decodeMessage(typ MsgType, payload []byte) (Message, error) {
	m := newMessage(typ)
	if m == nil {
		return nil, fmt.Errorf("%w: unknown message type %d", ErrMalformed, uint8(typ))
	}
	d := decoder{typ: typ, b: payload}
	if err := m.decode(&d); err != nil {
		return nil, err
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return m, nil
}
