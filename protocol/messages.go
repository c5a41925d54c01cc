package protocol

import (
	"fmt"
	"math"
	"strings"
)

// Hello is the server's first message on a new connection.
type Hello struct {
	Version uint16   // the server's protocol version
	Server  string   // host name, for logs
	Nonce   [32]byte // from crypto/rand: the client's challenge
}

// Type returns MsgHello.
func (*Hello) Type() MsgType { return MsgHello }

func (m *Hello) encode(e *encoder) {
	e.uvarint(uint64(m.Version))
	e.string("server", m.Server)
	e.raw(m.Nonce[:])
}

func (m *Hello) decode(d *decoder) error {
	m.Version = d.uint16("version")
	m.Server = d.string("server")
	d.fixed("nonce", m.Nonce[:])
	return d.err
}

// Auth is the client's answer to Hello: it proves the client knows a token
// and challenges the server to prove the same.
type Auth struct {
	Version uint16   // the client's protocol version
	Client  string   // user@host, for logs
	Nonce   [32]byte // from crypto/rand: the server's challenge
	MAC     [32]byte // HMAC-SHA256(token, "dcc-client-v1" || Hello.Nonce || Auth.Nonce)
}

// Type returns MsgAuth.
func (*Auth) Type() MsgType { return MsgAuth }

func (m *Auth) encode(e *encoder) {
	e.uvarint(uint64(m.Version))
	e.string("client", m.Client)
	e.raw(m.Nonce[:])
	e.raw(m.MAC[:])
}

func (m *Auth) decode(d *decoder) error {
	m.Version = d.uint16("version")
	m.Client = d.string("client")
	d.fixed("nonce", m.Nonce[:])
	d.fixed("mac", m.MAC[:])
	return d.err
}

// Welcome ends a successful handshake: the server proves it knows the token
// and describes itself.
type Welcome struct {
	MAC        [32]byte // HMAC-SHA256(token, "dcc-server-v1" || Auth.Nonce || Hello.Nonce)
	Toolchains []Toolchain
	Load       Load
	// Sandboxed: the host runs every job in a sandbox (false when its
	// config says sandbox = "off").
	Sandboxed bool
	// Ships: the host takes toolchains shipped by clients (ToolchainOffer)
	// and runs them in its sandbox.
	Ships bool
}

// Type returns MsgWelcome.
func (*Welcome) Type() MsgType { return MsgWelcome }

func (m *Welcome) encode(e *encoder) {
	e.raw(m.MAC[:])
	encodeToolchains(e, m.Toolchains)
	m.Load.encode(e)
	e.bool(m.Sandboxed)
	e.bool(m.Ships)
}

func (m *Welcome) decode(d *decoder) error {
	d.fixed("mac", m.MAC[:])
	m.Toolchains = decodeToolchains(d)
	m.Load.decode(d)
	m.Sandboxed = d.bool("sandboxed")
	m.Ships = d.bool("ships")
	return d.err
}

// Error is a refusal, sent either way in place of the expected message.
type Error struct {
	Code    string // one of the Code constants
	Message string // one line for humans; never contains a token
}

// Type returns MsgError.
func (*Error) Type() MsgType { return MsgError }

func (m *Error) encode(e *encoder) {
	e.string("code", m.Code)
	e.string("message", m.Message)
}

func (m *Error) decode(d *decoder) error {
	m.Code = d.string("code")
	m.Message = d.string("message")
	return d.err
}

// RemoteError is an Error message received from the peer, as a Go error.
// Codes "auth", "version", "too-large", "malformed" and "transport" match
// ErrAuth, ErrVersion, ErrTooLarge, ErrMalformed and ErrTransport under
// errors.Is.
type RemoteError struct{ Code, Message string }

// Error returns the code and message, with control characters replaced, as
// the peer chose them.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("protocol: peer refused (%s): %s", printable(e.Code), printable(e.Message))
}

// Is reports whether the error's code corresponds to target.
func (e *RemoteError) Is(target error) bool {
	switch e.Code {
	case CodeAuth:
		return target == ErrAuth
	case CodeVersion:
		return target == ErrVersion
	case CodeTooLarge:
		return target == ErrTooLarge
	case CodeMalformed:
		return target == ErrMalformed
	case CodeTransport:
		return target == ErrTransport
	}
	return false
}

