package protocol

import "fmt"

// MsgType identifies a message; it is the first byte of every frame.
type MsgType uint8

// The message types. Hello, Auth, Welcome and Error make up the handshake on
// the raw connection; the rest are requests and responses on yamux streams.
const (
	MsgHello                MsgType = 1 + iota // server -> client, first on the raw connection
	MsgAuth                                    // client -> server
	MsgWelcome                                 // server -> client: authenticated
	MsgError                                   // either way: a refusal, with a reason
	MsgCompileRequest                          // client -> server: compile one preprocessed unit
	MsgCompileResult                           // server -> client
	MsgCacheGet                                // client -> server: shared cache lookup
	MsgCacheGetResult                          // server -> client
	MsgCachePut                                // client -> server: shared cache store
	MsgCachePutResult                          // server -> client
	MsgClean                                   // client -> server: drop a project's cache entries
	MsgCleanResult                             // server -> client
	MsgStatus                                  // client -> server: toolchains and load
	MsgStatusResult                            // server -> client
	MsgToolchainOffer                          // client -> server: a toolchain the host lacks
	MsgToolchainOfferResult                    // server -> client
	MsgToolchainBlob                           // client -> server: a chunk of one of its files
	MsgToolchainBlobResult                     // server -> client
)

var msgNames = [...]string{
	MsgHello:                "Hello",
	MsgAuth:                 "Auth",
	MsgWelcome:              "Welcome",
	MsgError:                "Error",
	MsgCompileRequest:       "CompileRequest",
	MsgCompileResult:        "CompileResult",
	MsgCacheGet:             "CacheGet",
	MsgCacheGetResult:       "CacheGetResult",
	MsgCachePut:             "CachePut",
	MsgCachePutResult:       "CachePutResult",
	MsgClean:                "Clean",
	MsgCleanResult:          "CleanResult",
	MsgStatus:               "Status",
	MsgStatusResult:         "StatusResult",
	MsgToolchainOffer:       "ToolchainOffer",
	MsgToolchainOfferResult: "ToolchainOfferResult",
	MsgToolchainBlob:        "ToolchainBlob",
	MsgToolchainBlobResult:  "ToolchainBlobResult",
}

// String returns the message type's name, or "MsgType(n)" for an unknown one.
func (t MsgType) String() string {
	if t.known() {
		return msgNames[t]
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

func (t MsgType) known() bool { return t >= MsgHello && t <= MsgToolchainBlobResult }

// isRequest reports whether t is a request a client may send on a stream.
func (t MsgType) isRequest() bool {
	switch t {
	case MsgCompileRequest, MsgCacheGet, MsgCachePut, MsgClean, MsgStatus, MsgToolchainOffer, MsgToolchainBlob:
		return true
	}
	return false
}

// newMessage returns a zero message of type t, or nil for an unknown type.
func newMessage(t MsgType) Message {
	switch t {
	case MsgHello:
		return &Hello{}
	case MsgAuth:
		return &Auth{}
	case MsgWelcome:
		return &Welcome{}
	case MsgError:
		return &Error{}
	case MsgCompileRequest:
		return &CompileRequest{}
	case MsgCompileResult:
		return &CompileResult{}
	case MsgCacheGet:
		return &CacheGet{}
	case MsgCacheGetResult:
		return &CacheGetResult{}
	case MsgCachePut:
		return &CachePut{}
	case MsgCachePutResult:
		return &CachePutResult{}
	case MsgClean:
		return &Clean{}
	case MsgCleanResult:
		return &CleanResult{}
	case MsgStatus:
		return &Status{}
	case MsgStatusResult:
		return &StatusResult{}
	case MsgToolchainOffer:
		return &ToolchainOffer{}
	case MsgToolchainOfferResult:
		return &ToolchainOfferResult{}
	case MsgToolchainBlob:
		return &ToolchainBlob{}
	case MsgToolchainBlobResult:
		return &ToolchainBlobResult{}
	}
	return nil
}

// Message is implemented by every message struct of this package (pointer
// receivers). Only this package can implement it.
type Message interface {
	// Type returns the message's type, written as the frame's first byte.
	Type() MsgType
	encode(*encoder)       // the binary layout
	decode(*decoder) error // checks every length against the limits
}
