package daemon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleMessages has one message of each kind.
func sampleMessages() map[string]*message {
	return map[string]*message{
		"hello":       {Op: opHello, Hello: &hello{Magic: helloMagic, Protocol: ProtocolVersion, BuildID: "go:abc", PID: 42}},
		"hello reply": {Op: opHello, Reply: true, Hello: &hello{Magic: helloMagic, Protocol: -1, BuildID: "", PID: 1}},
		"compile": {Op: opCompile, Compile: &CompileRequest{Compiler: "gcc", Real: "/usr/bin/gcc",
			Args: []string{"-c", "a.c", "", "-o", "a.o"}, Dir: "/src", Env: []string{"PATH=/usr/bin", "LANG=C"}}},
		"empty compile": {Op: opCompile, Compile: &CompileRequest{}},
		"result": {Op: opCompile, Reply: true, Result: &CompileResult{Handled: true, Reason: "direct hit",
			Stdout: []byte("out"), Stderr: []byte("a.c:1: warning\n"), ExitCode: -1}},
		"zero result":   {Op: opCompile, Reply: true, Result: &CompileResult{}},
		"stats request": {Op: opStats},
		"stats": {Op: opStats, Reply: true, Stats: &StatsReport{Counters: map[string]int64{"hits": 1, "misses": -2, "": 0},
			CacheSize: 3, MaxSize: 1 << 40, Entries: 5, StatsSince: "x"}},
		"status request": {Op: opStatus},
		"status": {Op: opStatus, Reply: true, Status: &StatusReport{PID: 7, Protocol: 1, BuildID: "b", Socket: "/s",
			Started: time.Unix(1700000000, 5), IdleTimeout: time.Minute, Connections: 2, InFlight: 1, Requests: 9}},
		"stop":                   {Op: opStop},
		"stop reply":             {Op: opStop, Reply: true},
		"zero":                   {Op: opZeroStats},
		"clear reply":            {Op: opClear, Reply: true},
		"hosts request":          {Op: opHosts, RemoteReq: &remoteRequest{Check: true}},
		"hosts request no check": {Op: opHosts, RemoteReq: &remoteRequest{}},
		"hosts": {Op: opHosts, Reply: true, Hosts: []HostReport{
			{Host: "127.0.0.2:9693", Jobs: 4, Contacted: true, Reachable: true, Authenticated: true, Server: "b1",
				Toolchains: []HostToolchain{{Key: "id2-ab", Family: "gcc", Driver: "g++", Version: "12.2.0", Target: "x86_64-linux-gnu"}, {}},
				Slots:      8, Running: 3, Queued: 1, InFlight: 2, Backoff: 0, Sent: 10, OK: 9, Failed: 1, Sandboxed: true,
				ClockKnown: true, ClockSkew: -3 * time.Second, ClockUncertainty: 150 * time.Microsecond},
			{Host: "127.0.0.3:9693", Jobs: 8, Contacted: true, Error: "token refused", Backoff: 4 * time.Second, Failed: -1},
		}},
		"no hosts":             {Op: opHosts, Reply: true},
		"clean-remote request": {Op: opCleanRemote, RemoteReq: &remoteRequest{Project: "dcc-0123456789ab"}},
		"clean-remote": {Op: opCleanRemote, Reply: true, Cleaned: []CleanReport{
			{Host: "127.0.0.2:9693", Removed: 12}, {Host: "127.0.0.3:9693", Error: "connection refused"}}},
		"no remote":     errorReply(opHosts, ErrNoRemote),
		"error":         errorReply(opClear, ErrShuttingDown),
		"error no text": {Op: opStats, Reply: true, Code: codeFailed},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for name, m := range sampleMessages() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, writeMessage(&buf, m))
			got, err := readMessage(&buf)
			require.NoError(t, err)
			assert.Equal(t, m, got)
			_, err = readMessage(&buf)
			assert.ErrorIs(t, err, io.EOF)
		})
	}
}

func TestEncodeWithoutBody(t *testing.T) {
	for _, m := range []*message{
		{Op: opHello}, {Op: opCompile}, {Op: opCompile, Reply: true, Compile: &CompileRequest{}},
		{Op: opStats, Reply: true}, {Op: opStatus, Reply: true}, {Op: 99},
		{Op: opHosts}, {Op: opCleanRemote},
	} {
		_, err := encodeMessage(m)
		assert.ErrorIs(t, err, ErrProtocol, "%+v", m)
	}
}

