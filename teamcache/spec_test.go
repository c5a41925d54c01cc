package teamcache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSpecs(t *testing.T) {
	specs, err := ParseSpecs("file:/mnt/cache|read-only redis://:secret@cache:6379/2|connect-timeout=100 " +
		"http://web:8080/dcc|layout=bazel|bearer-token=t0k|operation-timeout=500 redis://cache*.lan|shards=a,b(2) redis+unix:/run/redis.sock")
	require.NoError(t, err)
	require.Len(t, specs, 5)
	assert.Equal(t, "/mnt/cache", specs[0].URL.Path)
	assert.True(t, specs[0].ReadOnly)
	assert.Equal(t, 100*time.Millisecond, specs[1].ConnectTimeout)
	assert.Equal(t, "/2", specs[1].URL.Path)
	assert.Equal(t, "bazel", specs[2].Layout)
	assert.Equal(t, "t0k", specs[2].BearerToken)
	assert.Equal(t, 500*time.Millisecond, specs[2].OperationTimeout)
	assert.Equal(t, []Shard{{"a", 1}, {"b", 2}}, specs[3].Shards)
	assert.Equal(t, "/run/redis.sock", specs[4].URL.Path)
}

func TestParseSpecsRefusals(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ftp://host/x", `unknown storage "ftp"`},
		{"file:relative/dir", "absolute path"},
		{"redis://", "no host"},
		{"file:/x|read-only=yes", "takes no value"},
		{"redis://h|connect-timeout=soon", "want milliseconds"},
		{"file:/x|layout=flat", "only for http"},
		{"http://h|layout=tree", "want flat, subdirs or bazel"},
		{"redis://h|shards=a,b", `no "*"`},
		{"redis://h*|shards=a(-1)", "positive number"},
		{"redis://h|colour=blue", "unknown: want read-only"},
	} {
		_, err := ParseSpecs(tt.in)
		require.Error(t, err, tt.in)
		assert.Contains(t, err.Error(), tt.want, tt.in)
		assert.NotContains(t, err.Error(), "\n")
	}
	_, err := ParseSpecs("redis://:hunter2@cache|colour=blue")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2", "a password never reaches a message")
}
