package daemon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

// The wire format, over a Unix stream socket:
//
//	frame   = length payload
//	length  = 4 bytes, big-endian, 1..MaxMessageSize
//	payload = op kind body          (op and kind: one byte each)
//	kind    = 0 request | 1 reply | 2 error
//	body    = for an error, its code byte and text; otherwise the fields of
//	          the op's request or reply in a fixed order (codec.go)
//
// A connection starts with the client's hello and the server's hello; then
// the client sends one request at a time and reads its reply (same op) or an
// error. Frozen across protocol versions, so that any two versions can tell
// each other apart and a new wrapper can stop an old daemon: the framing, the
// op and kind bytes, the error body, the hello body, the values of opHello
// and opStop, the error codes, and stop's empty bodies.
//
// The encoding is ours rather than encoding/gob: gob sends and compiles type
// descriptions with every self-contained message, which cost ~200 µs of a
// wrapper's ~300 µs connect-and-compile exchange.

// op is a message's operation.
type op uint8

const (
	opHello     op = 1 // frozen
	opStop      op = 2 // frozen
	opCompile   op = 3
	opStats     op = 4
	opZeroStats op = 5
	opClear     op = 6
	opStatus    op = 7
	// opHosts asks for the hosts' state (RemoteBackend.Hosts).
	opHosts op = 8
	// opCleanRemote cleans a project on every host (RemoteBackend.CleanRemote).
	opCleanRemote op = 9
	// opMonitor asks for the hosts' state for dcc monitor
	// (HostMonitor.MonitorHosts); its reply is a hosts reply's body.
	opMonitor op = 10
)

