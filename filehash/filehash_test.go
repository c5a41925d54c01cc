package filehash

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"
)

func TestHasTimeMacros(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"int x;", false},
		{`const char *d = __DATE__;`, true},
		{`const char *t = __TIME__;`, true},
		{`const char *s = __TIMESTAMP__;`, true},
		{`// built at __TIME__`, true},
		{`__TIME_BITS__ __GNUC__ __attribute__((x)) _TIME_ __DATE_ __TIMESTAMP_`, false},
		{`__TIME_ __TIME__`, true},
		{"", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, HasTimeMacros([]byte(tt.text)), tt.text)
	}
}

func TestHashReader(t *testing.T) {
	// Content larger than a chunk, with a macro name split across two reads.
	split := bytes.Repeat([]byte("x"), chunkSize-5)
	tests := []struct {
		name       string
		content    []byte
		timeMacros bool
	}{
		{"empty", nil, false},
		{"small", []byte("int main(void) { return 0; }\n"), false},
		{"macro across chunks", append(append([]byte{}, split...), "__TIMESTAMP__ rest"...), true},
		{"macro at the very end", append(bytes.Repeat([]byte("y"), 3*chunkSize), "__DATE__"...), true},
		{"large without macros", bytes.Repeat([]byte("abc__TIME_"), chunkSize/3), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// OneByteReader makes the reads as small as they come.
			for _, r := range []io.Reader{bytes.NewReader(tt.content), iotest.OneByteReader(bytes.NewReader(tt.content))} {
				info, err := hashReader(r)
				require.NoError(t, err)
				assert.Equal(t, HashBytes(tt.content), info.Digest)
				assert.Equal(t, [32]byte(blake3.Sum256(tt.content)), [32]byte(info.Digest))
				assert.Equal(t, int64(len(tt.content)), info.Size)
				assert.Equal(t, tt.timeMacros, info.TimeMacros)
			}
		})
	}
	_, err := hashReader(iotest.ErrReader(errors.New("disk on fire")))
	assert.ErrorContains(t, err, "disk on fire")
}

// newTestMemo returns a memo whose clock runs an hour ahead, so files written
// by the test count as old enough to remember.
func newTestMemo(maxEntries int) *Memo {
	m := NewMemo(maxEntries)
	m.now = func() time.Time { return time.Now().Add(time.Hour) }
	return m
}

// write writes content to dir/name and returns the path.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestMemo(t *testing.T) {
	tests := []struct {
		name string
		// change modifies the file (or not) between the first and second Hash.
		change    func(t *testing.T, path string)
		wantReads int64
		wantHits  int64
		wantNew   string // content the second hash must reflect
	}{
		{"unchanged file is not read again", func(*testing.T, string) {}, 1, 1, "AAAA"},
		{"same size, touched mtime", func(t *testing.T, p string) {
			require.NoError(t, os.WriteFile(p, []byte("BBBB"), 0o644))
			old := time.Now().Add(-24 * time.Hour)
			require.NoError(t, os.Chtimes(p, old, old))
		}, 2, 0, "BBBB"},
		{"same size and mtime restored: ctime tells", func(t *testing.T, p string) {
			st, err := os.Stat(p)
			require.NoError(t, err)
			before := keyOf(st)
			// ctime ticks coarsely: rewrite until it moves.
			for i := 0; ; i++ {
				require.Less(t, i, 500, "ctime never moved")
				require.NoError(t, os.WriteFile(p, []byte("CCCC"), 0o644))
				require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime()))
				st2, err := os.Stat(p)
				require.NoError(t, err)
				if keyOf(st2).ctime != before.ctime {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
		}, 2, 0, "CCCC"},
		{"replaced by another file (new inode)", func(t *testing.T, p string) {
			st, err := os.Stat(p)
			require.NoError(t, err)
			tmp := write(t, filepath.Dir(p), "other", "DDDD")
			require.NoError(t, os.Chtimes(tmp, st.ModTime(), st.ModTime()))
			require.NoError(t, os.Rename(tmp, p))
		}, 2, 0, "DDDD"},
		{"grown", func(t *testing.T, p string) {
			require.NoError(t, os.WriteFile(p, []byte("AAAAE"), 0o644))
		}, 2, 0, "AAAAE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, t.TempDir(), "h.h", "AAAA")
			m := newTestMemo(10)
			first, err := m.Hash(p)
			require.NoError(t, err)
			assert.Equal(t, HashBytes([]byte("AAAA")), first.Digest)
			tt.change(t, p)
			second, err := m.Hash(p)
			require.NoError(t, err)
			assert.Equal(t, HashBytes([]byte(tt.wantNew)), second.Digest)
			assert.Equal(t, int64(len(tt.wantNew)), second.Size)
			c := m.Counters()
			assert.Equal(t, tt.wantReads, c.Reads, "reads")
			assert.Equal(t, tt.wantHits, c.Hits, "hits")
			assert.Equal(t, 1, c.Entries)
		})
	}
}

