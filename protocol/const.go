// Package protocol is the wire protocol between the dcc daemon and dcc-server:
// framing with optional lz4 compression, the message types, a versioned
// challenge-response handshake that authenticates both sides without the token
// ever crossing the wire, and yamux sessions in which every request is one
// stream.
//
// Every length read from the wire is checked against the limits below before
// anything is allocated for it, and every decoding failure is one of the
// sentinel errors declared here, testable with errors.Is.
package protocol

import "errors"

// Version is the protocol version both sides announce in the handshake.
const Version uint16 = 8

// DefaultPort is the TCP port dcc-server listens on by default.
const DefaultPort = 9693

// Limits on what a peer may send. A frame or field past one of them is
// refused before anything is allocated for it.
const (
	// MaxMessageSize bounds the decoded payload of any message, in bytes.
	MaxMessageSize = 64 << 20
	// MaxFrameSize bounds the payload bytes of a frame on the wire (lz4 of
	// incompressible data grows a little).
	MaxFrameSize = MaxMessageSize + 1<<20
	// MaxArgs bounds the arguments in a CompileRequest.
	MaxArgs = 1024
	// MaxStringLen bounds any string field (argument, name, key, directory), in bytes.
	MaxStringLen = 64 << 10
	// MaxToolchains bounds the toolchains a server advertises.
	MaxToolchains = 256
	// MaxSources bounds the files of a CompileRequest compiled from its
	// sources, and the dependencies of its result.
	MaxSources = 16384
	// MaxListLen bounds any other list.
	MaxListLen = 4096
)

// Codes carried by Error messages.
const (
	CodeAuth             = "auth"              // authentication failed
	CodeVersion          = "version"           // protocol version mismatch
	CodeForbiddenArg     = "forbidden-arg"     // an argument the server does not allow
	CodeTooLarge         = "too-large"         // a message or field past a limit
	CodeMalformed        = "malformed"         // a message that does not decode, or of the wrong type
	CodeUnknownToolchain = "unknown-toolchain" // a toolchain key the server does not have
	CodeBusy             = "busy"              // the server refuses more work for now
	CodeInternal         = "internal"          // the server failed
	CodeTimeout          = "timeout"           // the job ran past its time limit
	CodeMissingSources   = "missing-sources"   // files sent by digest that the server no longer keeps
	CodeTransport        = "transport"         // TLS on one side, plain TCP on the other
)

// Sentinel errors. Errors returned by this package wrap them, so callers test
// them with errors.Is.
var (
	// ErrVersion is a protocol version mismatch.
	ErrVersion = errors.New("protocol: version mismatch")
	// ErrAuth is a failed authentication: a wrong token on either side.
	ErrAuth = errors.New("protocol: authentication failed")
	// ErrTooLarge is a message, frame or field past one of the limits.
	ErrTooLarge = errors.New("protocol: message too large")
	// ErrMalformed is a frame or message that does not decode.
	ErrMalformed = errors.New("protocol: malformed message")
	// ErrUnexpected is a well-formed message of a type that was not expected.
	ErrUnexpected = errors.New("protocol: unexpected message type")
	// ErrTransport is a client and a host that do not agree on the
	// transport: one speaks TLS, the other plain TCP.
	ErrTransport = errors.New("protocol: transport mismatch (TLS on one side, plain TCP on the other)")
	// ErrNoFingerprint is a TLS host the client has no pinned fingerprint for.
	ErrNoFingerprint = errors.New("no fingerprint pinned for this host: run dcc-server --fingerprint on the host " +
		"and add fingerprint = \"sha256:...\" to its [[hosts]] entry (or HOST:PORT/NJOB,fingerprint=sha256:... in DCC_HOSTS)")
	// ErrFingerprint is a host whose key is not the one pinned (or a pin
	// that is not a fingerprint).
	ErrFingerprint = errors.New("protocol: host key does not match the pinned fingerprint")
)