// printable keeps peer-chosen text from carrying control sequences into logs,
// and bounds its length.
func printable(s string) string {
	const maxLen = 512
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

// Toolchain describes a compiler a server can run.
type Toolchain struct {
	Key     string // toolchain.Identity.Key(): "id3-<hex>"; the only thing a client names
	Family  string // "gcc", "clang"
	Driver  string // "gcc", "g++", "clang", "clang++"
	Version string
	Target  string // e.g. x86_64-linux-gnu
	// Bundle is, for a toolchain a client shipped to the host, the hex
	// digest of its bundle (ToolchainOffer.BundleDigest); jobs name it in
	// CompileRequest.Bundle. "" for a compiler installed on the host.
	Bundle string
}

func (t *Toolchain) encode(e *encoder) {
	e.string("toolchain.key", t.Key)
	e.string("toolchain.family", t.Family)
	e.string("toolchain.driver", t.Driver)
	e.string("toolchain.version", t.Version)
	e.string("toolchain.target", t.Target)
	e.string("toolchain.bundle", t.Bundle)
}

func (t *Toolchain) decode(d *decoder) {
	t.Key = d.string("toolchain.key")
	t.Family = d.string("toolchain.family")
	t.Driver = d.string("toolchain.driver")
	t.Version = d.string("toolchain.version")
	t.Target = d.string("toolchain.target")
	t.Bundle = d.string("toolchain.bundle")
}

// toolchainMinSize is the fewest bytes a Toolchain takes: six empty strings.
const toolchainMinSize = 6

func encodeToolchains(e *encoder, ts []Toolchain) {
	if e.count("toolchains", len(ts), MaxToolchains) {
		for i := range ts {
			ts[i].encode(e)
		}
	}
}

func decodeToolchains(d *decoder) []Toolchain {
	n := d.count("toolchains", MaxToolchains, toolchainMinSize)
	if n == 0 {
		return nil
	}
	ts := make([]Toolchain, n)
	for i := range ts {
		ts[i].decode(d)
	}
	return ts
}

// Load is a server's current load, reported with every reply that can carry it.
type Load struct {
	Slots   int // jobs the host runs at once
	Running int
	Queued  int
	// Mine is how many of Running and Queued are the jobs of the session
	// the report goes to, counted at the same instant: the others' are
	// Running+Queued-Mine, however late the report arrives (a client's
	// own count of its jobs there has moved on by then).
	Mine int
}

func (l *Load) encode(e *encoder) {
	e.varint(int64(l.Slots))
	e.varint(int64(l.Running))
	e.varint(int64(l.Queued))
	e.varint(int64(l.Mine))
}

func (l *Load) decode(d *decoder) {
	l.Slots = d.int("load.slots")
	l.Running = d.int("load.running")
	l.Queued = d.int("load.queued")
	l.Mine = d.int("load.mine")
}

// CompileRequest asks a server to compile one preprocessed translation unit.
type CompileRequest struct {
	Toolchain    string   // a Toolchain.Key the server advertised
	Language     string   // the -x language of the preprocessed input: "c", "c++", "objective-c", "objective-c++"
	Args         []string // code-generation arguments only (the server checks them against its allow-list)
	Preprocessed []byte   // the preprocessed translation unit
	SourceName   string   // the source's name as the client compiled it (base name only is used)
	ClientDir    string   // the client's working directory (absolute), for debug-info prefix maps
	Project      string   // project namespace for the result cache ("" = default)
	CacheKey     string   // hex key of this job in the result cache ("" = do not cache); the server validates [0-9a-f]{64}
	TimeoutMS    int64    // the client's limit; the server applies min(this, its own)

	// A request with Sources is compiled from the sources instead of
	// Preprocessed text: the server lays the files out under a job
	// directory at their paths on the client, runs in the client's
	// directory there, searches only IncludeArgs' and SystemDirs'
	// directories (below the job directory), and answers with the files
	// the compile read (CompileResult.Deps). SourceName is then the
	// source as the client names it, relative to ClientDir or absolute,
	// and Language is "c" or "c++".
	Sources []SourceFile
	// IncludeArgs are the client's -I, -iquote, -isystem, -D and -U
	// arguments, in order, each option and its value as one argument.
	IncludeArgs []string
	// SystemDirs are the compiler's own include directories on the
	// client, in search order.
	SystemDirs []string
	// Preinclude is the file the compiler includes before the source on
	// the client (gcc's stdc-predef.h), searched for in the directories;
	// "" for none.
	Preinclude string
	// ExternCDirs are the SystemDirs clang searches with implicit
	// extern "C" (its driver's -internal-externc-isystem ones); empty for
	// gcc. clang's SystemDirs are spelled as its driver spells them
	// (".." included), since the names of the files found there reach
	// the object's debug information as spelled.
	ExternCDirs []string
	// Replay asks the server to run the client's own command: Args are then
	// every argument after the compiler, as the client ran it (the source
	// and the output included), run in ClientDir in a sandbox that shows
	// the files sent at their own paths (server/replay.go). For commands
	// whose object records the command line (clang-cl's /Z7). It needs
	// Sources; IncludeArgs and SystemDirs are then unused.
	Replay bool
	// Object is, with Replay, the object file the command writes, as the
	// command names it (relative to ClientDir or absolute).
	Object string
	// Bundle names the shipped toolchain (Toolchain.Bundle) the job runs
	// with; "" runs the host's installed compiler of key Toolchain.
	Bundle string
	// NoQueue asks the server to refuse the job as busy when no compile
	// slot is free, rather than queue it: the client keeps its waiting
	// jobs itself, for whichever host frees a slot first (a job queued at
	// one host would wait there while a slot frees on another).
	NoQueue bool
}

// SourceFile is one file of a CompileRequest compiled from the sources.
type SourceFile struct {
	Path    string   // absolute and clean, as on the client
	ModTime int64    // modification time on the client, in Unix nanoseconds
	Digest  [32]byte // BLAKE3-256 of the content
	// ByDigest: Data is not sent; the server takes the content it keeps
	// under Digest (from an earlier request), or refuses the request with
	// CodeMissingSources.
	ByDigest bool
	Data     []byte
}

// Type returns MsgCompileRequest.
func (*CompileRequest) Type() MsgType { return MsgCompileRequest }

func (m *CompileRequest) encode(e *encoder) {
	e.string("toolchain", m.Toolchain)
	e.string("language", m.Language)
	if e.count("args", len(m.Args), MaxArgs) {
		for _, a := range m.Args {
			e.string("arg", a)
		}
	}
	e.bytes(m.Preprocessed)
	e.string("source name", m.SourceName)
	e.string("client dir", m.ClientDir)
	e.string("project", m.Project)
	e.string("cache key", m.CacheKey)
	e.varint(m.TimeoutMS)
	if e.count("sources", len(m.Sources), MaxSources) {
		for _, f := range m.Sources {
			e.string("source path", f.Path)
			e.varint(f.ModTime)
			e.raw(f.Digest[:])
			e.bool(f.ByDigest)
			if !f.ByDigest {
				e.bytes(f.Data)
			}
		}
	}
	encodeStrings(e, "include args", m.IncludeArgs, MaxArgs)
	encodeStrings(e, "system dirs", m.SystemDirs, MaxListLen)
	e.string("preinclude", m.Preinclude)
	encodeStrings(e, "extern-C dirs", m.ExternCDirs, MaxListLen)
	e.bool(m.Replay)
	e.string("object", m.Object)
	e.string("bundle", m.Bundle)
	e.bool(m.NoQueue)
}

// encodeStrings writes a counted list of strings.
func encodeStrings(e *encoder, what string, list []string, limit int) {
	if e.count(what, len(list), limit) {
		for _, s := range list {
			e.string(what, s)
		}
	}
}

// decodeStrings reads a counted list of strings.
func decodeStrings(d *decoder, what string, limit int) []string {
	n := d.count(what, limit, 1)
	if n == 0 {
		return nil
	}
	list := make([]string, n)
	for i := range list {
		list[i] = d.string(what)
	}
	return list
}

func (m *CompileRequest) decode(d *decoder) error {
	m.Toolchain = d.string("toolchain")
	m.Language = d.string("language")
	if n := d.count("args", MaxArgs, 1); n > 0 {
		m.Args = make([]string, n)
		for i := range m.Args {
			m.Args[i] = d.string("arg")
		}
	}
	m.Preprocessed = d.bytes("preprocessed")
	m.SourceName = d.string("source name")
	m.ClientDir = d.string("client dir")
	m.Project = d.string("project")
	m.CacheKey = d.string("cache key")
	m.TimeoutMS = d.varint("timeout")
	if n := d.count("sources", MaxSources, 35); n > 0 {
		m.Sources = make([]SourceFile, n)
		for i := range m.Sources {
			f := &m.Sources[i]
			f.Path = d.string("source path")
			f.ModTime = d.varint("source time")
			d.fixed("source digest", f.Digest[:])
			if f.ByDigest = d.bool("source by digest"); !f.ByDigest {
				f.Data = d.bytes("source data")
			}
		}
	}
	m.IncludeArgs = decodeStrings(d, "include args", MaxArgs)
	m.SystemDirs = decodeStrings(d, "system dirs", MaxListLen)
	m.Preinclude = d.string("preinclude")
	m.ExternCDirs = decodeStrings(d, "extern-C dirs", MaxListLen)
	m.Replay = d.bool("replay")
	m.Object = d.string("object")
	m.Bundle = d.string("bundle")
	m.NoQueue = d.bool("no queue")
	return d.err
}

// CompileResult is the outcome of a CompileRequest.
type CompileResult struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
	Object   []byte // empty when ExitCode != 0
	Cached   bool   // answered from the server's result cache
	Load     Load
	// Shared: the server also put the object in the request's project
	// namespace of its shared cache under the request's CacheKey, so the
	// client need not send it there again.
	Shared bool
	// FromShared: nothing was compiled; the answer is the entry the
	// server's shared cache holds under the request's CacheKey.
	FromShared bool
	// Deps are, for a request compiled from its sources, the files the
	// compile read as the client names them, in the compiler's order (the
	// source first).
	Deps []string
}

