package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/protocol"
	"github.com/hashicorp/yamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testServer is a server running in the test on a loopback address.
type testServer struct {
	addr  string
	token string
	cfg   *Config
	srv   *Server
	log   *bytes.Buffer
	logMu *sync.Mutex
}

// loopbackHost is 127.0.0.2 (distinct loopback addresses stand for distinct
// hosts), or 127.0.0.1 where 127.0.0.2 cannot be bound.
func loopbackHost(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		return "127.0.0.1"
	}
	require.NoError(t, l.Close())
	return "127.0.0.2"
}

// startServer runs a server with a fresh configuration, changed by mutate,
// and options changed by opts; it stops at the test's end.
func startServer(t testing.TB, mutate func(*Config), opts func(*Options)) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.Listen = loopbackHost(t) + ":0"
	cfg.Jobs = 2
	cfg.Tokens = []string{"the-first-token-0123456789", "the-second-token-abcdefghij"}
	cfg.CacheMaxSize = 64 << 20
	if mutate != nil {
		mutate(cfg)
	}
	logBuf := &bytes.Buffer{}
	var logMu sync.Mutex
	o := Options{Config: cfg, Name: "test-host",
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: logBuf, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if opts != nil {
		opts(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, o)
	require.NoError(t, err)
	addr, err := srv.Listen(ctx)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
		assert.NoError(t, srv.Close())
		logMu.Lock()
		defer logMu.Unlock()
		for _, tok := range cfg.Tokens {
			assert.NotContains(t, logBuf.String(), tok, "a token reached the log")
		}
	})
	return &testServer{addr: addr.String(), token: cfg.Tokens[1], cfg: cfg, srv: srv, log: logBuf, logMu: &logMu}
}

// transport is how clients reach ts: TLS with its key pinned.
func (ts *testServer) transport() protocol.Transport {
	return protocol.Transport{Fingerprint: ts.srv.key.Fingerprint}
}

// transportOf is how clients reach a server of cfg: its key pinned, or
// plain TCP.
func transportOf(t testing.TB, cfg *Config) protocol.Transport {
	t.Helper()
	if cfg.Plaintext {
		return protocol.Transport{Plaintext: true}
	}
	key, err := LoadHostKey(cfg.TLSFile, "")
	require.NoError(t, err)
	return protocol.Transport{Fingerprint: key.Fingerprint}
}

// rawConn is a connection to ts with the transport started and nothing
// else (the dcc handshake is the test's), closed at the test's end.
func (ts *testServer) rawConn(t testing.TB) net.Conn {
	t.Helper()
	raw, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := protocol.SecureClient(ctx, raw, ts.transport())
	require.NoError(t, err)
	return conn
}

// lockedWriter serializes writes to a buffer shared by goroutines.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// dial connects an authenticated client session, closed at the test's end.
func (ts *testServer) dial(t testing.TB) *protocol.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := protocol.Dial(ctx, ts.addr, ts.token, "tester@test", ts.transport())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// call sends one request and waits for the answer of type want.
func call(t testing.TB, s *protocol.ClientSession, req protocol.Message, want protocol.MsgType) (protocol.Message, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return s.Call(ctx, req, want)
}

// gccKey finds gcc among the toolchains a Welcome advertised.
func gccKey(t testing.TB, w *protocol.Welcome) string {
	t.Helper()
	for _, tc := range w.Toolchains {
		if tc.Driver == "gcc" {
			return tc.Key
		}
	}
	t.Skip("the server serves no gcc")
	return ""
}

