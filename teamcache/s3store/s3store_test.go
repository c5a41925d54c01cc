package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/backendtest"
	"github.com/dcc-build/dcc/teamcache/s3store"
	"github.com/dcc-build/dcc/teamcache/servertest"
)

const key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// newStore makes the store raw names, closed at the test's end.
func newStore(t *testing.T, raw string) *s3store.Store {
	t.Helper()
	specs, err := teamcache.ParseSpecs(raw)
	require.NoError(t, err)
	require.Len(t, specs, 1)
	s, err := s3store.New(specs[0])
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// assertOneLine checks that err is one line and holds none of secrets.
func assertOneLine(t *testing.T, err error, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	for _, s := range secrets {
		assert.NotContains(t, err.Error(), s)
	}
}

// TestSeaweedFS runs the store against a real S3 gateway, started once.
func TestSeaweedFS(t *testing.T) {
	srv := servertest.StartS3(t)
	for _, kv := range append(srv.Env(), "AWS_SESSION_TOKEN=") {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	ctx := context.Background()

	t.Run("conformance", func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) teamcache.Backend { return newStore(t, srv.URL()) })
	})

	t.Run("objects are PREFIX/KEY, and prefixes are apart", func(t *testing.T) {
		require.NoError(t, srv.PutRaw(ctx, key, []byte("forged")))
		got, found, err := newStore(t, srv.URL()).Get(ctx, key)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, "forged", string(got))

		other := newStore(t, strings.Replace(srv.URL(), "/"+srv.Prefix+"?", "/other/prefix?", 1))
		_, found, err = other.Get(ctx, key)
		require.NoError(t, err)
		assert.False(t, found)
	})

	t.Run("a wrong secret is an error, not a miss", func(t *testing.T) {
		wrong := "wrong-" + srv.SecretKey[:8]
		t.Setenv("AWS_SECRET_ACCESS_KEY", wrong)
		s := newStore(t, srv.URL())
		_, found, err := s.Get(ctx, key)
		assertOneLine(t, err, wrong, srv.SecretKey)
		assert.False(t, found)
		assertOneLine(t, s.Put(ctx, key, []byte("x")), wrong, srv.SecretKey)
		t.Log(err)
	})

	t.Run("no credentials is an error, not a miss", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
		t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
		_, _, err := newStore(t, srv.URL()).Get(ctx, key)
		assertOneLine(t, err)
		t.Log(err)
	})

	t.Run("a missing bucket is an error, not a miss", func(t *testing.T) {
		s := newStore(t, strings.Replace(srv.URL(), "s3://"+srv.Bucket+"/", "s3://no-such-bucket/", 1))
		_, _, err := s.Get(ctx, key)
		assertOneLine(t, err)
		t.Log(err)
	})

	t.Run("a paused server is an error within the operation timeout", func(t *testing.T) {
		s := newStore(t, srv.URL()+"|operation-timeout=300")
		srv.Pause()
		defer srv.Resume()
		for op, do := range map[string]func(context.Context) error{
			"get": func(ctx context.Context) error { _, _, err := s.Get(ctx, key); return err },
			"put": func(ctx context.Context) error { return s.Put(ctx, key, []byte("x")) },
		} {
			// A bound of the test's own, should the store's fail.
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			start := time.Now()
			err := do(ctx)
			elapsed := time.Since(start)
			cancel()
			assertOneLine(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded, op)
			assert.Less(t, elapsed, time.Second, op)
			assert.GreaterOrEqual(t, elapsed, 300*time.Millisecond, op)
			t.Log(err)
		}
	})

	t.Run("a killed server is an error", func(t *testing.T) {
		s := newStore(t, srv.URL())
		srv.Kill()
		start := time.Now()
		_, _, err := s.Get(ctx, key)
		assertOneLine(t, err)
		assert.Less(t, time.Since(start), time.Second)
		t.Log(err)
	})
}

// TestConnectTimeout: a server whose accept queue is full never completes
// the TCP handshake; the connect timeout, not the operation's, ends it.
func TestConnectTimeout(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 3 { // fill the accept queue (one connection fills it)
		c, err := net.DialTimeout("tcp", addr, 50*time.Millisecond)
		if err != nil {
			break
		}
		defer c.Close()
	}
	s := newStore(t, "s3://bucket?endpoint=http://"+addr+"&region=us-east-1|connect-timeout=150|operation-timeout=5000")
	start := time.Now()
	_, _, err = s.Get(context.Background(), key)
	elapsed := time.Since(start)
	assertOneLine(t, err)
	var netErr net.Error
	assert.True(t, errors.As(err, &netErr) && netErr.Timeout(), "a dial timeout: %v", err)
	assert.Less(t, elapsed, time.Second)
	assert.GreaterOrEqual(t, elapsed, 150*time.Millisecond)
	t.Log(err)
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"s3://ab", "bucket"},
		{"s3://Bucket", "bucket"},
		{"s3://bucket:9000", "takes no port"},
		{"s3://AKIAEXAMPLE:hunter2secret@bucket", "credentials in the URL"},
		{"s3://AKIAEXAMPLE@bucket", "credentials in the URL"},
		{"s3://bucket?endpoint=127.0.0.1:8333", `"endpoint": not a URL`},
		{"s3://bucket?endpoint=ftp://h", `"endpoint": want http://HOST`},
		{"s3://bucket?endpoint=http://h:1/path", `"endpoint": want http://HOST`},
		{"s3://bucket?endpoint=http://u:p@h:1", `"endpoint": want http://HOST`},
		{"s3://bucket?region=", `"region": want a region`},
		{"s3://bucket?path-style=maybe", `"path-style": want true or false`},
		{"s3://bucket?colour=red", `"colour": unknown: want endpoint, region or path-style`},
		{"s3://bucket?region=a&region=b", "given 2 times"},
		{"s3://bucket?region=%zz", "query"},
		{"s3://bucket#frag", "fragment"},
		{"s3://bucket|bearer-token=abc", `"bearer-token": only for http`},
	} {
		specs, err := teamcache.ParseSpecs(tc.raw)
		require.NoError(t, err, tc.raw)
		_, err = s3store.New(specs[0])
		if assert.Error(t, err, tc.raw) {
			assert.Contains(t, err.Error(), tc.want, tc.raw)
			assert.NotContains(t, err.Error(), "hunter2secret", tc.raw)
			assert.NotContains(t, err.Error(), "AKIAEXAMPLE", tc.raw)
		}
	}
}
