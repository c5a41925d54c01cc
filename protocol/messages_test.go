package protocol

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func nonce(fill byte) [32]byte {
	var n [32]byte
	for i := range n {
		n[i] = fill + byte(i)
	}
	return n
}

func manyToolchains(n int) []Toolchain {
	ts := make([]Toolchain, n)
	for i := range ts {
		ts[i] = Toolchain{Key: "id2-" + strings.Repeat("f", 64), Family: "clang", Driver: "clang++", Version: "17.0.6", Target: "aarch64-linux-gnu",
			Bundle: strings.Repeat("b", 64*(i%2))}
	}
	ts[0] = Toolchain{} // all-empty fields in a list
	return ts
}

func bundleFiles(n int) []BundleFile {
	files := make([]BundleFile, n)
	for i := range files {
		files[i] = BundleFile{Path: fmt.Sprintf("/usr/lib/x%d.so", i), Kind: uint8(1 + i%4), Size: int64(i), Digest: nonce(byte(i % 7)), Link: strings.Repeat("l", i%3)}
	}
	return files
}

func manyArgs(n int) []string {
	args := make([]string, n)
	for i := range args {
		args[i] = "-DVALUE=" + strings.Repeat("x", i%40)
	}
	args[n-1] = strings.Repeat("a", MaxStringLen)
	return args
}

// roundTripCases holds, for every message type, an empty value and one with
// fields at or near their limits.
func roundTripCases() []struct {
	name string
	msg  Message
} {
	long := strings.Repeat("s", MaxStringLen)
	load := Load{Slots: math.MaxInt, Running: math.MinInt, Queued: -1, Mine: 7}
	compressible := bytes.Repeat([]byte("int main(void) { return 0; }\n"), 300_000) // ~8.7 MB
	return []struct {
		name string
		msg  Message
	}{
		{"Hello/empty", &Hello{}},
		{"Hello/full", &Hello{Version: math.MaxUint16, Server: long, Nonce: nonce(1)}},
		{"Auth/empty", &Auth{}},
		{"Auth/full", &Auth{Version: Version, Client: long, Nonce: nonce(2), MAC: nonce(3)}},
		{"Welcome/empty", &Welcome{}},
		{"Welcome/full", &Welcome{MAC: nonce(4), Toolchains: manyToolchains(MaxToolchains), Load: load, Sandboxed: true, Ships: true}},
		{"Error/empty", &Error{}},
		{"Error/full", &Error{Code: CodeForbiddenArg, Message: long}},
		{"CompileRequest/empty", &CompileRequest{}},
		{"CompileRequest/full", &CompileRequest{
			Toolchain: "id2-" + strings.Repeat("0", 64), Language: "objective-c++",
			Args: manyArgs(MaxArgs), Preprocessed: compressible, SourceName: "main.c",
			ClientDir: "/home/u/src", Project: "p", CacheKey: strings.Repeat("a", 64), TimeoutMS: math.MinInt64,
			NoQueue: true,
		}},
		{"CompileRequest/sources", &CompileRequest{
			Toolchain: "id3-ab", Language: "c", Args: []string{"-O2", "-g"}, SourceName: "src/a.c", ClientDir: "/home/u/p",
			Sources: []SourceFile{
				{Path: "/home/u/p/src/a.c", ModTime: 1700000000123456789, Data: []byte("#include \"a.h\"\nint x;\n")},
				{Path: "/home/u/p/src/a.h", ModTime: -1, Digest: [32]byte{1, 2, 3}, ByDigest: true},
				{Path: "/usr/include/stdio.h", Data: compressible},
			},
			IncludeArgs: []string{"-Iinclude", "-DX=1", "-isystem/opt/inc"}, SystemDirs: []string{"/usr/local/include", "/usr/include"}, ExternCDirs: []string{"/usr/include"}, Replay: true, Object: "out/a.obj",
			Preinclude: "stdc-predef.h",
		}},
		{"CompileRequest/incompressible", &CompileRequest{Preprocessed: randomBytes(3 << 20), TimeoutMS: math.MaxInt64}},
		{"CompileResult/empty", &CompileResult{}},
		{"CompileResult/full", &CompileResult{
			ExitCode: -1, Stdout: []byte("out\n"), Stderr: randomBytes(100_000),
			Object: compressible, Cached: true, Load: load, Shared: true, FromShared: true,
			Deps: []string{"src/a.c", "/usr/include/stdc-predef.h", "src/a.h"},
		}},
		{"CacheGet/empty", &CacheGet{}},
		{"CacheGet/full", &CacheGet{Project: long, Key: long}},
		{"CacheGetResult/empty", &CacheGetResult{}},
		{"CacheGetResult/full", &CacheGetResult{Found: true, Entry: randomBytes(1 << 20)}},
		{"CachePut/empty", &CachePut{}},
		{"CachePut/full", &CachePut{Project: "p", Key: strings.Repeat("e", 64), Entry: randomBytes(MaxMessageSize - 200)}},
		{"CachePutResult/empty", &CachePutResult{}},
		{"CachePutResult/full", &CachePutResult{Stored: true}},
		{"Clean/empty", &Clean{}},
		{"Clean/full", &Clean{Project: long}},
		{"CleanResult/empty", &CleanResult{}},
		{"CleanResult/full", &CleanResult{Removed: math.MaxInt64}},
		{"Status/empty", &Status{}},
		{"Status/await", &Status{AwaitSlot: true}},
		{"Status/decline", &Status{Decline: true}},
		{"StatusResult/empty", &StatusResult{}},
		{"StatusResult/full", &StatusResult{Server: long, Toolchains: manyToolchains(MaxToolchains), Load: load, Ships: true, Time: 1_765_000_000_123_456_789}},
		{"ToolchainOffer/empty", &ToolchainOffer{}},
		{"ToolchainOffer/full", &ToolchainOffer{Info: manyToolchains(2)[1], Driver: "/usr/bin/gcc", PathDirs: []string{"/usr/bin", "/bin"},
			Files: bundleFiles(MaxBundleFiles)}},
		{"ToolchainOfferResult/empty", &ToolchainOfferResult{}},
		{"ToolchainOfferResult/full", &ToolchainOfferResult{Missing: make([][32]byte, MaxBundleFiles), Installed: manyToolchains(2)[1]}},
		{"ToolchainBlob/empty", &ToolchainBlob{}},
		{"ToolchainBlob/full", &ToolchainBlob{Digest: nonce(9), Size: math.MaxInt64, Offset: 1 << 40, Data: randomBytes(MaxBlobChunk)}},
		{"ToolchainBlobResult/empty", &ToolchainBlobResult{}},
		{"ToolchainBlobResult/full", &ToolchainBlobResult{Complete: true}},
	}
}