func TestServerCompilesAndCaches(t *testing.T) {
	realCompiler(t, "gcc")
	ts := startServer(t, nil, nil)
	s := ts.dial(t)
	w := s.Welcome()
	assert.Equal(t, 2, w.Load.Slots)
	key := gccKey(t, w)
	dir, text := clientUnit(t, "gcc")
	want := localCompile(t, dir, "gcc", "-g", "-O2", "-x", "cpp-output", "-c", "x.i")
	req := &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-g", "-O2"}, Preprocessed: text,
		SourceName: "x.c", ClientDir: dir, Project: "demo", CacheKey: strings.Repeat("ab", 32), TimeoutMS: 60000}

	m, err := call(t, s, req, protocol.MsgCompileResult)
	require.NoError(t, err)
	res := m.(*protocol.CompileResult)
	require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
	assert.False(t, res.Cached)
	assert.True(t, bytes.Equal(want, res.Object), "the object differs from a local compile")
	assert.Equal(t, 2, res.Load.Slots)

	// A clean compile is in the shared cache too, under the client's key,
	// as the client would have put it.
	assert.True(t, res.Shared)
	m, err = call(t, s, &protocol.CacheGet{Project: "demo", Key: req.CacheKey}, protocol.MsgCacheGetResult)
	require.NoError(t, err)
	got := m.(*protocol.CacheGetResult)
	require.True(t, got.Found)
	entry, err := badgerstore.DecodePortableEntry(got.Entry)
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{cache.ObjectFile: want}, entry.Files)
	assert.Empty(t, entry.Stdout)
	assert.Empty(t, entry.Stderr)

	// The same unit again, from another client: answered from the shared
	// cache the first compile filled, nothing compiled.
	other := ts.dial(t)
	m, err = call(t, other, req, protocol.MsgCompileResult)
	require.NoError(t, err)
	res = m.(*protocol.CompileResult)
	assert.True(t, res.FromShared)
	assert.True(t, bytes.Equal(want, res.Object))

	// No CacheKey: compiled again, not looked up.
	noCache := *req
	noCache.CacheKey = ""
	m, err = call(t, s, &noCache, protocol.MsgCompileResult)
	require.NoError(t, err)
	assert.False(t, m.(*protocol.CompileResult).Cached)

	// A failed compile is answered, and not cached.
	bad := *req
	bad.CacheKey = strings.Repeat("ef", 32) // a key is the digest of its text
	bad.Preprocessed = []byte("# 1 \"x.c\"\nint broken( {\n")
	for range 2 {
		m, err = call(t, s, &bad, protocol.MsgCompileResult)
		require.NoError(t, err)
		res = m.(*protocol.CompileResult)
		assert.NotEqual(t, 0, res.ExitCode)
		assert.False(t, res.Cached)
		assert.False(t, res.Shared)
		assert.Contains(t, string(res.Stderr), "error")
	}

	// A compile with a warning is not shared: the client's own compiler
	// says it again, and the client shares what it made.
	warn := *req
	warn.CacheKey = strings.Repeat("cd", 32)
	warn.Args = []string{"-O2", "-Wall"}
	warn.Preprocessed = []byte("# 1 \"w.c\"\nint f(void) { int unused; return 0; }\n")
	m, err = call(t, s, &warn, protocol.MsgCompileResult)
	require.NoError(t, err)
	res = m.(*protocol.CompileResult)
	require.Equal(t, 0, res.ExitCode)
	require.Contains(t, string(res.Stderr), "unused")
	assert.False(t, res.Shared)
	m, err = call(t, s, &protocol.CacheGet{Project: "demo", Key: warn.CacheKey}, protocol.MsgCacheGetResult)
	require.NoError(t, err)
	assert.False(t, m.(*protocol.CacheGetResult).Found)
	// Sent again, from another client: answered from the result cache.
	m, err = call(t, other, &warn, protocol.MsgCompileResult)
	require.NoError(t, err)
	res = m.(*protocol.CompileResult)
	assert.True(t, res.Cached)
	assert.Contains(t, string(res.Stderr), "unused")
	assertEmptyDir(t, ts.cfg.Workdir)

	// Status.
	m, err = call(t, s, &protocol.Status{}, protocol.MsgStatusResult)
	require.NoError(t, err)
	st := m.(*protocol.StatusResult)
	assert.Equal(t, "test-host", st.Server)
	assert.Equal(t, w.Toolchains, st.Toolchains)
}