// Type returns MsgCompileResult.
func (*CompileResult) Type() MsgType { return MsgCompileResult }

func (m *CompileResult) encode(e *encoder) {
	e.varint(int64(m.ExitCode))
	e.bytes(m.Stdout)
	e.bytes(m.Stderr)
	e.bytes(m.Object)
	e.bool(m.Cached)
	m.Load.encode(e)
	e.bool(m.Shared)
	e.bool(m.FromShared)
	encodeStrings(e, "deps", m.Deps, MaxSources)
}

func (m *CompileResult) decode(d *decoder) error {
	m.ExitCode = d.int("exit code")
	m.Stdout = d.bytes("stdout")
	m.Stderr = d.bytes("stderr")
	m.Object = d.bytes("object")
	m.Cached = d.bool("cached")
	m.Load.decode(d)
	m.Shared = d.bool("shared")
	m.FromShared = d.bool("from shared")
	m.Deps = decodeStrings(d, "deps", MaxSources)
	return d.err
}

// CacheGet looks up an entry in the server's shared cache.
type CacheGet struct{ Project, Key string }

// Type returns MsgCacheGet.
func (*CacheGet) Type() MsgType { return MsgCacheGet }

func (m *CacheGet) encode(e *encoder) {
	e.string("project", m.Project)
	e.string("key", m.Key)
}

