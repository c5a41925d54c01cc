package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Field encoding, shared by every message:
//
//	integers       varint (signed) or uvarint (unsigned)
//	bool           one byte, 0 or 1
//	[32]byte       32 raw bytes
//	[]byte, string uvarint length, then the bytes
//	lists          uvarint count, then the items
//
// A message's payload holds its fields in order and nothing else.

// encoder writes message fields. It runs twice per message: a counting pass
// (buf nil, counting set) that sizes the payload so it can be checked against
// MaxMessageSize before anything is allocated, then a pass that appends to buf.
// The first error (a field past its limit) sticks and later calls do nothing.
type encoder struct {
	counting bool
	n        int // bytes encoded so far
	buf      []byte
	err      error
}

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("%w: %s", ErrTooLarge, fmt.Sprintf(format, args...))
	}
}

func (e *encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	e.n += len(b)
	if !e.counting {
		e.buf = append(e.buf, b...)
	}
}

func (e *encoder) uvarint(v uint64) {
	if e.err != nil {
		return
	}
	if e.counting {
		e.n += uvarintLen(v)
		return
	}
	before := len(e.buf)
	e.buf = binary.AppendUvarint(e.buf, v)
	e.n += len(e.buf) - before
}

func (e *encoder) varint(v int64) {
	// Zig-zag, as encoding/binary does.
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	e.uvarint(u)
}

func (e *encoder) bool(v bool) {
	if v {
		e.raw([]byte{1})
	} else {
		e.raw([]byte{0})
	}
}

func (e *encoder) bytes(b []byte) {
	e.uvarint(uint64(len(b)))
	e.raw(b)
}

// string writes s, refusing it past MaxStringLen.
func (e *encoder) string(what, s string) {
	if len(s) > MaxStringLen {
		e.fail("%s of %d bytes exceeds %d", what, len(s), MaxStringLen)
		return
	}
	e.uvarint(uint64(len(s)))
	if e.err != nil {
		return
	}
	e.n += len(s)
	if !e.counting {
		e.buf = append(e.buf, s...)
	}
}

// count writes a list's length, refusing it past limit. It reports whether
// the caller should go on to write the items.
func (e *encoder) count(what string, n, limit int) bool {
	if n > limit {
		e.fail("%s: %d items exceed %d", what, n, limit)
		return false
	}
	e.uvarint(uint64(n))
	return e.err == nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// decoder reads message fields from a payload. Every length is checked
// against the limits and against the bytes that remain before anything is
// sliced or allocated. The first error sticks; after it every read returns a
// zero value, so decode methods need not check after each field.
type decoder struct {
	typ MsgType // for error messages
	b   []byte
	err error
}

func (d *decoder) failf(sentinel error, what, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s %s: %s", sentinel, d.typ, what, fmt.Sprintf(format, args...))
	}
}

// finish reports the first error, or trailing bytes after the last field.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.failf(ErrMalformed, "payload", "%d trailing bytes", len(d.b))
	}
	return d.err
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.failf(ErrMalformed, what, "bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.failf(ErrMalformed, what, "bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int(what string) int {
	v := d.varint(what)
	if v < math.MinInt || v > math.MaxInt {
		d.failf(ErrMalformed, what, "%d out of range", v)
		return 0
	}
	return int(v)
}

func (d *decoder) uint16(what string) uint16 {
	v := d.uvarint(what)
	if v > math.MaxUint16 {
		d.failf(ErrMalformed, what, "%d out of range", v)
		return 0
	}
	return uint16(v)
}

func (d *decoder) bool(what string) bool {
	if d.err != nil {
		return false
	}
	if len(d.b) < 1 {
		d.failf(ErrMalformed, what, "past the end")
		return false
	}
	v := d.b[0]
	d.b = d.b[1:]
	if v > 1 {
		d.failf(ErrMalformed, what, "bool byte %d", v)
		return false
	}
	return v == 1
}

// fixed fills dst with the next len(dst) bytes.
func (d *decoder) fixed(what string, dst []byte) {
	if d.err != nil {
		return
	}
	if len(d.b) < len(dst) {
		d.failf(ErrMalformed, what, "%d bytes past the end", len(dst))
		return
	}
	copy(dst, d.b)
	d.b = d.b[len(dst):]
}

// take returns the next n bytes, sharing the payload (capacity capped, so
// appending to the result cannot overwrite what follows).
func (d *decoder) take(what string, n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.failf(ErrMalformed, what, "length %d past the end (%d bytes left)", n, len(d.b))
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// bytes reads a length-prefixed byte slice; an empty one decodes as nil. The
// result shares the payload, which ReadMessage allocates for this message only.
func (d *decoder) bytes(what string) []byte {
	b := d.take(what, d.uvarint(what))
	if len(b) == 0 {
		return nil
	}
	return b
}

// string reads a length-prefixed string, refusing it past MaxStringLen.
func (d *decoder) string(what string) string {
	n := d.uvarint(what)
	if d.err == nil && n > MaxStringLen {
		d.failf(ErrTooLarge, what, "length %d exceeds %d", n, MaxStringLen)
		return ""
	}
	return string(d.take(what, n))
}

// count reads a list's length: past limit is ErrTooLarge, and more items than
// the remaining bytes could hold (each takes at least minSize) is ErrMalformed.
func (d *decoder) count(what string, limit, minSize int) int {
	n := d.uvarint(what)
	if d.err != nil {
		return 0
	}
	if n > uint64(limit) {
		d.failf(ErrTooLarge, what, "%d items exceed %d", n, limit)
		return 0
	}
	if n > uint64(len(d.b)/minSize) {
		d.failf(ErrMalformed, what, "%d items cannot fit in %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}