// A compile request whose key the shared cache holds (clean) is answered
// from there, nothing compiled; an unusable entry is no answer.
func TestServerCompileFromSharedCache(t *testing.T) {
	realCompiler(t, "gcc")
	ts := startServer(t, nil, nil)
	s := ts.dial(t)
	key := gccKey(t, s.Welcome())
	dir, text := clientUnit(t, "gcc")
	entry := func(e cache.Entry) []byte {
		b, err := badgerstore.EncodePortableEntry(e)
		require.NoError(t, err)
		return b
	}
	tests := []struct {
		name       string
		entry      []byte
		fromShared bool
	}{
		{"a clean entry", entry(cache.Entry{Files: map[string][]byte{cache.ObjectFile: []byte("shared object")}}), true},
		{"an entry with diagnostics", entry(cache.Entry{Files: map[string][]byte{cache.ObjectFile: []byte("shared object")}, Stderr: []byte("warning: w")}), true},
		{"an entry without an object", entry(cache.Entry{Files: map[string][]byte{"deps": []byte("x.o: x.c")}}), false},
		{"a damaged entry", []byte("not an entry"), false},
		{"no entry", nil, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cacheKey := fmt.Sprintf("%064x", i+1)
			if tc.entry != nil {
				_, err := call(t, s, &protocol.CachePut{Project: "demo", Key: cacheKey, Entry: tc.entry}, protocol.MsgCachePutResult)
				require.NoError(t, err)
			}
			req := &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-O2"}, Preprocessed: text,
				SourceName: "x.c", ClientDir: dir, Project: "demo", CacheKey: cacheKey, TimeoutMS: 60000}
			m, err := call(t, s, req, protocol.MsgCompileResult)
			require.NoError(t, err)
			res := m.(*protocol.CompileResult)
			assert.Equal(t, tc.fromShared, res.FromShared)
			if tc.fromShared {
				assert.Equal(t, "shared object", string(res.Object))
				return
			}
			require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
			assert.NotEqual(t, "shared object", string(res.Object), "compiled")
		})
	}
}

func TestServerSharedCacheAndClean(t *testing.T) {
	ts := startServer(t, nil, nil)
	s := ts.dial(t)
	k1, k2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	m, err := call(t, s, &protocol.CacheGet{Project: "zlib", Key: k1}, protocol.MsgCacheGetResult)
	require.NoError(t, err)
	assert.False(t, m.(*protocol.CacheGetResult).Found)

	for _, k := range []string{k1, k2} {
		m, err = call(t, s, &protocol.CachePut{Project: "zlib", Key: k, Entry: []byte("entry " + k[:1])}, protocol.MsgCachePutResult)
		require.NoError(t, err)
		assert.True(t, m.(*protocol.CachePutResult).Stored)
	}
	_, err = call(t, s, &protocol.CachePut{Project: "lua", Key: k1, Entry: []byte("lua entry")}, protocol.MsgCachePutResult)
	require.NoError(t, err)

	// Another client sees the entry.
	other := ts.dial(t)
	m, err = call(t, other, &protocol.CacheGet{Project: "zlib", Key: k1}, protocol.MsgCacheGetResult)
	require.NoError(t, err)
	got := m.(*protocol.CacheGetResult)
	assert.True(t, got.Found)
	assert.Equal(t, "entry 1", string(got.Entry))

	m, err = call(t, s, &protocol.Clean{Project: "zlib"}, protocol.MsgCleanResult)
	require.NoError(t, err)
	assert.Equal(t, int64(2), m.(*protocol.CleanResult).Removed)
	m, err = call(t, s, &protocol.CacheGet{Project: "zlib", Key: k1}, protocol.MsgCacheGetResult)
	require.NoError(t, err)
	assert.False(t, m.(*protocol.CacheGetResult).Found)
	m, err = call(t, s, &protocol.CacheGet{Project: "lua", Key: k1}, protocol.MsgCacheGetResult)
	require.NoError(t, err)
	assert.True(t, m.(*protocol.CacheGetResult).Found, "another project's entries stay")

	// Keys and projects are validated.
	for _, req := range []protocol.Message{
		&protocol.CacheGet{Project: "zlib", Key: "../../etc/passwd"},
		&protocol.CachePut{Project: "zlib", Key: strings.Repeat("G", 64), Entry: []byte("x")},
		&protocol.CachePut{Project: "../x", Key: k1, Entry: []byte("x")},
		&protocol.CachePut{Project: "zlib", Key: k1},
		&protocol.Clean{Project: "a/b"},
	} {
		_, err := call(t, s, req, req.Type()+1)
		var re *protocol.RemoteError
		require.True(t, errors.As(err, &re), "%T %v", req, err)
		assert.Equal(t, protocol.CodeMalformed, re.Code)
	}
}