// String names the operation for logs and errors.
func (o op) String() string {
	switch o {
	case opHello:
		return "hello"
	case opStop:
		return "stop"
	case opCompile:
		return "compile"
	case opStats:
		return "stats"
	case opZeroStats:
		return "zero-stats"
	case opClear:
		return "clear"
	case opStatus:
		return "status"
	case opHosts:
		return "hosts"
	case opCleanRemote:
		return "clean-remote"
	case opMonitor:
		return "monitor"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// errCode classifies an error reply, so that the client can map it back to
// a sentinel error.
type errCode uint8

const (
	codeNone         errCode = 0 // frozen
	codeFailed       errCode = 1 // frozen: ErrDaemon
	codeVersion      errCode = 2 // frozen: ErrVersionMismatch
	codeTooLarge     errCode = 3 // frozen: ErrMessageTooLarge
	codeProtocol     errCode = 4 // frozen: ErrProtocol
	codeShuttingDown errCode = 5 // frozen: ErrShuttingDown
	codeNoRemote     errCode = 6 // ErrNoRemote
)

// sentinel returns the sentinel error a code stands for.
func (c errCode) sentinel() error {
	switch c {
	case codeVersion:
		return ErrVersionMismatch
	case codeTooLarge:
		return ErrMessageTooLarge
	case codeProtocol:
		return ErrProtocol
	case codeShuttingDown:
		return ErrShuttingDown
	case codeNoRemote:
		return ErrNoRemote
	}
	return ErrDaemon
}

// codeOf returns the code to send for err.
func codeOf(err error) errCode {
	switch {
	case errors.Is(err, ErrVersionMismatch):
		return codeVersion
	case errors.Is(err, ErrMessageTooLarge):
		return codeTooLarge
	case errors.Is(err, ErrProtocol):
		return codeProtocol
	case errors.Is(err, ErrShuttingDown):
		return codeShuttingDown
	case errors.Is(err, ErrNoRemote):
		return codeNoRemote
	}
	return codeFailed
}

// helloMagic marks a dcc daemon conversation.
const helloMagic = "dcc-daemon"

// hello is the first message each side sends (frozen).
type hello struct {
	Magic    string
	Protocol int
	BuildID  string
	PID      int
}

// check compares a peer's hello with ours.
func (h hello) check(peer *hello) error {
	if peer == nil || peer.Magic != helloMagic {
		return fmt.Errorf("%w: the peer is not a dcc daemon conversation", ErrProtocol)
	}
	if peer.Protocol != h.Protocol || peer.BuildID != h.BuildID {
		return fmt.Errorf("%w: this side has protocol %d, build %q; the peer has protocol %d, build %q",
			ErrVersionMismatch, h.Protocol, h.BuildID, peer.Protocol, peer.BuildID)
	}
	return nil
}

// checkReply checks the daemon's answer to hello h: a hello of the same
// protocol and build (ErrVersionMismatch otherwise), not an error.
func (h hello) checkReply(reply *message) error {
	if err := reply.err(); err != nil {
		return err
	}
	if reply.Op != opHello {
		return fmt.Errorf("%w: %v reply to the handshake", ErrProtocol, reply.Op)
	}
	return h.check(reply.Hello)
}

// message is one frame's payload: a request, a reply, or a hello.
type message struct {
	Op op
	// Reply is set on the daemon's messages.
	Reply   bool
	Hello   *hello
	Compile *CompileRequest
	Result  *CompileResult
	Stats   *StatsReport
	Status  *StatusReport
	// RemoteReq is the body of a hosts or clean-remote request; Hosts and
	// Cleaned are their replies' bodies.
	RemoteReq *remoteRequest
	Hosts     []HostReport
	Cleaned   []CleanReport
	// Code and Error make the message an error reply.
	Code  errCode
	Error string
}

// remoteRequest is the body of a hosts request (Check) or a clean-remote
// request (Project).
type remoteRequest struct {
	Check   bool
	Project string
}

// Message kinds.
const (
	kindRequest byte = 0
	kindReply   byte = 1
	kindError   byte = 2
)

// err returns the error an error reply carries, or nil.
func (m *message) err() error {
	if m.Code == codeNone && m.Error == "" {
		return nil
	}
	if sentinel := m.Code.sentinel(); m.Error == sentinel.Error() {
		return sentinel
	}
	return fmt.Errorf("%w: %s", m.Code.sentinel(), m.Error)
}

// errorReply is the reply to o that reports err.
func errorReply(o op, err error) *message {
	return &message{Op: o, Reply: true, Code: codeOf(err), Error: err.Error()}
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// encodeMessage returns m as one frame, length prefix included.
func encodeMessage(m *message) ([]byte, error) {
	e := encoder{b: make([]byte, 4, 64+m.sizeHint())}
	e.byte(byte(m.Op))
	switch {
	case m.Code != codeNone || m.Error != "":
		e.byte(kindError)
		e.byte(byte(max(m.Code, codeFailed)))
		e.string(m.Error)
	case m.Reply:
		e.byte(kindReply)
		if err := m.encodeBody(&e); err != nil {
			return nil, err
		}
	default:
		e.byte(kindRequest)
		if err := m.encodeBody(&e); err != nil {
			return nil, err
		}
	}
	n := len(e.b) - 4
	if n > MaxMessageSize {
		return nil, fmt.Errorf("%w: %v message of %d bytes exceeds the limit of %d bytes", ErrMessageTooLarge, m.Op, n, MaxMessageSize)
	}
	binary.BigEndian.PutUint32(e.b, uint32(n))
	return e.b, nil
}

// encodeBody appends the body m's op takes in m's direction (a compile
// request carries a CompileRequest, its reply a CompileResult).
func (m *message) encodeBody(e *encoder) error {
	missing := func() error { return fmt.Errorf("%w: %v message without its body", ErrProtocol, m.Op) }
	switch {
	case m.Op == opHello:
		if m.Hello == nil {
			return missing()
		}
		e.hello(m.Hello)
	case m.Op == opCompile && m.Reply:
		if m.Result == nil {
			return missing()
		}
		e.compileResult(m.Result)
	case m.Op == opCompile:
		if m.Compile == nil {
			return missing()
		}
		e.compileRequest(m.Compile)
	case m.Op == opStats && m.Reply:
		if m.Stats == nil {
			return missing()
		}
		e.stats(m.Stats)
	case m.Op == opStatus && m.Reply:
		if m.Status == nil {
			return missing()
		}
		e.status(m.Status)
	case (m.Op == opHosts || m.Op == opMonitor) && m.Reply:
		e.hostReports(m.Hosts)
	case m.Op == opCleanRemote && m.Reply:
		e.cleanReports(m.Cleaned)
	case m.Op == opHosts, m.Op == opCleanRemote:
		if m.RemoteReq == nil {
			return missing()
		}
		if m.Op == opHosts {
			e.bool(m.RemoteReq.Check)
		} else {
			e.string(m.RemoteReq.Project)
		}
	case m.Op == opStats, m.Op == opStatus, m.Op == opStop, m.Op == opZeroStats, m.Op == opClear, m.Op == opMonitor:
	default:
		return fmt.Errorf("%w: cannot encode %v", ErrProtocol, m.Op)
	}
	return nil
}

// sizeHint estimates the encoded size of m's variable parts.
func (m *message) sizeHint() int {
	n := len(m.Error)
	if r := m.Result; r != nil {
		n += len(r.Reason) + len(r.Stdout) + len(r.Stderr)
	}
	if r := m.RemoteReq; r != nil {
		n += len(r.Project)
	}
	n += 128 * (len(m.Hosts) + len(m.Cleaned))
	for _, h := range m.Hosts {
		n += 16 * len(h.InFlightJobs)
	}
	if r := m.Compile; r != nil {
		n += len(r.Compiler) + len(r.Real) + len(r.Dir)
		for _, s := range r.Args {
			n += len(s) + 2
		}
		for _, s := range r.Env {
			n += len(s) + 2
		}
	}
	return min(n, MaxMessageSize+16)
}

// writeMessage writes m as one frame with one Write.
func writeMessage(w io.Writer, m *message) error {
	frame, err := encodeMessage(m)
	if err != nil {
		return err
	}
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("send %v message: %w", m.Op, err)
	}
	return nil
}

// readMessage reads one frame and decodes it. A clean end of stream before
// the frame is io.EOF; an announced length over MaxMessageSize is
// ErrMessageTooLarge (the frame is not read: the stream cannot be resumed);
// anything malformed is ErrProtocol. Memory use is bounded by the bytes that
// actually arrive, never by the announced length alone.
func readMessage(r io.Reader) (*message, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read message length: %w", err)
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > MaxMessageSize {
		return nil, fmt.Errorf("%w: announced message of %d bytes exceeds the limit of %d bytes", ErrMessageTooLarge, n, MaxMessageSize)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrProtocol)
	}
	payload, err := readPayload(r, int(n))
	if err != nil {
		return nil, err
	}
	return decodeMessage(payload)
}

// readPayload reads n bytes, growing its buffer as they arrive.
func readPayload(r io.Reader, n int) ([]byte, error) {
	const first = 64 << 10
	buf := make([]byte, 0, min(n, first))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		got, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+got]
		if err != nil {
			return nil, fmt.Errorf("read message of %d bytes (got %d): %w", n, len(buf), io.ErrUnexpectedEOF)
		}
	}
	return buf, nil
}