func TestMemoRecentFileIsNotRemembered(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "new.h", "fresh")
	m := NewMemo(10) // the real clock: the file was written just now
	for i := 0; i < 3; i++ {
		info, err := m.Hash(p)
		require.NoError(t, err)
		assert.Equal(t, HashBytes([]byte("fresh")), info.Digest)
	}
	assert.Equal(t, Counters{Hits: 0, Reads: 3, Entries: 0}, m.Counters())

	// The same file seen from a clock past the granularity is remembered.
	m.now = func() time.Time { return time.Now().Add(Granularity + time.Second) }
	for i := 0; i < 3; i++ {
		_, err := m.Hash(p)
		require.NoError(t, err)
	}
	assert.Equal(t, Counters{Hits: 2, Reads: 4, Entries: 1}, m.Counters())

	// A file stamped in the future (clock skew) is not trusted.
	future := write(t, dir, "future.h", "later")
	ahead := time.Now().Add(24 * time.Hour)
	require.NoError(t, os.Chtimes(future, ahead, ahead))
	for i := 0; i < 2; i++ {
		_, err := m.Hash(future)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(6), m.Counters().Reads)
}

func TestMemoTimeMacros(t *testing.T) {
	dir := t.TempDir()
	m := newTestMemo(10)
	for _, tt := range []struct {
		content string
		want    bool
	}{
		{"#define BUILT __DATE__ \" \" __TIME__\n", true},
		{"#define V 1\n", false},
	} {
		p := write(t, dir, "f.h", tt.content)
		for i := 0; i < 2; i++ { // read, then from the memo
			info, err := m.Hash(p)
			require.NoError(t, err)
			assert.Equal(t, tt.want, info.TimeMacros, tt.content)
		}
	}
}

func TestMemoErrors(t *testing.T) {
	dir := t.TempDir()
	m := newTestMemo(10)
	_, err := m.Hash(filepath.Join(dir, "missing.h"))
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "missing.h")

	_, err = m.Hash(dir)
	assert.ErrorContains(t, err, "not a regular file")

	link := filepath.Join(dir, "dangling.h")
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), link))
	_, err = m.Hash(link)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestMemoBounded(t *testing.T) {
	dir := t.TempDir()
	m := newTestMemo(3)
	paths := make([]string, 5)
	for i := range paths {
		paths[i] = write(t, dir, strings.Repeat("f", i+1)+".h", strings.Repeat("x", i))
		_, err := m.Hash(paths[i])
		require.NoError(t, err)
	}
	assert.Equal(t, 3, m.Counters().Entries)
	// The most recent three are remembered, the oldest two were evicted.
	for _, p := range paths[2:] {
		_, err := m.Hash(p)
		require.NoError(t, err)
	}
	assert.Equal(t, Counters{Hits: 3, Reads: 5, Entries: 3}, m.Counters())
	_, err := m.Hash(paths[0])
	require.NoError(t, err)
	assert.Equal(t, int64(6), m.Counters().Reads)

	none := newTestMemo(0)
	for i := 0; i < 2; i++ {
		_, err := none.Hash(paths[0])
		require.NoError(t, err)
	}
	assert.Equal(t, Counters{Hits: 0, Reads: 2, Entries: 0}, none.Counters())
}

func TestMemoConcurrent(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 20; i++ {
		paths = append(paths, write(t, dir, strings.Repeat("h", i+1), strings.Repeat("y", i)))
	}
	m := newTestMemo(8) // smaller than the set: evictions race with hits
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				p := paths[(g*7+i)%len(paths)]
				info, err := m.Hash(p)
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, int64(len(filepath.Base(p))-1), info.Size)
			}
		}()
	}
	wg.Wait()
	c := m.Counters()
	assert.Equal(t, int64(8*200), c.Hits+c.Reads)
	assert.LessOrEqual(t, c.Entries, 8)
}

func BenchmarkHash(b *testing.B) {
	p := filepath.Join(b.TempDir(), "big.h")
	require.NoError(b, os.WriteFile(p, bytes.Repeat([]byte("int f(void);\n"), 100<<10/13), 0o644))
	for _, bc := range []struct {
		name string
		memo *Memo
	}{{"memo-hit", newTestMemo(10)}, {"read", newTestMemo(0)}} {
		b.Run(bc.name, func(b *testing.B) {
			st, err := os.Stat(p)
			require.NoError(b, err)
			b.SetBytes(st.Size())
			for b.Loop() {
				if _, err := bc.memo.Hash(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestAssemblerReadsAndProbes(t *testing.T) {
	cases := []struct {
		text        string
		asm, probes bool
	}{
		{`__asm__(".incbin \"data.bin\"");`, true, false},
		{`asm(".INCBIN \"x\"");`, true, false},
		{"\t.include \"macros.s\"\n", true, false},
		{".IncBin", true, false},
		{`int x = s.IncludeLoc; // .incbinary`, false, false},
		{`#include <stdio.h>`, false, false},
		{`#if __has_include("opt.h")`, false, true},
		{`#if __has_include_next(<x.h>)`, false, true},
		{`plain text`, false, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.asm, HasAssemblerReads([]byte(c.text)), c.text)
		assert.Equal(t, c.probes, HasIncludeProbes([]byte(c.text)), c.text)
	}
	// Found across the boundary between two reads.
	for _, pattern := range []string{".incbin ", "__has_include("} {
		for cut := 1; cut < len(pattern); cut++ {
			data := append(bytes.Repeat([]byte{'x'}, chunkSize-cut), pattern...)
			info, err := hashReader(bytes.NewReader(data))
			require.NoError(t, err)
			assert.True(t, info.AssemblerReads || info.Probes, "%q cut at %d", pattern, cut)
		}
	}
}
