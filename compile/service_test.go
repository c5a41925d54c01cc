package compile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTestService opens a service over a fresh store.
func newTestService(t *testing.T) *Service {
	t.Helper()
	return newTestServiceWith(t, nil)
}

// newTestServiceWith opens a service over a fresh store, its options those
// of newTestService changed by set (if not nil).
func newTestServiceWith(t *testing.T, set func(*Options)) *Service {
	t.Helper()
	store, err := badgerstore.Open(t.TempDir(), badgerstore.DefaultOptions())
	require.NoError(t, err)
	opts := Options{
		Store: store, Stats: cache.NewStats(), Memo: filehash.NewMemo(1000), Prober: &toolchain.Prober{},
		DirectMode: true, TempDir: t.TempDir(),
	}
	if set != nil {
		set(&opts)
	}
	s := New(opts)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// gccPath returns the real gcc, skipping without it.
func gccPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	return p
}

// settle waits until files just written are older than the race margin, as
// the files of a real tree are when it is built.
func settle(t *testing.T, _ string) {
	t.Helper()
	time.Sleep(raceMargin + 50*time.Millisecond)
}

func TestServiceMissThenHits(t *testing.T) {
	gcc := gccPath(t)
	s := newTestService(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"inc/x.h": "#define X 21\n",
		"a.c":     "#include \"x.h\"\nint f(void) { return X * 2; } /* comment */\n#warning replayed\n",
	})
	settle(t, dir)
	req := daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(),
		Args: []string{"-O2", "-Iinc", "-MD", "-c", "a.c", "-o", "a.o"}}
	ctx := context.Background()

	res := s.Compile(ctx, req)
	require.True(t, res.Handled, res.Reason)
	assert.Equal(t, "cache miss", res.Reason)
	assert.Contains(t, string(res.Stderr), "#warning replayed")
	obj := readT(t, dir, "a.o")
	deps := readT(t, dir, "a.d")

	require.NoError(t, os.Remove(filepath.Join(dir, "a.o")))
	require.NoError(t, os.Remove(filepath.Join(dir, "a.d")))
	res = s.Compile(ctx, req)
	require.True(t, res.Handled, res.Reason)
	assert.Equal(t, "direct hit", res.Reason)
	assert.Contains(t, string(res.Stderr), "#warning replayed", "warnings replayed on a hit")
	assert.Equal(t, obj, readT(t, dir, "a.o"))
	assert.Equal(t, deps, readT(t, dir, "a.d"))

	// Another object path: still a hit, and the .d names the new object.
	req.Args = []string{"-O2", "-Iinc", "-MD", "-c", "a.c", "-o", "b.o"}
	res = s.Compile(ctx, req)
	assert.Equal(t, "direct hit", res.Reason)
	assert.Equal(t, obj, readT(t, dir, "b.o"))
	assert.Regexp(t, `^b\.o: a\.c .*inc/x\.h`, string(readT(t, dir, "b.d")))

	// A header change is a miss.
	writeTree(t, dir, map[string]string{"inc/x.h": "#define X 22\n"})
	settle(t, dir)
	res = s.Compile(ctx, req)
	assert.Equal(t, "cache miss", res.Reason)
	assert.NotEqual(t, obj, readT(t, dir, "b.o"))

	st := s.opts.Stats.Snapshot()
	assert.Equal(t, int64(2), st[cache.StatDirectHits])
	assert.Equal(t, int64(2), st[cache.StatMisses])
}

func TestServiceLocalAndFailed(t *testing.T) {
	gcc := gccPath(t)
	s := newTestService(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"bad.c": "int f(void) { return nope; }\n", "ok.c": "int g;\n"})
	ctx := context.Background()

	link := s.Compile(ctx, daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(), Args: []string{"ok.c", "-o", "prog"}})
	assert.False(t, link.Handled, "linking runs unchanged in the wrapper")

	for i := 0; i < 2; i++ {
		res := s.Compile(ctx, daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(), Args: []string{"-c", "bad.c"}})
		if res.Handled {
			assert.NotEqual(t, 0, res.ExitCode)
			assert.Contains(t, string(res.Stderr), "nope")
		}
	}
	st := s.opts.Stats.Snapshot()
	assert.Equal(t, int64(1), st[cache.StatLocal])
	assert.Equal(t, int64(2), st[cache.StatUncacheable], "a failed compile is never cached")
	assert.Equal(t, int64(0), st[cache.StatHits])
}

func TestServicePreprocessedHitAcrossComments(t *testing.T) {
	gcc := gccPath(t)
	s := newTestService(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"h.h": "int h(void); // one\n", "a.c": "#include \"h.h\"\nint a(void) { return h(); }\n"})
	settle(t, dir)
	req := daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(), Args: []string{"-c", "a.c"}}
	ctx := context.Background()
	require.Equal(t, "cache miss", s.Compile(ctx, req).Reason)
	writeTree(t, dir, map[string]string{"h.h": "int h(void); // two words\n"})
	settle(t, dir)
	assert.Equal(t, "preprocessed hit", s.Compile(ctx, req).Reason)
	assert.Equal(t, "direct hit", s.Compile(ctx, req).Reason, "the preprocessed hit recorded a manifest")
}