func TestReadMessageErrors(t *testing.T) {
	valid, err := encodeMessage(&message{Op: opStop})
	require.NoError(t, err)
	frame := func(n uint32, payload []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, n)
		return append(b, payload...)
	}
	// payload frames op, kind and the parts with the right length.
	payload := func(op, kind byte, parts ...[]byte) []byte {
		p := []byte{op, kind}
		for _, part := range parts {
			p = append(p, part...)
		}
		return frame(uint32(len(p)), p)
	}
	tests := []struct {
		name    string
		input   []byte
		wantErr error
		wantMsg string
	}{
		{"empty stream", nil, io.EOF, ""},
		{"short length", []byte{0, 0}, io.ErrUnexpectedEOF, ""},
		{"zero length", frame(0, nil), ErrProtocol, "empty message"},
		{"too large", frame(MaxMessageSize+1, nil), ErrMessageTooLarge, "exceeds the limit"},
		{"largest length", frame(0xffffffff, nil), ErrMessageTooLarge, "exceeds the limit"},
		{"truncated payload", frame(100, []byte("abc")), io.ErrUnexpectedEOF, "got 3"},
		{"unknown op", frame(2, []byte{99, kindRequest}), ErrProtocol, "unknown operation op(99)"},
		{"unknown kind", frame(2, []byte{byte(opStop), 7}), ErrProtocol, "unknown message kind 7"},
		{"kind missing", frame(1, []byte{byte(opStop)}), ErrProtocol, "ends early"},
		{"error without code", frame(4, []byte{byte(opStop), kindError, 0, 0}), ErrProtocol, "without a code"},
		{"string longer than the message", frame(4, []byte{byte(opHello), kindRequest, 100, 'x'}), ErrProtocol, "exceeds the 1 bytes left"},
		{"huge list count", append(frame(13, []byte{byte(opCompile), kindRequest, 0, 0}), binary.AppendUvarint(nil, 1<<62)...), ErrProtocol, "exceeds"},
		{"bad varint", frame(12, append([]byte{byte(opHello), kindRequest, 0}, bytes.Repeat([]byte{0xff}, 9)...)), ErrProtocol, "bad integer"},
		{"bad boolean", frame(3, []byte{byte(opCompile), kindReply, 2}), ErrProtocol, "bad boolean"},
		{"huge host count", payload(byte(opHosts), kindReply, binary.AppendUvarint(nil, 1<<40)), ErrProtocol, "exceeds"},
		{"host count past the bytes", frame(20, append([]byte{byte(opHosts), kindReply, 2}, make([]byte, 17)...)), ErrProtocol, "exceeds the 17 bytes left"},
		{"huge toolchain count", payload(byte(opHosts), kindReply, []byte{1, 0, 0, 1, 1, 1, 0, 0}, binary.AppendUvarint(nil, 1<<30), make([]byte, 14)), ErrProtocol, "exceeds the 14 bytes left"},
		{"clean count past the bytes", frame(5, []byte{byte(opCleanRemote), kindReply, 1, 0, 0}), ErrProtocol, "exceeds the 2 bytes left"},
		{"hosts request without check", frame(2, []byte{byte(opHosts), kindRequest}), ErrProtocol, "ends early"},
		{"trailing bytes", frame(uint32(len(valid)-4+2), append(append([]byte{}, valid[4:]...), 1, 2)), ErrProtocol, "after the message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readMessage(bytes.NewReader(tt.input))
			require.ErrorIs(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestEncodeTooLarge(t *testing.T) {
	big := &message{Op: opCompile, Reply: true, Result: &CompileResult{Stdout: make([]byte, MaxMessageSize)}}
	_, err := encodeMessage(big)
	require.ErrorIs(t, err, ErrMessageTooLarge)
	assert.Contains(t, err.Error(), "compile message of")
}

func TestErrorCodes(t *testing.T) {
	for _, sentinel := range []error{ErrVersionMismatch, ErrMessageTooLarge, ErrProtocol, ErrShuttingDown, ErrDaemon, ErrNoRemote} {
		m := errorReply(opStats, errors.Join(errors.New("context"), sentinel))
		assert.ErrorIs(t, m.err(), sentinel)
	}
	assert.NoError(t, (&message{Op: opStats}).err())
}

// FuzzReadMessage: the decoder never panics, rejects or accepts cleanly, and
// allocates in proportion to its input, never to lengths the input claims.
func FuzzReadMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		frame, err := encodeMessage(m)
		require.NoError(f, err)
		f.Add(frame)
		f.Add(frame[:len(frame)/2])
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x03, 0xff, 0xff, 0xff, 1, 2, 3})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m, err := readMessage(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		if allocated := after.TotalAlloc - before.TotalAlloc; allocated > uint64(64*len(data))+4<<20 {
			t.Fatalf("%d input bytes allocated %d bytes", len(data), allocated)
		}
		if err != nil {
			if m != nil {
				t.Fatal("a message and an error")
			}
			return
		}
		// Whatever decodes encodes again, to the same message.
		frame, err := encodeMessage(m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := readMessage(bytes.NewReader(frame))
		if err != nil {
			t.Fatalf("decode the re-encoded message: %v", err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed %+v into %+v", m, again)
		}
	})
}