func TestServerRefusesWrongToken(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := protocol.Dial(ctx, ts.addr, "a-wrong-token-0123456789", "intruder@test", ts.transport())
	require.Error(t, err)
	assert.ErrorIs(t, err, protocol.ErrAuth)
	assert.Contains(t, err.Error(), "auth")
	// Both configured tokens work.
	for _, tok := range ts.cfg.Tokens {
		s, err := protocol.Dial(ctx, ts.addr, tok, "tester@test", ts.transport())
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
}

func TestServerRefusesForbiddenArgsAndKeepsServing(t *testing.T) {
	realCompiler(t, "gcc")
	ts := startServer(t, nil, nil)
	s := ts.dial(t)
	key := gccKey(t, s.Welcome())
	dir, text := clientUnit(t, "gcc")
	tests := []struct {
		req  protocol.CompileRequest
		code string
		want string
	}{
		{protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-O2", "-fplugin=/tmp/evil.so"}, Preprocessed: text}, protocol.CodeForbiddenArg, `"-fplugin=/tmp/evil.so"`},
		{protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-o", "/etc/passwd"}, Preprocessed: text}, protocol.CodeForbiddenArg, `"-o"`},
		{protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-B/tmp"}, Preprocessed: text}, protocol.CodeForbiddenArg, `"-B/tmp"`},
		{protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"@/etc/passwd"}, Preprocessed: text}, protocol.CodeForbiddenArg, `"@/etc/passwd"`},
		{protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-specs=/x"}, Preprocessed: text}, protocol.CodeForbiddenArg, `"-specs=/x"`},
		{protocol.CompileRequest{Toolchain: "/usr/bin/gcc", Language: "c", Preprocessed: text}, protocol.CodeUnknownToolchain, `"/usr/bin/gcc"`},
		{protocol.CompileRequest{Toolchain: key, Language: "fortran", Preprocessed: text}, protocol.CodeMalformed, "language"},
		{protocol.CompileRequest{Toolchain: key, Language: "c", Preprocessed: text, CacheKey: "../../x"}, protocol.CodeMalformed, "cache key"},
		{protocol.CompileRequest{Toolchain: key, Language: "c", Preprocessed: text, CacheKey: strings.Repeat("a", 64), Project: "../etc"}, protocol.CodeMalformed, "project"},
	}
	for _, tt := range tests {
		_, err := call(t, s, &tt.req, protocol.MsgCompileResult)
		var re *protocol.RemoteError
		require.True(t, errors.As(err, &re), "%v", err)
		assert.Equal(t, tt.code, re.Code)
		assert.Contains(t, re.Message, tt.want)
	}
	// The same session, and a new one, still compile.
	good := &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-O2"}, Preprocessed: text, SourceName: "x.c", ClientDir: dir}
	for _, sess := range []*protocol.ClientSession{s, ts.dial(t)} {
		m, err := call(t, sess, good, protocol.MsgCompileResult)
		require.NoError(t, err)
		assert.Equal(t, 0, m.(*protocol.CompileResult).ExitCode)
	}
	assertEmptyDir(t, ts.cfg.Workdir)
}

// rawFrame builds a frame header (and payload) as the wire carries it.
func rawFrame(typ protocol.MsgType, codec byte, decoded, wire uint32, payload []byte) []byte {
	b := []byte{byte(typ), codec, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[2:], decoded)
	binary.BigEndian.PutUint32(b[6:], wire)
	return append(b, payload...)
}

// readRefusal reads what the server answers and expects a refusal, then the
// end of the connection or stream.
func readRefusal(t *testing.T, r io.Reader) *protocol.RemoteError {
	t.Helper()
	m, err := protocol.ReadMessage(r)
	require.NoError(t, err)
	e, ok := m.(*protocol.Error)
	require.True(t, ok, "got %T", m)
	_, err = protocol.ReadMessage(r)
	assert.Error(t, err, "the server closes after a refusal")
	return &protocol.RemoteError{Code: e.Code, Message: e.Message}
}

func TestServerRefusesMalformedFramesBeforeAuth(t *testing.T) {
	ts := startServer(t, nil, nil)
	tests := []struct {
		name string
		send []byte
		code string
	}{
		{"request before auth", rawFrame(protocol.MsgCompileRequest, 0, 3, 3, []byte{1, 2, 3}), protocol.CodeMalformed},
		{"unknown type", rawFrame(200, 0, 1, 1, []byte{0}), protocol.CodeMalformed},
		{"oversized auth", rawFrame(protocol.MsgAuth, 0, 1<<30, 1<<30, nil), protocol.CodeTooLarge},
		{"auth of garbage", rawFrame(protocol.MsgAuth, 0, 5, 5, []byte{0xff, 0xff, 0xff, 0xff, 0xff}), protocol.CodeMalformed},
		{"bad codec", rawFrame(protocol.MsgAuth, 7, 5, 5, []byte{1, 2, 3, 4, 5}), protocol.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := ts.rawConn(t)
			require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
			m, err := protocol.ReadMessage(conn)
			require.NoError(t, err)
			require.IsType(t, &protocol.Hello{}, m)
			_, err = conn.Write(tt.send)
			require.NoError(t, err)
			re := readRefusal(t, conn)
			assert.Equal(t, tt.code, re.Code, re.Message)
		})
	}
	// Connections that send nothing, or garbage, and go.
	for _, junk := range [][]byte{nil, []byte("GET / HTTP/1.0\r\n\r\n"), bytes.Repeat([]byte{0}, 100)} {
		conn, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
		require.NoError(t, err)
		_, _ = conn.Write(junk)
		require.NoError(t, conn.Close())
	}
	// A good client is still served.
	s := ts.dial(t)
	_, err := call(t, s, &protocol.Status{}, protocol.MsgStatusResult)
	require.NoError(t, err)
}

func TestServerRefusesMalformedFramesOnStreams(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	conn := ts.rawConn(t)
	_, err := protocol.ClientHandshake(ctx, conn, ts.token, "raw@test")
	require.NoError(t, err)
	sess, err := yamux.Client(conn, protocol.YamuxConfig())
	require.NoError(t, err)
	defer sess.Close()
	tests := []struct {
		name string
		send []byte
		code string
	}{
		{"oversized", rawFrame(protocol.MsgCompileRequest, 0, protocol.MaxMessageSize+1, 10, nil), protocol.CodeTooLarge},
		{"wire over limit", rawFrame(protocol.MsgCachePut, 1, 100, protocol.MaxFrameSize+1, nil), protocol.CodeTooLarge},
		{"garbage payload", rawFrame(protocol.MsgCompileRequest, 0, 4, 4, []byte{0xff, 0xff, 0xff, 0xff}), protocol.CodeMalformed},
		{"lz4 that lies", rawFrame(protocol.MsgCacheGet, 1, 1000, 4, []byte{0x10, 0x61, 0x62, 0x63}), protocol.CodeMalformed},
		{"not a request", rawFrame(protocol.MsgWelcome, 0, 0, 0, nil), protocol.CodeMalformed},
		{"unknown type", rawFrame(99, 0, 0, 0, nil), protocol.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sess.OpenStream()
			require.NoError(t, err)
			defer st.Close()
			require.NoError(t, st.SetDeadline(time.Now().Add(10*time.Second)))
			_, err = st.Write(tt.send)
			require.NoError(t, err)
			m, err := protocol.ReadMessage(st)
			require.NoError(t, err)
			e, ok := m.(*protocol.Error)
			require.True(t, ok, "got %T", m)
			assert.Equal(t, tt.code, e.Code, e.Message)
		})
	}
	// The session itself still works, and so do others.
	st, err := sess.OpenStream()
	require.NoError(t, err)
	require.NoError(t, protocol.WriteMessage(st, &protocol.Status{}))
	_, err = protocol.ReadExpect(st, protocol.MsgStatusResult)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	_, err = call(t, ts.dial(t), &protocol.Status{}, protocol.MsgStatusResult)
	require.NoError(t, err)
}

func TestServerRefusesAddressesNotAllowed(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := protocol.Dial(ctx, ts.addr, ts.token, "tester@test", ts.transport())
	require.Error(t, err)
	assert.NotErrorIs(t, err, protocol.ErrAuth, "refused before the handshake")
	conn, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	n, err := conn.Read(make([]byte, 1))
	assert.Equal(t, 0, n, "not even a Hello")
	assert.Error(t, err)
	assert.Eventually(t, func() bool { return strings.Contains(ts.logText(), "address not in allow") }, 5*time.Second, 10*time.Millisecond)
}

// logText returns what the server logged so far.
func (ts *testServer) logText() string {
	ts.logMu.Lock()
	defer ts.logMu.Unlock()
	return ts.log.String()
}

// TestServerManyClientsAtOnce: three clients send four compiles each, all
// at once, to a server with 2 compile slots, and so 4×2 = 8 places to wait
// (server/slots.go). The stand-in compiler notes when it starts and ends and
// waits for a gate: exactly 2 compiles start, the server's load says 8 wait,
// and the last 2 requests are refused as busy at once, before any compile
// ends. Once the gate opens every waiting compile runs, never more than 2 at
// a time, and each client gets the object of its own unit.
func TestServerManyClientsAtOnce(t *testing.T) {
	const clients, perClient, jobs = 3, 4, 2
	const queue = 4 * jobs
	dir := t.TempDir()
	gate, events := filepath.Join(dir, "gate"), filepath.Join(dir, "events")
	// Each line is one short append (O_APPEND), so lines never mix. The job
	// directory holds only the job's input: the "object" is the unit's text.
	comp := fakeCompiler(t, fmt.Sprintf("echo start >> %[1]s\nwhile [ ! -e %[2]s ]; do sleep 0.01; done\n"+
		"cat ./*.i > out.o\necho end >> %[1]s\n", events, gate))
	// The fake compiler talks with the test through files on the host, which
	// a sandboxed job cannot see: no sandbox here (sandbox_test.go tests it).
	ts := startServer(t, func(c *Config) { c.Jobs = jobs; c.Sandbox.Off = true },
		func(o *Options) { o.Toolchains = NewToolchains([]Compiler{comp}) })
	// Runs before the server stops: held compiles end, even when the test fails.
	t.Cleanup(func() { _ = os.WriteFile(gate, nil, 0o600) })
	observer := ts.dial(t)
	load := func() protocol.Load {
		m, err := call(t, observer, &protocol.Status{}, protocol.MsgStatusResult)
		require.NoError(t, err)
		return m.(*protocol.StatusResult).Load
	}
	lines := func() []string {
		b, err := os.ReadFile(events)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		require.NoError(t, err)
		return strings.Fields(string(b))
	}

	type answer struct {
		unit string
		res  *protocol.CompileResult
		err  error
	}
	answers := make(chan answer, clients*perClient)
	var wg sync.WaitGroup
	for c := range clients {
		s := ts.dial(t)
		for j := range perClient {
			unit := fmt.Sprintf("# 1 \"u%d-%d.c\"\nint u%d_%d;\n", c, j, c, j)
			wg.Go(func() {
				req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Args: []string{"-O1"},
					Preprocessed: []byte(unit), SourceName: fmt.Sprintf("u%d-%d.c", c, j)}
				m, err := call(t, s, req, protocol.MsgCompileResult)
				a := answer{unit: unit, err: err}
				if err == nil {
					a.res = m.(*protocol.CompileResult)
				}
				answers <- a
			})
		}
	}

	// Before any compile ends: 2 run, 8 wait, 2 were turned away.
	var busy []answer
	var l protocol.Load
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		for len(answers) > 0 {
			busy = append(busy, <-answers)
		}
		if l = load(); len(busy) == clients*perClient-jobs-queue && l.Running == jobs && l.Queued == queue {
			break
		}
		require.True(t, time.Now().Before(deadline), "want %d busy refusals, %d compiles running and %d waiting; got %d answers, load %+v",
			clients*perClient-jobs-queue, jobs, queue, len(busy), l)
	}
	for _, a := range busy {
		var re *protocol.RemoteError
		require.ErrorAs(t, a.err, &re, "only refusals come back while the compiles are held")
		assert.Equal(t, protocol.CodeBusy, re.Code, re.Message)
	}
	time.Sleep(200 * time.Millisecond) // room for a compile too many to start
	require.Equal(t, []string{"start", "start"}, lines(), "exactly the slots' compiles started")
	assert.Equal(t, protocol.Load{Slots: jobs, Running: jobs, Queued: queue}, load())

	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	wg.Wait()
	close(answers)
	compiled := 0
	for a := range answers {
		if assert.NoError(t, a.err) {
			assert.Equal(t, 0, a.res.ExitCode, "%s", a.res.Stderr)
			assert.Equal(t, a.unit, string(a.res.Object), "each client gets its own unit's object")
			compiled++
		}
	}
	assert.Equal(t, jobs+queue, compiled, "every waiting compile ran")
	running, most, starts := 0, 0, 0
	for _, ev := range lines() {
		if ev == "start" {
			running++
			starts++
		} else {
			running--
		}
		most = max(most, running)
	}
	assert.Equal(t, jobs+queue, starts)
	assert.Zero(t, running, "every compile ended")
	assert.Equal(t, jobs, most, "never more compiles at once than slots: %v", lines())
	assert.Equal(t, protocol.Load{Slots: jobs}, load())
	assertEmptyDir(t, ts.cfg.Workdir)
}