func TestRoundTrip(t *testing.T) {
	seen := map[MsgType]bool{}
	for _, tc := range roundTripCases() {
		seen[tc.msg.Type()] = true
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteMessage(&buf, tc.msg))
			got, err := ReadMessage(&buf)
			require.NoError(t, err)
			assert.Equal(t, tc.msg, got)
			assert.Zero(t, buf.Len(), "bytes left after the frame")
		})
	}
	for typ := MsgHello; typ <= MsgStatusResult; typ++ {
		assert.True(t, seen[typ], "no round-trip case for %s", typ)
	}
}

func TestEncodeLimits(t *testing.T) {
	tooLong := strings.Repeat("x", MaxStringLen+1)
	tests := []struct {
		name string
		msg  Message
	}{
		{"string past MaxStringLen", &CacheGet{Key: tooLong}},
		{"arg past MaxStringLen", &CompileRequest{Args: []string{"-c", tooLong}}},
		{"too many args", &CompileRequest{Args: make([]string, MaxArgs+1)}},
		{"too many toolchains", &StatusResult{Toolchains: make([]Toolchain, MaxToolchains+1)}},
		{"toolchain field past MaxStringLen", &Welcome{Toolchains: []Toolchain{{Target: tooLong}}}},
		{"payload past MaxMessageSize", &CachePut{Entry: make([]byte, MaxMessageSize)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteMessage(&buf, tc.msg)
			require.ErrorIs(t, err, ErrTooLarge)
			assert.Zero(t, buf.Len(), "nothing may be written")
		})
	}
}

func TestWriteNilMessage(t *testing.T) {
	var buf bytes.Buffer
	require.Error(t, WriteMessage(&buf, nil))
	var nilHello *Hello
	require.Error(t, WriteMessage(&buf, nilHello))
	assert.Zero(t, buf.Len())
}

func TestMsgTypeString(t *testing.T) {
	assert.Equal(t, "CompileRequest", MsgCompileRequest.String())
	assert.Equal(t, "MsgType(0)", MsgType(0).String())
	assert.Equal(t, "MsgType(200)", MsgType(200).String())
}

func TestRemoteError(t *testing.T) {
	tests := []struct {
		code string
		is   error
	}{
		{CodeAuth, ErrAuth},
		{CodeVersion, ErrVersion},
		{CodeTooLarge, ErrTooLarge},
		{CodeMalformed, ErrMalformed},
		{CodeBusy, nil},
	}
	all := []error{ErrAuth, ErrVersion, ErrTooLarge, ErrMalformed, ErrUnexpected}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			err := error(&RemoteError{Code: tc.code, Message: "m"})
			for _, sentinel := range all {
				assert.Equal(t, sentinel == tc.is, errors.Is(err, sentinel), "errors.Is(%s, %v)", tc.code, sentinel)
			}
		})
	}
	msg := (&RemoteError{Code: "busy", Message: "line\n\x1b[31mred\x7f"}).Error()
	assert.NotContains(t, msg, "\n")
	assert.NotContains(t, msg, "\x1b")
	assert.Contains(t, msg, "busy")
}
