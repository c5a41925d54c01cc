package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runJob prepares and runs one request.
func runJob(ctx context.Context, r *Runner, req *protocol.CompileRequest) (*protocol.CompileResult, error) {
	j, err := r.Prepare(req)
	if err != nil {
		return nil, err
	}
	return r.Run(ctx, j)
}

func TestJobObjectIdenticalToLocalCompile(t *testing.T) {
	for _, name := range []string{"gcc", "clang"} {
		t.Run(name, func(t *testing.T) {
			comp := realCompiler(t, name)
			r, work := newTestRunner(t, RunnerOptions{}, comp)
			dir, text := clientUnit(t, name)
			tests := []struct {
				label string
				args  []string
			}{
				{"plain", []string{"-O2"}},
				{"debug", []string{"-g", "-O2"}},
				{"debug3", []string{"-g3", "-O0", "-Wall"}},
				{"client prefix map", []string{"-g", "-O2", "-ffile-prefix-map=" + filepath.Dir(dir) + "=/buildroot"}},
				{"client debug prefix maps", []string{"-g", "-fdebug-prefix-map=/=/R", "-fdebug-prefix-map=" + dir + "=."}},
			}
			for _, tt := range tests {
				t.Run(tt.label, func(t *testing.T) {
					// The client's own compile of its preprocessed text, in its directory.
					want := localCompile(t, dir, comp.Path, append(append([]string{}, tt.args...), "-x", "cpp-output", "-c", "x.i")...)
					res, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c",
						Args: tt.args, Preprocessed: text, SourceName: "x.c", ClientDir: dir})
					require.NoError(t, err)
					require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
					assert.True(t, bytes.Equal(want, res.Object), "object differs from the local compile (%d vs %d bytes)", len(res.Object), len(want))
					assert.False(t, bytes.Contains(res.Object, []byte(work)), "the object records the server's directory")
					assertEmptyDir(t, work)
				})
			}
		})
	}
}

func TestJobDebugRecordsClientDirectory(t *testing.T) {
	comp := realCompiler(t, "gcc")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	dir, text := clientUnit(t, "gcc")
	res, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c",
		Args: []string{"-g"}, Preprocessed: text, SourceName: "x.c", ClientDir: dir})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
	assert.True(t, bytes.Contains(res.Object, []byte(dir)), "the client's directory is in the debug information")
	assert.False(t, bytes.Contains(res.Object, []byte(work)))
}

func TestJobCompileErrorAndDirectoryRemoved(t *testing.T) {
	comp := realCompiler(t, "gcc")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	res, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c",
		Args: []string{"-O2"}, Preprocessed: []byte("# 1 \"bad.c\"\nint f(void) { return }\n"), SourceName: "bad.c"})
	require.NoError(t, err)
	assert.NotEqual(t, 0, res.ExitCode)
	assert.Contains(t, string(res.Stderr), "bad.c:1:")
	assert.Contains(t, string(res.Stderr), "error")
	assert.Empty(t, res.Object)
	assertEmptyDir(t, work)
}

func TestJobLanguages(t *testing.T) {
	comp := realCompiler(t, "g++")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	src := []byte("# 1 \"k.cc\"\nnamespace n { template <class T> T twice(T v) { return v + v; } }\nint g() { return n::twice(21); }\n")
	for _, lang := range []string{"c++", "c++-cpp-output"} {
		res, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: lang,
			Args: []string{"-O2", "-std=c++17"}, Preprocessed: src, SourceName: "k.cc"})
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
		assert.NotEmpty(t, res.Object)
	}
	assertEmptyDir(t, work)
}

