package compile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteAtomic: the file ends with the new bytes whatever was at its
// path, and no temporary file is left behind.
func TestWriteAtomic(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
	}{
		{"new file", func(*testing.T, string) {}},
		{"over an older file", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("an older and longer object"), 0o644))
		}},
		{"over a hard link", func(t *testing.T, path string) {
			other := path + ".other"
			require.NoError(t, os.WriteFile(other, []byte("kept"), 0o644))
			require.NoError(t, os.Link(other, path))
			t.Cleanup(func() {
				b, err := os.ReadFile(other)
				require.NoError(t, err)
				assert.Equal(t, "kept", string(b), "the other name of the old file is untouched")
			})
		}},
		{"over a symbolic link", func(t *testing.T, path string) {
			target := path + ".target"
			require.NoError(t, os.WriteFile(target, []byte("kept"), 0o644))
			require.NoError(t, os.Symlink(target, path))
			t.Cleanup(func() {
				b, err := os.ReadFile(target)
				require.NoError(t, err)
				assert.Equal(t, "kept", string(b), "the link's target is untouched")
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.o")
			tt.prepare(t, path)
			require.NoError(t, writeAtomic(path, []byte("new")))
			info, err := os.Lstat(path)
			require.NoError(t, err)
			assert.True(t, info.Mode().IsRegular())
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, "new", string(b))
			tmps, err := filepath.Glob(filepath.Join(dir, "*.dcc-*"))
			require.NoError(t, err)
			assert.Empty(t, tmps)
		})
	}
}

// TestWriteIntoNonRegularFile: an output path that is a device or a pipe
// (-MF /dev/null) is written into, as the compiler does, never replaced by
// a regular file. A named pipe stands in for /dev/null here (replacing the
// real one, run as root, would break the machine).
func TestWriteIntoNonRegularFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "deps.d")
	require.NoError(t, syscall.Mkfifo(path, 0o644))
	got := make(chan []byte, 1)
	go func() {
		b, _ := os.ReadFile(path)
		got <- b
	}()
	require.NoError(t, writeAtomic(path, []byte("x.o: x.c\n")))
	assert.Equal(t, "x.o: x.c\n", string(<-got))
	info, err := os.Lstat(path)
	require.NoError(t, err)
	assert.True(t, info.Mode()&os.ModeNamedPipe != 0, "still a pipe, not replaced by a file: %v", info.Mode())
	tmps, err := filepath.Glob(filepath.Join(dir, "*.dcc-*"))
	require.NoError(t, err)
	assert.Empty(t, tmps)
}

// TestWriteAtomicMissingDir fails with the path in the error.
func TestWriteAtomicMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "a.o")
	err := writeAtomic(path, []byte("x"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
}
