package server

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigHTTPKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigFileName)
	tok := `tokens = ["0123456789abcdef0123"]` + "\n"
	c, err := ParseConfig(path, dir, []byte(tok))
	require.NoError(t, err)
	assert.Empty(t, c.HTTP, "off by default")
	assert.Contains(t, c.fileText(), "\n# http = \"127.0.0.1:9694\"\n", "the generated file lists it, commented out")

	c, err = ParseConfig(path, dir, []byte(tok+`http = "127.0.0.1:9694"`+"\n"))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9694", c.HTTP)
	again, err := ParseConfig(path, dir, []byte(c.fileText()))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9694", again.HTTP, "the file written keeps it")

	_, err = ParseConfig(path, dir, []byte(tok+`http = "localhost"`+"\n"))
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "http", ce.Key)
	assert.Equal(t, 2, ce.Line)

	require.NoError(t, c.Apply(Overrides{HTTP: "127.0.0.1:0"}))
	assert.Equal(t, "127.0.0.1:0", c.HTTP)
	assert.ErrorContains(t, c.Apply(Overrides{HTTP: "127.0.0.1:99999"}), "--http 127.0.0.1:99999")
}
