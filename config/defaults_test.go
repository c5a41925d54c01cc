package config

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteDefaultIfMissing(t *testing.T) {
	dir := t.TempDir()
	wrote, err := WriteDefaultIfMissing(dir)
	require.NoError(t, err)
	assert.True(t, wrote)

	// The file parses, and every value comes from it with the default value.
	noEnv := func(string) (string, bool) { return "", false }
	c, err := LoadFrom(dir, noEnv)
	require.NoError(t, err)
	defaults, err := LoadFrom(t.TempDir(), noEnv)
	require.NoError(t, err)
	for i, s := range c.Settings() {
		assert.Equal(t, defaults.Settings()[i].Value, s.Value, s.Key)
		assert.Contains(t, s.Source, "file", s.Key)
	}

	// A second call, or a file of the user's, is left alone.
	require.NoError(t, Set(dir, "max_size", "1G"))
	wrote, err = WriteDefaultIfMissing(dir)
	require.NoError(t, err)
	assert.False(t, wrote)
	b, err := os.ReadFile(FilePath(dir))
	require.NoError(t, err)
	assert.Contains(t, string(b), `max_size = '1G'`)
}