func (m *CacheGet) decode(d *decoder) error {
	m.Project = d.string("project")
	m.Key = d.string("key")
	return d.err
}

// CacheGetResult answers a CacheGet.
type CacheGetResult struct {
	Found bool
	Entry []byte
}

// Type returns MsgCacheGetResult.
func (*CacheGetResult) Type() MsgType { return MsgCacheGetResult }

func (m *CacheGetResult) encode(e *encoder) {
	e.bool(m.Found)
	e.bytes(m.Entry)
}

func (m *CacheGetResult) decode(d *decoder) error {
	m.Found = d.bool("found")
	m.Entry = d.bytes("entry")
	return d.err
}

// CachePut stores an entry in the server's shared cache.
type CachePut struct {
	Project, Key string
	Entry        []byte
}

// Type returns MsgCachePut.
func (*CachePut) Type() MsgType { return MsgCachePut }

func (m *CachePut) encode(e *encoder) {
	e.string("project", m.Project)
	e.string("key", m.Key)
	e.bytes(m.Entry)
}

func (m *CachePut) decode(d *decoder) error {
	m.Project = d.string("project")
	m.Key = d.string("key")
	m.Entry = d.bytes("entry")
	return d.err
}

// CachePutResult answers a CachePut.
type CachePutResult struct{ Stored bool }