// decodeMessage decodes one payload, which must hold exactly one message.
// Byte slices in the result (a compile's stdout and stderr) share the payload.
func decodeMessage(payload []byte) (*message, error) {
	d := decoder{b: payload}
	m := &message{Op: op(d.byte())}
	switch kind := d.byte(); {
	case d.err != nil:
	case kind == kindError:
		m.Reply = true
		m.Code = errCode(d.byte())
		m.Error = d.string()
		if m.Code == codeNone && d.err == nil {
			d.fail("error without a code")
		}
	case kind == kindReply || kind == kindRequest:
		m.Reply = kind == kindReply
		m.decodeBody(&d)
	default:
		d.fail("unknown message kind %d", kind)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the message", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// decodeBody reads the body of m's op in m's direction.
func (m *message) decodeBody(d *decoder) {
	switch {
	case m.Op == opHello:
		m.Hello = d.hello()
	case m.Op == opCompile && m.Reply:
		m.Result = d.compileResult()
	case m.Op == opCompile:
		m.Compile = d.compileRequest()
	case m.Op == opStats && m.Reply:
		m.Stats = d.stats()
	case m.Op == opStatus && m.Reply:
		m.Status = d.status()
	case (m.Op == opHosts || m.Op == opMonitor) && m.Reply:
		m.Hosts = d.hostReports()
	case m.Op == opCleanRemote && m.Reply:
		m.Cleaned = d.cleanReports()
	case m.Op == opHosts:
		m.RemoteReq = &remoteRequest{Check: d.bool()}
	case m.Op == opCleanRemote:
		m.RemoteReq = &remoteRequest{Project: d.string()}
	case m.Op == opStats, m.Op == opStatus, m.Op == opStop, m.Op == opZeroStats, m.Op == opClear, m.Op == opMonitor:
	default:
		d.fail("unknown operation %v", m.Op)
	}
}
