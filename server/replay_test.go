package server

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"

	"github.com/dcc-build/dcc/protocol"
)

// clangCLUnit writes a client tree (a.c including h.h and <stddef.h>),
// compiles it there with clang-cl and args, and returns the client
// directory, the request replaying the command with every file
// /showIncludes listed, and the local object and standard output.
func clangCLUnit(t testing.TB, comp Compiler, args []string) (string, *protocol.CompileRequest, []byte, []byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "client", "proj")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "out"), 0o755))
	files := map[string]string{
		"h.h": "#include <stddef.h>\n#define H(x) \\\n  ((x) + (int)sizeof(size_t))\n",
		"a.c": "#include \"h.h\"\nint f(int v) {\n  return H(v) +\n    __LINE__;\n}\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	cmd := exec.Command(comp.Path, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PWD=" + dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s", stderr.String())
	obj, err := os.ReadFile(filepath.Join(dir, "out", "a.obj"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "out", "a.obj")))

	req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Args: args, SourceName: "a.c",
		ClientDir: dir, Replay: true, Object: "out/a.obj"}
	paths := []string{filepath.Join(dir, "a.c")}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "Note: including file:"); ok {
			p := strings.TrimSpace(name)
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			paths = append(paths, filepath.Clean(p))
		}
	}
	require.Greater(t, len(paths), 2, "a.c, h.h and stddef.h: %s", stdout.String())
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		req.Sources = append(req.Sources, protocol.SourceFile{Path: p, Digest: blake3.Sum256(data), Data: data})
	}
	return dir, req, obj, stdout.Bytes()
}

// TestReplayClangCL: a clang-cl command with /Z7 (CodeView that records
// clang's cc1 command line and the client's paths), /Brepro and
// /showIncludes, replayed on a host in a sandbox that shows the files sent
// at their own paths, writes the object a local compile writes and prints
// the same /showIncludes lines; the host's own headers are not used.
func TestReplayClangCL(t *testing.T) {
	comp := realCompiler(t, "clang-cl-14")
	ts := startServer(t, nil, func(o *Options) { o.Toolchains = NewToolchains([]Compiler{comp}) })
	s := ts.dial(t)
	call := func(req *protocol.CompileRequest) (*protocol.CompileResult, error) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		m, err := s.Call(ctx, req, protocol.MsgCompileResult)
		if err != nil {
			return nil, err
		}
		return m.(*protocol.CompileResult), nil
	}
	for _, args := range [][]string{
		{"/c", "/Z7", "/Brepro", "/showIncludes", "/O2", "a.c", "/Foout/a.obj"},
		{"/c", "/Brepro", "/DX=1", "a.c", "/Foout/a.obj", "/showIncludes"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, req, want, stdout := clangCLUnit(t, comp, args)
			res, err := call(req)
			require.NoError(t, err)
			require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
			assert.True(t, bytes.Equal(want, res.Object), "object differs from the local compile (%d vs %d bytes)", len(res.Object), len(want))
			assert.Equal(t, string(stdout), string(res.Stdout), "the same /showIncludes lines")
		})
	}

	// Without the header it includes, the replay does not find the host's.
	_, req, _, _ := clangCLUnit(t, comp, []string{"/c", "/Brepro", "/showIncludes", "a.c", "/Foout/a.obj"})
	var kept []protocol.SourceFile
	for _, f := range req.Sources {
		if !strings.HasSuffix(f.Path, "/stddef.h") {
			kept = append(kept, f)
		}
	}
	req.Sources = kept
	res, err := call(req)
	require.NoError(t, err)
	assert.NotZero(t, res.ExitCode, "stddef.h was not sent: the host's must not be used")
	assert.Contains(t, string(res.Stderr), "stddef.h")
}

// TestReplayRefusals: what a replayed command may not ask for.
func TestReplayRefusals(t *testing.T) {
	cl, gcc := realCompiler(t, "clang-cl-14"), realCompiler(t, "gcc")
	ts := startServer(t, nil, func(o *Options) { o.Toolchains = NewToolchains([]Compiler{cl, gcc}) })
	s := ts.dial(t)
	base := func() *protocol.CompileRequest {
		return &protocol.CompileRequest{Toolchain: cl.Info.Key, Language: "c", SourceName: "a.c", ClientDir: "/home/u/p",
			Args: []string{"/c", "a.c", "/Foa.obj"}, Replay: true, Object: "a.obj",
			Sources: []protocol.SourceFile{sourceFile("/home/u/p/a.c", "int x;\n")}}
	}
	tests := []struct {
		name   string
		change func(*protocol.CompileRequest)
		code   string
		want   string
	}{
		{"gcc", func(r *protocol.CompileRequest) { r.Toolchain = gcc.Info.Key }, protocol.CodeMalformed, "replay refused"},
		{"plugin", func(r *protocol.CompileRequest) { r.Args = append(r.Args, "/clang:-fplugin=/x.so") }, protocol.CodeForbiddenArg, "loads code"},
		{"load", func(r *protocol.CompileRequest) { r.Args = append(r.Args, "-Xclang", "-load") }, protocol.CodeForbiddenArg, "loads code"},
		{"response file", func(r *protocol.CompileRequest) { r.Args = append(r.Args, "@/etc/passwd") }, protocol.CodeForbiddenArg, "response file"},
		{"object in the root", func(r *protocol.CompileRequest) { r.Object = "/a.obj" }, protocol.CodeMalformed, "object"},
		{"object climbing", func(r *protocol.CompileRequest) { r.Object = "../../../../x.obj" }, protocol.CodeMalformed, "object"},
		{"object over a source", func(r *protocol.CompileRequest) { r.Object = "a.c" }, protocol.CodeMalformed, "object"},
		{"source not sent", func(r *protocol.CompileRequest) { r.SourceName = "b.c" }, protocol.CodeMalformed, "source name"},
		{"root client dir", func(r *protocol.CompileRequest) { r.ClientDir = "/" }, protocol.CodeMalformed, "client directory"},
		{"hides /usr", func(r *protocol.CompileRequest) { r.Sources = append(r.Sources, sourceFile("/usr/x.h", "int y;\n")) },
			protocol.CodeForbiddenArg, "would hide"},
		{"hides the root", func(r *protocol.CompileRequest) { r.Sources = append(r.Sources, sourceFile("/x.h", "int y;\n")) },
			protocol.CodeForbiddenArg, "would hide"},
		{"not a directory of the host's /usr", func(r *protocol.CompileRequest) {
			r.Sources = append(r.Sources, sourceFile("/usr/no-such-dir-dcc/x.h", "int y;\n"))
		}, protocol.CodeForbiddenArg, "not a directory of this host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			tt.change(req)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			_, err := s.Call(ctx, req, protocol.MsgCompileResult)
			var perr *protocol.RemoteError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, tt.code, perr.Code)
			assert.Contains(t, perr.Message, tt.want)
		})
	}
}
