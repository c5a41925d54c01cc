package s3store

import (
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
)

// mustSpec parses one specification.
func mustSpec(t *testing.T, raw string) teamcache.Spec {
	t.Helper()
	specs, err := teamcache.ParseSpecs(raw)
	require.NoError(t, err)
	require.Len(t, specs, 1)
	return specs[0]
}

func TestParseConfig(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	for _, tc := range []struct {
		raw  string
		want config
	}{
		{"s3://bucket", config{bucket: "bucket", host: "s3.amazonaws.com", secure: true}},
		{"s3://bucket/", config{bucket: "bucket", host: "s3.amazonaws.com", secure: true}},
		{"s3://my.bucket/team/dcc/?region=eu-west-3", config{bucket: "my.bucket", prefix: "team/dcc",
			host: "s3.amazonaws.com", secure: true, region: "eu-west-3"}},
		{"s3://b-1/p?endpoint=http://127.0.0.1:8333&region=us-east-1&path-style=true|connect-timeout=50",
			config{bucket: "b-1", prefix: "p", host: "127.0.0.1:8333", region: "us-east-1", lookup: minio.BucketLookupPath}},
		{"s3://cache?endpoint=https://minio.example.com/&path-style=0", config{bucket: "cache",
			host: "minio.example.com", secure: true, lookup: minio.BucketLookupDNS}},
		{"s3://cache?endpoint=http%3A%2F%2F%5B%3A%3A1%5D%3A9000", config{bucket: "cache", host: "[::1]:9000"}},
	} {
		got, err := parseConfig(mustSpec(t, tc.raw))
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.want, got, tc.raw)
	}
}

func TestRegionFromEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "ap-south-1")
	c, err := parseConfig(mustSpec(t, "s3://bucket"))
	require.NoError(t, err)
	assert.Equal(t, "ap-south-1", c.region)

	t.Setenv("AWS_REGION", "eu-north-1")
	c, err = parseConfig(mustSpec(t, "s3://bucket"))
	require.NoError(t, err)
	assert.Equal(t, "eu-north-1", c.region, "AWS_REGION first, as the AWS tools")

	c, err = parseConfig(mustSpec(t, "s3://bucket?region=us-west-2"))
	require.NoError(t, err)
	assert.Equal(t, "us-west-2", c.region, "the URL's region wins")
}

func TestObjectName(t *testing.T) {
	assert.Equal(t, "abc", ObjectName("", "abc"))
	assert.Equal(t, "team/dcc/abc", ObjectName("team/dcc", "abc"))
	s, err := New(mustSpec(t, "s3://bucket/p?endpoint=http://127.0.0.1:1"))
	require.NoError(t, err)
	defer s.Close()
	name, err := s.object("0123456789abcdef")
	require.NoError(t, err)
	assert.Equal(t, "p/0123456789abcdef", name)
	for _, bad := range []string{"", "../../etc", "ABCDEF", "ab/cd"} {
		_, err := s.object(bad)
		assert.Error(t, err, bad)
	}
}
