package httpstore

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
)

// testKey is a key of the shape the cache uses: 64 hex digits.
const testKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestNewRefusesBadSpecs(t *testing.T) {
	for _, tc := range []struct {
		url, layout, token string
		want               string
	}{
		{url: "ftp://h/c", want: `scheme "ftp", want http or https`},
		{url: "redis://h:6379", want: `scheme "redis"`},
		{url: "http:///c", want: "no host"},
		{url: "http://:8080/c", want: "no host"},
		{url: "http:h/c", want: "no host"},
		{url: "http://u:hunter2@*.cache/c", want: "shard pattern"},
		{url: "http://h/c?x=1", want: "a query or fragment"},
		{url: "http://h/c#f", want: "a query or fragment"},
		{url: "http://u:hunter2@h/c", token: "tok", want: "both credentials in the URL and a bearer token"},
		{url: "http://u:hunter2@h/c", layout: "tree", want: `unknown layout "tree"`},
	} {
		t.Run(tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			require.NoError(t, err)
			_, err = New(teamcache.Spec{Raw: tc.url, URL: u, Layout: tc.layout, BearerToken: tc.token})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "http storage"), err.Error())
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	_, err := New(teamcache.Spec{})
	assert.EqualError(t, err, "http storage: no URL")
}

func TestRelPath(t *testing.T) {
	for layout, want := range map[string]string{
		LayoutFlat:    testKey,
		LayoutSubdirs: "01/" + testKey[2:],
		LayoutBazel:   "ac/" + testKey,
	} {
		rel, err := relPath(layout, testKey)
		require.NoError(t, err)
		assert.Equal(t, want, strings.Join(rel, "/"), layout)
	}
	for _, key := range []string{"", "ab", "../etc", "0123ABCD", "01/23", "xyz"} {
		_, err := relPath(LayoutFlat, key)
		assert.Error(t, err, key)
	}
	_, err := relPath(LayoutBazel, testKey[:63])
	assert.ErrorContains(t, err, "64 hex digits")
}

func TestBadKeysSendNothing(t *testing.T) {
	specs, err := teamcache.ParseSpecs("http://127.0.0.1:1/c|layout=bazel")
	require.NoError(t, err)
	s, err := New(specs[0])
	require.NoError(t, err)
	defer s.Close()
	_, found, err := s.Get(context.Background(), "../x")
	assert.ErrorContains(t, err, "not a hex digest")
	assert.False(t, found)
	assert.ErrorContains(t, s.Put(context.Background(), "abc", []byte("x")), "64 hex digits")
}