// TestServiceDepFilesFollowTheirOptions: an entry stored by a -MD -MP compile
// must not give its .d to a -MMD compile of the same source, on a
// preprocessed hit or on the direct hits that follow it.
func TestServiceDepFilesFollowTheirOptions(t *testing.T) {
	gcc := gccPath(t)
	s := newTestService(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"u.h": "#define U 1\n", "a.c": "#include <stdio.h>\n#include \"u.h\"\nint a(void) { return U; }\n"})
	settle(t, dir)
	ctx := context.Background()
	compileAs := func(args ...string) daemon.CompileResult {
		return s.Compile(ctx, daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(), Args: args})
	}
	plain := func(args ...string) []byte {
		cmd := exec.Command(gcc, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return readT(t, dir, "want.d")
	}
	wantMD := plain("-MD", "-MP", "-MF", "want.d", "-MQ", "x.o", "-c", "a.c", "-o", "x.o")
	wantMMD := plain("-MMD", "-MF", "want.d", "-MT", "target", "-c", "a.c", "-o", "y.o")

	require.Equal(t, "cache miss", compileAs("-MD", "-MP", "-c", "a.c", "-o", "x.o").Reason)
	assert.Equal(t, wantMD, readT(t, dir, "x.d"))
	for _, want := range []string{"preprocessed hit", "direct hit", "direct hit"} {
		res := compileAs("-MMD", "-MF", "y.dep", "-MT", "target", "-c", "a.c", "-o", "y.o")
		assert.Equal(t, want, res.Reason)
		assert.Equal(t, string(wantMMD), string(readT(t, dir, "y.dep")), want)
	}
	require.NoError(t, os.Remove(filepath.Join(dir, "x.d")))
	assert.Equal(t, "direct hit", compileAs("-MD", "-MP", "-c", "a.c", "-o", "x.o").Reason)
	assert.Equal(t, wantMD, readT(t, dir, "x.d"))
}

// newOneFileService opens a test service, in depend mode or not, and a
// settled tree holding a.c.
func newOneFileService(t *testing.T, depend bool) (*Service, string) {
	t.Helper()
	s := newTestService(t)
	s.opts.DependMode = depend
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.c": "int f(void) { return 42; }\n"})
	settle(t, dir)
	return s, dir
}

// TestServiceRecache: with DCC_RECACHE set, a compile that would hit runs
// the compiler and stores its result; without it, the next compile hits.
// In preprocessor mode and in depend mode.
func TestServiceRecache(t *testing.T) {
	gcc := gccPath(t)
	for _, depend := range []bool{false, true} {
		t.Run(fmt.Sprintf("depend=%v", depend), func(t *testing.T) {
			s, dir := newOneFileService(t, depend)
			runs := filepath.Join(t.TempDir(), "runs")
			cc := filepath.Join(t.TempDir(), "gcc")
			require.NoError(t, os.WriteFile(cc, []byte("#!/bin/sh\ncase \" $* \" in *\" -c \"*) echo run >> "+runs+";; esac\nexec "+gcc+" \"$@\"\n"), 0o755))
			req := daemon.CompileRequest{Compiler: "gcc", Real: cc, Dir: dir, Env: os.Environ(), Args: []string{"-O2", "-c", "a.c", "-o", "a.o"}}
			compiles := func() int {
				b, _ := os.ReadFile(runs)
				return strings.Count(string(b), "run\n")
			}
			ctx := context.Background()

			require.Equal(t, "cache miss", s.Compile(ctx, req).Reason)
			require.Equal(t, 1, compiles())
			require.Equal(t, "direct hit", s.Compile(ctx, req).Reason)
			require.Equal(t, 1, compiles())

			recache := req
			recache.Env = append(os.Environ(), RecacheEnv+"=1")
			res := s.Compile(ctx, recache)
			require.True(t, res.Handled, res.Reason)
			assert.Equal(t, "recached (DCC_RECACHE is set)", res.Reason)
			assert.Equal(t, 2, compiles(), "the compiler ran although the cache held the result")
			assert.Equal(t, "direct hit", s.Compile(ctx, req).Reason, "the stored result serves the next compile")
			recache.Env = append(os.Environ(), RecacheEnv+"=0")
			assert.Equal(t, "direct hit", s.Compile(ctx, recache).Reason, "a false value changes nothing")
			st := s.opts.Stats.Snapshot()
			assert.Equal(t, int64(2), st[cache.StatMisses])
			assert.Equal(t, int64(3), st[cache.StatHits])
		})
	}
}

// TestServiceReadOnly: with DCC_READONLY set, compiles are looked up as
// usual but a miss stores nothing (no entry, no manifest), in preprocessor
// mode and in depend mode.
func TestServiceReadOnly(t *testing.T) {
	gcc := gccPath(t)
	for _, depend := range []bool{false, true} {
		t.Run(fmt.Sprintf("depend=%v", depend), func(t *testing.T) {
			s, dir := newOneFileService(t, depend)
			req := daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(), Args: []string{"-O2", "-MD", "-c", "a.c", "-o", "a.o"}}
			readOnly := req
			readOnly.Env = append(os.Environ(), ReadOnlyEnv+"=1")
			ctx := context.Background()
			stored := func() int64 {
				_, entries := s.opts.Store.Usage()
				return entries
			}

			res := s.Compile(ctx, readOnly)
			require.True(t, res.Handled, res.Reason)
			assert.Equal(t, "cache miss (DCC_READONLY is set: not stored)", res.Reason)
			assert.FileExists(t, filepath.Join(dir, "a.o"))
			assert.Zero(t, stored(), "nothing stored")
			assert.Equal(t, "cache miss (DCC_READONLY is set: not stored)", s.Compile(ctx, readOnly).Reason, "so the next one misses too")
			assert.Zero(t, s.opts.Store.(*badgerstore.BadgerStore).Manifests(), "no manifest either")

			require.Equal(t, "cache miss", s.Compile(ctx, req).Reason)
			stored1 := stored()
			assert.Equal(t, "direct hit", s.Compile(ctx, readOnly).Reason, "a read-only compile is served from the cache")
			assert.Equal(t, stored1, stored())
		})
	}
}
