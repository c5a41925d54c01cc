package compile

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSearchList(t *testing.T) {
	gcc := `Using built-in specs.
#include "..." search starts here:
#include <...> search starts here:
 /usr/lib/gcc/x86_64-linux-gnu/12/include
 /usr/local/include
 /usr/include/x86_64-linux-gnu
 /usr/include
End of search list.
`
	clang := "clang version 14.0.6\r\n#include \"...\" search starts here:\r\n#include <...> search starts here:\r\n" +
		" /usr/lib/llvm-14/lib/clang/14.0.6/include\r\n /System/Library/Frameworks (framework directory)\r\nEnd of search list.\r\n"
	tests := []struct {
		name    string
		out     string
		want    []string
		wantErr bool
	}{
		{"gcc", gcc, []string{"/usr/lib/gcc/x86_64-linux-gnu/12/include", "/usr/local/include", "/usr/include/x86_64-linux-gnu", "/usr/include"}, false},
		{"clang, CRLF, frameworks", clang, []string{"/usr/lib/llvm-14/lib/clang/14.0.6/include", "/System/Library/Frameworks"}, false},
		{"unclean paths", "#include <...> search starts here:\n /usr/lib/gcc/../../include/\nEnd of search list.\n", []string{"/usr/include"}, false},
		{"no list", "gcc: error: unrecognized command-line option\n", nil, true},
		{"empty list", "#include <...> search starts here:\nEnd of search list.\n", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSearchList([]byte(tt.out))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestProbeArgs(t *testing.T) {
	tests := []struct {
		name       string
		pre, cg    []string
		wantResult []string
	}{
		{"include options dropped", []string{"-Iinc", "-I", "x", "-iquote", "q", "-isystem", "s", "-idirafter", "d", "-DX=1", "-D", "Y", "-UZ", "-include", "p.h", "-imacros", "m.h"}, nil, nil},
		{"directory movers kept", []string{"--sysroot=/sr", "-nostdinc", "-isysroot", "/x", "-Wp,-MD,f.d"}, []string{"-m32", "-target", "aarch64-linux-gnu"},
			[]string{"--sysroot=/sr", "-nostdinc", "-isysroot", "/x", "-m32", "-target", "aarch64-linux-gnu"}},
		{"optimization, debug, warning and -f options dropped", nil,
			[]string{"-O3", "-O", "-g", "-g3", "-gno-column-info", "-Wall", "-Wextra", "-w", "-pedantic", "-pipe", "-fPIC", "-fno-strict-aliasing", "-fopenmp", "-mavx2", "-stdlib=libc++", "-std=c11"},
			[]string{"-fopenmp", "-mavx2", "-stdlib=libc++", "-std=c11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantResult, probeArgs(&toolchain.Analysis{PreprocessorArgs: tt.pre, CodegenArgs: tt.cg}))
		})
	}
}

func TestRecordedInOutputs(t *testing.T) {
	tests := []struct {
		name   string
		family toolchain.Family
		args   []string
		paths  map[string]string
		want   []string
	}{
		{"plain", toolchain.FamilyGCC, []string{"-O2", "-c", "a.c"}, map[string]string{kindObject: "a.o"}, nil},
		{"split dwarf", toolchain.FamilyGCC, []string{"-g", "-gsplit-dwarf"}, map[string]string{kindObject: "o/a.o", kindSplitDwarf: "o/a.dwo"},
			[]string{"dwo", "o/a.dwo"}},
		{"coverage", toolchain.FamilyGCC, []string{"--coverage"}, map[string]string{kindObject: "a.o", kindCoverage: "a.gcno"},
			[]string{"profile", "/w", "a.o"}},
		{"profile generate with a path", toolchain.FamilyClang, []string{"-fprofile-generate=/p"}, map[string]string{kindObject: "a.o"},
			[]string{"profile", "/w", "a.o"}},
		{"clang records its command line", toolchain.FamilyClang, []string{"-frecord-command-line", "-DX", "-c", "a.c"}, map[string]string{kindObject: "a.o"},
			[]string{"command", "/usr/bin/clang", "-frecord-command-line", "-DX", "-c", "a.c"}},
		{"turned off again", toolchain.FamilyClang, []string{"-frecord-command-line", "-fno-record-command-line"}, map[string]string{kindObject: "a.o"}, nil},
		{"gcc records only code generation options", toolchain.FamilyGCC, []string{"-frecord-gcc-switches"}, map[string]string{kindObject: "a.o"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &job{req: daemon.CompileRequest{Dir: "/w"}, a: &toolchain.Analysis{Family: tt.family, Args: tt.args},
				id: toolchain.Identity{Path: "/usr/bin/clang"}, paths: tt.paths}
			assert.Equal(t, tt.want, j.recordedInOutputs())
		})
	}
}

func TestPrecompiledHeader(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.h": "", "a.h.gch": "", "inc/b.h": "", "inc/b.h.gch/x.gch": "", "c.h": "", "c.h.pch": ""})
	tests := []struct {
		name      string
		includers map[string]string
		want      string
	}{
		{"none", map[string]string{"x.c": "", "inc/b.h": "a.h"}, ""},
		{"next to a header the source includes", map[string]string{"x.c": "", "a.h": "x.c"}, "a.h.gch"},
		{"a directory of them", map[string]string{"x.c": "", "inc/b.h": "x.c"}, "inc/b.h.gch"},
		{"for -include", map[string]string{"x.c": "", "c.h": "<command-line>"}, "c.h.pch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &job{req: reqIn(dir), includers: tt.includers, mainFile: "x.c"}
			assert.Equal(t, tt.want, j.precompiledHeader())
		})
	}
}

func TestReopeningStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	require.NoError(t, os.WriteFile(dir, nil, 0o644)) // not a directory
	open := func() (cache.Store, error) {
		s, err := badgerstore.Open(dir, badgerstore.DefaultOptions())
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	_, err := open()
	require.Error(t, err)
	r := newReopeningStore(open, func() error { return badgerstore.Remove(dir) }, err)
	now := time.Now()
	r.now = func() time.Time { return now }

	assert.ErrorIs(t, r.Available(), errCacheUnavailable)
	_, err = r.GetEntry(cache.Key{1})
	assert.ErrorIs(t, err, errCacheUnavailable)
	assert.ErrorIs(t, r.PutEntry(cache.Key{1}, cache.Entry{}), errCacheUnavailable)
	size, entries := r.Usage()
	assert.Zero(t, size+entries)

	// Fixed, but not tried again before reopenInterval.
	require.NoError(t, os.Remove(dir))
	now = now.Add(reopenInterval / 2)
	assert.ErrorIs(t, r.Available(), errCacheUnavailable)
	now = now.Add(reopenInterval)
	require.NoError(t, r.Available())
	require.NoError(t, r.PutEntry(cache.Key{1}, cache.Entry{Files: map[string][]byte{"object": []byte("o")}}))
	e, err := r.GetEntry(cache.Key{1})
	require.NoError(t, err)
	assert.Equal(t, []byte("o"), e.Files["object"])
	_, entries = r.Usage()
	assert.Equal(t, int64(1), entries)
	require.NoError(t, r.Close())
}

func TestCompileCountsErrorWhileCacheUnavailable(t *testing.T) {
	gcc := gccPath(t)
	r := newReopeningStore(func() (cache.Store, error) { return nil, errors.New("still broken") },
		func() error { return errors.New("cannot remove") }, errors.New("broken"))
	s := New(Options{Store: r, Stats: cache.NewStats(), Prober: &toolchain.Prober{}, TempDir: t.TempDir()})
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	res := s.Compile(t.Context(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: t.TempDir(), Args: []string{"-c", "a.c"}})
	assert.False(t, res.Handled)
	assert.Equal(t, int64(1), s.opts.Stats.Get(cache.StatErrors))
}

func TestCheckRoom(t *testing.T) {
	t.Parallel()
	s := &Service{opts: Options{CacheDir: t.TempDir()}}
	assert.NoError(t, (&Service{}).checkRoom(1<<40), "no directory: no check")
	assert.ErrorIs(t, s.checkRoom(1<<60), errDiskFull, "no file system has room for an exbibyte")
}

func TestPathLocks(t *testing.T) {
	t.Parallel()
	var p pathLocks
	var inside, most int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/a"
			if i%2 == 1 {
				path = "/b"
			}
			unlock := p.lock(path)
			mu.Lock()
			if path == "/a" {
				inside++
				most = max(most, inside)
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			if path == "/a" {
				inside--
			}
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, most, "one holder of a path at a time")
	assert.Empty(t, p.locks, "unused locks are dropped")
}

func TestNested(t *testing.T) {
	tests := []struct {
		env  []string
		want bool
	}{
		{nil, false},
		{[]string{"DCC_CHAIN=/usr/bin/gcc"}, false},
		{[]string{"DCC_CHAIN=/w/gcc:/usr/bin/gcc"}, true},
		{[]string{"DCC_CHAIN=/w/gcc:/usr/bin/gcc", "DCC_CHAIN=/usr/bin/gcc"}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, nested(tt.env), "%v", tt.env)
	}
}