func TestServerGracefulShutdownFinishesRunningJobs(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	comp := fakeCompiler(t, fmt.Sprintf("while [ ! -e %s ]; do sleep 0.01; done\necho built > out.o\n", gate))
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.Listen = loopbackHost(t) + ":0"
	cfg.Tokens = []string{"shutdown-token-0123456789"}
	cfg.Sandbox.Off = true // the fake compiler waits for a file on the host
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := New(ctx, Options{Config: cfg, Toolchains: NewToolchains([]Compiler{comp}), ShutdownGrace: 20 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer srv.Close()
	addr, err := srv.Listen(ctx)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()

	s, err := protocol.Dial(t.Context(), addr.String(), cfg.Tokens[0], "tester@test", transportOf(t, cfg))
	require.NoError(t, err)
	defer s.Close()
	answer := make(chan protocol.Message, 1)
	go func() {
		m, err := call(t, s, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x")}, protocol.MsgCompileResult)
		if err != nil {
			answer <- &protocol.Error{Message: err.Error()}
			return
		}
		answer <- m
	}()
	require.Eventually(t, func() bool { return srv.runner.Load("").Running == 1 }, 10*time.Second, 5*time.Millisecond)
	cancel() // SIGTERM
	// No new connections once shutting down.
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	m := <-answer
	res, ok := m.(*protocol.CompileResult)
	require.True(t, ok, "%v", m)
	assert.Equal(t, "built\n", string(res.Object))
	require.NoError(t, <-served)
}

func TestServerConcurrentIdenticalCompilesRunOnce(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	runs := filepath.Join(t.TempDir(), "runs")
	comp := fakeCompiler(t, fmt.Sprintf("echo run >> %s\nwhile [ ! -e %s ]; do sleep 0.01; done\necho object > out.o\n", runs, gate))
	// The fake compiler waits for a file on the host: no sandbox here.
	ts := startServer(t, func(c *Config) { c.Sandbox.Off = true }, func(o *Options) { o.Toolchains = NewToolchains([]Compiler{comp}) })
	req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("unit"),
		Project: "p", CacheKey: strings.Repeat("c", 64)}
	results := make(chan *protocol.CompileResult, 3)
	var wg sync.WaitGroup
	for range 3 {
		s := ts.dial(t)
		wg.Go(func() {
			m, err := call(t, s, req, protocol.MsgCompileResult)
			if assert.NoError(t, err) {
				results <- m.(*protocol.CompileResult)
			}
		})
	}
	require.Eventually(t, func() bool { _, err := os.Stat(runs); return err == nil }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	wg.Wait()
	close(results)
	// A request that reaches the host after the compile ended is answered
	// from the shared cache (FromShared), one during it by the flight.
	notCompiled := 0
	for res := range results {
		assert.Equal(t, "object\n", string(res.Object))
		if res.Cached || res.FromShared {
			notCompiled++
		}
	}
	assert.Equal(t, 2, notCompiled)
	data, err := os.ReadFile(runs)
	require.NoError(t, err)
	assert.Equal(t, "run\n", string(data), "one compile for three identical requests")
}

// TestNewSetsDamagedCacheAside: a host whose cache database no longer opens
// keeps it aside and serves with an empty one; one that another process
// has open is a clear error, and is left alone.
func TestNewSetsDamagedCacheAside(t *testing.T) {
	newServer := func(cfg *Config, log io.Writer) (*Server, error) {
		return New(t.Context(), Options{Config: cfg, Toolchains: NewToolchains(nil),
			Logger: slog.New(slog.NewTextHandler(log, nil))})
	}
	cfg := DefaultConfig(t.TempDir())
	cfg.Tokens = []string{"aside-token-0123456789"}
	srv, err := newServer(cfg, io.Discard)
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	require.NoError(t, os.WriteFile(filepath.Join(cfg.CacheDir, "MANIFEST"), []byte("garbage"), 0o600))

	var log bytes.Buffer
	srv, err = newServer(cfg, &log)
	require.NoError(t, err, "the host starts over")
	assert.Contains(t, log.String(), "set aside")
	aside, err := filepath.Glob(cfg.CacheDir + ".damaged-*")
	require.NoError(t, err)
	require.Len(t, aside, 1)
	b, err := os.ReadFile(filepath.Join(aside[0], "MANIFEST"))
	require.NoError(t, err)
	assert.Equal(t, "garbage", string(b), "the damaged database is kept as it was")

	_, err = newServer(cfg, io.Discard)
	require.Error(t, err, "a second host on the same cache_dir")
	assert.Contains(t, err.Error(), "another process has the cache database")
	require.NoError(t, srv.Close())
	aside, err = filepath.Glob(cfg.CacheDir + ".damaged-*")
	require.NoError(t, err)
	assert.Len(t, aside, 1, "an open database is not set aside")
}
