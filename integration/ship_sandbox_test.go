package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/server"
)

// listingCompiler is a static program that passes for a compiler: it
// prints a version, and "compiles" by writing, as its object, every path
// it can see under /usr, /etc, /bin and /lib.
const listingCompiler = `package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("gcc (listing) 9.9.9")
		return
	}
	out := ""
	for i, a := range os.Args {
		if a == "-o" && i+1 < len(os.Args) {
			out = os.Args[i+1]
		}
	}
	var b strings.Builder
	for _, top := range []string{"/usr", "/etc", "/bin", "/lib"} {
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				b.WriteString(p + "\n")
			}
			return nil
		})
	}
	os.WriteFile(out, []byte(b.String()), 0o644)
}
`

// buildListingCompiler builds listingCompiler, static, and returns its bytes.
func buildListingCompiler(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(listingCompiler), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module listing\n\ngo 1.21\n"), 0o644))
	cmd := exec.Command("go", "build", "-o", "cc", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return readFile(t, filepath.Join(dir, "cc"))
}

// listingOffer is a bundle of the listing compiler as /usr/bin/cc, with a
// data file and a link /bin -> usr/bin.
func listingOffer(cc []byte) (*protocol.ToolchainOffer, map[[32]byte][]byte) {
	data := []byte("data of the toolchain\n")
	files := map[[32]byte][]byte{blake3.Sum256(cc): cc, blake3.Sum256(data): data}
	return &protocol.ToolchainOffer{
		Info:     protocol.Toolchain{Key: "id3-listing", Family: "gcc", Driver: "gcc", Version: "9.9.9", Target: "test"},
		Driver:   "/usr/bin/cc",
		PathDirs: []string{"/usr/bin"},
		Files: []protocol.BundleFile{
			{Path: "/usr/bin/cc", Kind: protocol.BundleExec, Size: int64(len(cc)), Digest: blake3.Sum256(cc)},
			{Path: "/usr/share/tc/data", Kind: protocol.BundleRegular, Size: int64(len(data)), Digest: blake3.Sum256(data)},
			{Path: "/bin", Kind: protocol.BundleSymlink, Link: "usr/bin"},
		},
	}, files
}

// shipBy offers o on s, sends what the host lacks from files (by digest)
// in chunks, and returns the toolchain it serves.
func shipBy(t *testing.T, ctx context.Context, s *protocol.ClientSession, o *protocol.ToolchainOffer, files map[[32]byte][]byte) (protocol.Toolchain, error) {
	t.Helper()
	for range 2 {
		m, err := s.Call(ctx, o, protocol.MsgToolchainOfferResult)
		if err != nil {
			return protocol.Toolchain{}, err
		}
		res := m.(*protocol.ToolchainOfferResult)
		if len(res.Missing) == 0 {
			return res.Installed, nil
		}
		for _, d := range res.Missing {
			data := files[d]
			for off := 0; off < len(data); off += 1 << 20 {
				end := min(off+1<<20, len(data))
				_, err := s.Call(ctx, &protocol.ToolchainBlob{Digest: d, Size: int64(len(data)), Offset: int64(off), Data: data[off:end]}, protocol.MsgToolchainBlobResult)
				require.NoError(t, err)
			}
		}
	}
	t.Fatal("the host still lacks files")
	return protocol.Toolchain{}, nil
}

// TestShippedToolchainSeesOnlyItsBundle ships a toolchain to dcc-server
// and compiles with it: the job sees the bundle's files and nothing of the
// host's /usr, /etc, /bin or /lib (its compilers, its bubblewrap, its C
// library). A job naming a bundle the host does not hold, and a bundle
// whose driver does not run in the sandbox, are refused.
func TestShippedToolchainSeesOnlyItsBundle(t *testing.T) {
	requireServerBinary(t)
	h := startHost(t, "127.0.0.9", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := protocol.Dial(ctx, h.addr, testToken, "integration@test", protocol.Transport{Fingerprint: h.fingerprint})
	require.NoError(t, err)
	defer s.Close()
	require.True(t, s.Welcome().Ships, "a sandboxed host takes shipped toolchains\n%s", h.output())

	o, files := listingOffer(buildListingCompiler(t))
	tc, err := shipBy(t, ctx, s, o, files)
	require.NoError(t, err, h.output())
	assert.Equal(t, o.BundleDigest(), tc.Bundle)
	assert.Contains(t, h.status(t).Toolchains, tc, "the host lists the shipped toolchain")

	req := &protocol.CompileRequest{Toolchain: tc.Key, Bundle: tc.Bundle, Language: "c", Args: []string{"-O2"},
		Preprocessed: []byte("int x;\n"), SourceName: "x.c"}
	m, err := s.Call(ctx, req, protocol.MsgCompileResult)
	require.NoError(t, err)
	res := m.(*protocol.CompileResult)
	require.Zero(t, res.ExitCode, "%s", res.Stderr)
	assert.Equal(t, "/usr\n/usr/bin\n/usr/bin/cc\n/usr/share\n/usr/share/tc\n/usr/share/tc/data\n/bin\n", string(res.Object),
		"the job sees its bundle and nothing of the host's")

	other := *req
	other.Bundle = strings.Repeat("0", 64)
	_, err = s.Call(ctx, &other, protocol.MsgCompileResult)
	var re *protocol.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, protocol.CodeUnknownToolchain, re.Code, "a bundle the host does not hold")

	broken, brokenFiles := listingOffer([]byte("#!/nonexistent/sh\n"))
	broken.Info.Key = "id3-broken"
	_, err = shipBy(t, ctx, s, broken, brokenFiles)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, protocol.CodeForbiddenArg, re.Code)
	assert.Contains(t, re.Message, "does not run in this host's sandbox")
	for _, got := range h.status(t).Toolchains {
		assert.NotEqual(t, "id3-broken", got.Key, "a bundle that does not run is not served")
	}
}

// A root host that was shipped nothing leaves no toolchain store behind
// when it stops; one that was shipped a toolchain keeps it for its next
// start.
func TestHostStopLeavesNoEmptyToolchainStore(t *testing.T) {
	requireServerBinary(t)
	if os.Getuid() != 0 {
		t.Skip("the shared toolchain directory is a root server's")
	}
	h := startHost(t, "127.0.0.9", 1)
	require.True(t, h.status(t).Ships, h.output())
	work, err := filepath.EvalSymlinks(filepath.Join(h.dir, "work"))
	require.NoError(t, err)
	store := server.SharedToolchainDir(work)
	require.DirExists(t, store, "the running host keeps its store here")
	h.kill(syscall.SIGTERM)
	assert.NoDirExists(t, filepath.Dir(store), "%s", h.output())
}