func TestJobRefusals(t *testing.T) {
	comp := fakeCompiler(t, ": > out.o\n")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	key := comp.Info.Key
	tests := []struct {
		name string
		req  protocol.CompileRequest
		code string
		want string
	}{
		{"unknown toolchain", protocol.CompileRequest{Toolchain: "id2-nope", Language: "c"}, protocol.CodeUnknownToolchain, `"id2-nope"`},
		{"path as toolchain", protocol.CompileRequest{Toolchain: "/bin/sh", Language: "c"}, protocol.CodeUnknownToolchain, `"/bin/sh"`},
		{"language", protocol.CompileRequest{Toolchain: key, Language: "assembler"}, protocol.CodeMalformed, `language "assembler"`},
		{"empty language", protocol.CompileRequest{Toolchain: key}, protocol.CodeMalformed, "language"},
		{"forbidden arg", protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-fplugin=/x.so"}}, protocol.CodeForbiddenArg, `"-fplugin=/x.so"`},
		{"relative client dir", protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-g"}, ClientDir: "src"}, protocol.CodeMalformed, `client directory "src"`},
		{"unclean client dir", protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-g"}, ClientDir: "/a/../b"}, protocol.CodeMalformed, "client directory"},
		{"no client dir", protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-g"}}, protocol.CodeMalformed, "client directory"},
		{"client dir newline", protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-g"}, ClientDir: "/a\nb"}, protocol.CodeMalformed, "client directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Prepare(&tt.req)
			var ref *Refusal
			require.True(t, errors.As(err, &ref), "%v", err)
			assert.Equal(t, tt.code, ref.Code)
			assert.Contains(t, ref.Message, tt.want)
		})
	}
	// Without -g the client directory is not used, so not checked.
	_, err := r.Prepare(&protocol.CompileRequest{Toolchain: key, Language: "c", ClientDir: "relative"})
	assert.NoError(t, err)
	assertEmptyDir(t, work)
}

func TestJobCommandLineAndEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "seen")
	comp := fakeCompiler(t, fmt.Sprintf("printf '%%s\\n' \"$PWD\" \"$@\" > %s\nenv | sort >> %s\necho to-stdout\necho to-stderr >&2\n: > out.o\n", out, out))
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	res, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "objective-c++",
		Args: []string{"-O2", "-g"}, Preprocessed: []byte("x"), SourceName: "../dir/My File.mm", ClientDir: "/home/u/p"})
	require.NoError(t, err)
	assert.Equal(t, "to-stdout\n", string(res.Stdout))
	assert.Equal(t, "to-stderr\n", string(res.Stderr))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	jobdir := lines[0]
	assert.True(t, strings.HasPrefix(jobdir, filepath.Join(work, "job-")), jobdir)
	assert.Equal(t, []string{"-O2", "-g", "-fdebug-prefix-map=" + jobdir + "=/home/u/p",
		"-x", "objective-c++-cpp-output", "-c", "My_File.mii", "-o", "out.o"}, lines[1:10])
	env := lines[10:]
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		assert.NotContains(t, []string{"LANG", "LC_ALL", "LC_MESSAGES", "HOME", "DCC_DIR"}, name)
	}
	assert.Contains(t, env, "TMPDIR="+jobdir)
	assert.Contains(t, env, "PATH="+os.Getenv("PATH"))
	assertEmptyDir(t, work)
}

func TestJobOutputCapped(t *testing.T) {
	comp := fakeCompiler(t, "head -c 100000 /dev/zero | tr '\\0' e >&2\n: > out.o\n")
	r, work := newTestRunner(t, RunnerOptions{MaxOutput: 1000}, comp)
	res, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x")})
	require.NoError(t, err)
	assert.Less(t, len(res.Stderr), 1100)
	assert.Contains(t, string(res.Stderr), "output cut at 1000 bytes")
	assertEmptyDir(t, work)
}

func TestJobExitWithoutObject(t *testing.T) {
	comp := fakeCompiler(t, "exit 0\n")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	_, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "without writing the object")
	assertEmptyDir(t, work)
}

func TestJobTimeLimitKillsCompilerAndChildren(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "child-pid")
	// The "compiler" starts a child that would outlive it, like cc1, and waits.
	comp := fakeCompiler(t, fmt.Sprintf("sleep 60 &\necho $! > %s\nwait\n", marker))
	r, work := newTestRunner(t, RunnerOptions{JobTimeout: 300 * time.Millisecond}, comp)
	start := time.Now()
	_, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x")})
	var ref *Refusal
	require.True(t, errors.As(err, &ref), "%v", err)
	assert.Equal(t, protocol.CodeTimeout, ref.Code)
	assert.Contains(t, ref.Message, "300ms")
	assert.Less(t, time.Since(start), 20*time.Second, "the job was not killed")
	data, err := os.ReadFile(marker)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return !processAlive(pid) }, 5*time.Second, 10*time.Millisecond, "the compiler's child survived")
	assertEmptyDir(t, work)
}

func TestJobClientTimeoutIsShorter(t *testing.T) {
	comp := fakeCompiler(t, "sleep 60\n")
	r, work := newTestRunner(t, RunnerOptions{JobTimeout: time.Hour}, comp)
	_, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x"), TimeoutMS: 200})
	var ref *Refusal
	require.True(t, errors.As(err, &ref), "%v", err)
	assert.Equal(t, protocol.CodeTimeout, ref.Code)
	assertEmptyDir(t, work)
}

