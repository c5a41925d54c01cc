//go:build unix

package filelock

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTryExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		return f
	}
	first, second := open(), open()
	held, err := TryExclusive(first)
	require.NoError(t, err)
	require.True(t, held)

	held, err = TryExclusive(second)
	require.NoError(t, err)
	assert.False(t, held, "a second open file got the lock the first holds")

	require.NoError(t, first.Close())
	held, err = TryExclusive(second)
	require.NoError(t, err)
	assert.True(t, held, "closing the first file released its lock")
}