// Type returns MsgCachePutResult.
func (*CachePutResult) Type() MsgType { return MsgCachePutResult }

func (m *CachePutResult) encode(e *encoder) { e.bool(m.Stored) }

func (m *CachePutResult) decode(d *decoder) error {
	m.Stored = d.bool("stored")
	return d.err
}

// Clean asks the server to drop a project's entries from its caches.
type Clean struct{ Project string }

// Type returns MsgClean.
func (*Clean) Type() MsgType { return MsgClean }

func (m *Clean) encode(e *encoder) { e.string("project", m.Project) }

func (m *Clean) decode(d *decoder) error {
	m.Project = d.string("project")
	return d.err
}

// CleanResult answers a Clean.
type CleanResult struct{ Removed int64 }

// Type returns MsgCleanResult.
func (*CleanResult) Type() MsgType { return MsgCleanResult }

func (m *CleanResult) encode(e *encoder) { e.varint(m.Removed) }

func (m *CleanResult) decode(d *decoder) error {
	m.Removed = d.varint("removed")
	return d.err
}

// Status asks a server for its toolchains and load.
type Status struct {
	// AwaitSlot asks the server to answer when one of its compile slots
	// is free for this session rather than at once: at once when one is
	// free now, else when one frees with no job waiting there and this
	// session's turn among the sessions waiting so has come (see the
	// server's slot notices), or when the server shuts down. A client
	// with jobs waiting for a slot anywhere sends it to the hosts that
	// have none free, so that a slot that frees on one of them is used
	// within a round trip, not when the client next asks.
	AwaitSlot bool
	// Decline says this session will not use the slot the server last
	// told it of (an AwaitSlot answer): it found one elsewhere, or no job
	// of it waits any more. The server tells the slot to the next session
	// watching at once, instead of holding it for this one.
	Decline bool
}

// Type returns MsgStatus.
func (*Status) Type() MsgType { return MsgStatus }

func (m *Status) encode(e *encoder) {
	e.bool(m.AwaitSlot)
	e.bool(m.Decline)
}

func (m *Status) decode(d *decoder) error {
	m.AwaitSlot = d.bool("await slot")
	m.Decline = d.bool("decline")
	return d.err
}

// StatusResult answers a Status.
type StatusResult struct {
	Server     string
	Toolchains []Toolchain
	Load       Load
	// Ships: the host takes shipped toolchains (see Welcome.Ships).
	Ships bool
	// Time is the host's clock when it answered, in Unix nanoseconds (0:
	// not said), for the client to tell how far the two clocks are apart.
	Time int64
}

// Type returns MsgStatusResult.
func (*StatusResult) Type() MsgType { return MsgStatusResult }

func (m *StatusResult) encode(e *encoder) {
	e.string("server", m.Server)
	encodeToolchains(e, m.Toolchains)
	m.Load.encode(e)
	e.bool(m.Ships)
	e.uvarint(uint64(m.Time))
}

func (m *StatusResult) decode(d *decoder) error {
	m.Server = d.string("server")
	m.Toolchains = decodeToolchains(d)
	m.Load.decode(d)
	m.Ships = d.bool("ships")
	m.Time = int64(min(d.uvarint("time"), math.MaxInt64))
	return d.err
}