func TestJobClientGoneKillsCompile(t *testing.T) {
	comp := fakeCompiler(t, "sleep 60\n")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := runJob(ctx, r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x")})
	assert.ErrorIs(t, err, context.Canceled)
	assertEmptyDir(t, work)
}

// gatedCompiler is a fake compiler that waits until the file gate exists.
func gatedCompiler(t *testing.T, gate string) Compiler {
	return fakeCompiler(t, fmt.Sprintf("while [ ! -e %s ]; do sleep 0.01; done\n: > out.o\n", gate))
}

func TestSlotsQueueAndBusy(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	comp := gatedCompiler(t, gate)
	r, work := newTestRunner(t, RunnerOptions{Jobs: 1, QueueLen: 1}, comp)
	req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x")}
	assert.Equal(t, protocol.Load{Slots: 1}, r.Load(""))

	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { _, errs[0] = runJob(t.Context(), r, req) })
	require.Eventually(t, func() bool { return r.Load("").Running == 1 }, 10*time.Second, 5*time.Millisecond)
	wg.Go(func() { _, errs[1] = runJob(t.Context(), r, req) })
	// The second job waits for the only slot.
	require.Eventually(t, func() bool { return r.Load("").Queued == 1 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, protocol.Load{Slots: 1, Running: 1, Queued: 1, Mine: 2}, r.Load(""), "both jobs are of the session \"\"")

	// A third finds the queue full.
	_, err := runJob(t.Context(), r, req)
	var ref *Refusal
	require.True(t, errors.As(err, &ref), "%v", err)
	assert.Equal(t, protocol.CodeBusy, ref.Code)

	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	wg.Wait()
	assert.NoError(t, errs[0])
	assert.NoError(t, errs[1])
	assert.Equal(t, protocol.Load{Slots: 1}, r.Load(""))
	assertEmptyDir(t, work)
}

func TestSlotsQueuedJobGivesUp(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	comp := gatedCompiler(t, gate)
	r, work := newTestRunner(t, RunnerOptions{Jobs: 1}, comp)
	req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x")}
	done := make(chan error, 1)
	go func() { _, err := runJob(t.Context(), r, req); done <- err }()
	require.Eventually(t, func() bool { return r.Load("").Running == 1 }, 10*time.Second, 5*time.Millisecond)
	_, err := runJob(t.Context(), r, &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Preprocessed: []byte("x"), TimeoutMS: 100})
	var ref *Refusal
	require.True(t, errors.As(err, &ref), "%v", err)
	assert.Equal(t, protocol.CodeTimeout, ref.Code)
	assert.Equal(t, 0, r.Load("").Queued)
	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	require.NoError(t, <-done)
	assertEmptyDir(t, work)
}

func TestRunnerRemovesStaleJobDirectories(t *testing.T) {
	work := filepath.Join(t.TempDir(), "work")
	old, fresh := filepath.Join(work, "job-old"), filepath.Join(work, "job-fresh")
	require.NoError(t, os.MkdirAll(old, 0o700))
	require.NoError(t, os.MkdirAll(fresh, 0o700))
	long := time.Now().Add(-2 * staleJobAge)
	require.NoError(t, os.Chtimes(old, long, long))
	_, _ = newTestRunner(t, RunnerOptions{Workdir: work}, fakeCompiler(t, ""))
	assert.NoDirExists(t, old)
	assert.DirExists(t, fresh, "a directory a live server may own is kept")
}

func TestResultKey(t *testing.T) {
	comp := fakeCompiler(t, "")
	r, _ := newTestRunner(t, RunnerOptions{}, comp)
	base := protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Args: []string{"-O2"},
		Preprocessed: []byte("int x;"), SourceName: "a.c", ClientDir: "/home/a", CacheKey: strings.Repeat("a", 64)}
	key := func(mod func(*protocol.CompileRequest)) [32]byte {
		req := base
		mod(&req)
		j, err := r.Prepare(&req)
		require.NoError(t, err)
		return j.ResultKey()
	}
	k := key(func(*protocol.CompileRequest) {})
	// What does not change the object does not change the key.
	assert.Equal(t, k, key(func(r *protocol.CompileRequest) { r.ClientDir = "/home/b" }), "no debug info: the directory is not recorded")
	assert.Equal(t, k, key(func(r *protocol.CompileRequest) { r.CacheKey = strings.Repeat("b", 64) }))
	assert.Equal(t, k, key(func(r *protocol.CompileRequest) { r.SourceName = "dir/a.c" }))
	// What does, does.
	for name, mod := range map[string]func(*protocol.CompileRequest){
		"text":       func(r *protocol.CompileRequest) { r.Preprocessed = []byte("int y;") },
		"args":       func(r *protocol.CompileRequest) { r.Args = []string{"-O3"} },
		"args split": func(r *protocol.CompileRequest) { r.Args = []string{"-O", "-W"} },
		"language":   func(r *protocol.CompileRequest) { r.Language = "c++" },
		"source":     func(r *protocol.CompileRequest) { r.SourceName = "b.c" },
	} {
		assert.NotEqual(t, k, key(mod), name)
	}
	g := key(func(r *protocol.CompileRequest) { r.Args = []string{"-g"} })
	assert.NotEqual(t, g, key(func(r *protocol.CompileRequest) { r.Args = []string{"-g"}; r.ClientDir = "/home/b" }),
		"debug info records the directory")
}
