package redisstore_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/backendtest"
	"github.com/dcc-build/dcc/teamcache/redisstore"
	"github.com/dcc-build/dcc/teamcache/servertest"
)

// Timeouts of the fault tests: short, so that the tests are.
const (
	connectTimeout   = 50 * time.Millisecond
	operationTimeout = 250 * time.Millisecond
	timeoutAttrs     = "|connect-timeout=50|operation-timeout=250"
)

// open returns the store of the remote_storage spec raw, closed by the
// test's cleanup.
func open(t *testing.T, raw string) *redisstore.Store {
	t.Helper()
	specs, err := teamcache.ParseSpecs(raw)
	require.NoError(t, err)
	require.Len(t, specs, 1)
	s, err := redisstore.New(specs[0])
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func key(name string) string {
	return strings.Repeat("0", 64-len(name)) + name
}

func TestConformance(t *testing.T) {
	srv := servertest.StartRedis(t, servertest.RedisOptions{})
	backendtest.Run(t, func(t *testing.T) teamcache.Backend { return open(t, srv.URL()) })
}

func TestEntriesAreUnderThePrefix(t *testing.T) {
	ctx := context.Background()
	srv := servertest.StartRedis(t, servertest.RedisOptions{})
	s := open(t, srv.URL())
	require.NoError(t, s.Put(ctx, key("a1"), []byte("stored")))
	got, err := srv.Client().Get(ctx, "dcc:"+key("a1")).Result()
	require.NoError(t, err)
	assert.Equal(t, "stored", got)
	require.NoError(t, srv.Set(ctx, key("b2"), []byte("forged")))
	entry, found, err := s.Get(ctx, key("b2"))
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "forged", string(entry))
}

func TestUnixSocket(t *testing.T) {
	ctx := context.Background()
	srv := servertest.StartRedis(t, servertest.RedisOptions{Unix: true})
	require.True(t, strings.HasPrefix(srv.URL(), "redis+unix:/"), srv.URL())
	s := open(t, srv.URL())
	require.NoError(t, s.Put(ctx, key("a"), []byte("over a socket")))
	_, found, err := srv.Get(ctx, key("a"))
	require.NoError(t, err)
	assert.True(t, found)

	db1 := open(t, "redis+unix://"+srv.Socket+"?db=1")
	require.NoError(t, db1.Put(ctx, key("b"), []byte("in db 1")))
	_, found, err = srv.Get(ctx, key("b"))
	require.NoError(t, err)
	assert.False(t, found, "?db=1 selects database 1, not 0")
	got, found, err := open(t, "redis+unix:"+srv.Socket+"?db=1").Get(ctx, key("b"))
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "in db 1", string(got))
}

func TestPassword(t *testing.T) {
	ctx := context.Background()
	const password = "s3cr:et@/x y"
	srv := servertest.StartRedis(t, servertest.RedisOptions{Password: password})
	s := open(t, srv.URL())
	require.NoError(t, s.Put(ctx, key("a"), []byte("secret entry")))
	got, found, err := s.Get(ctx, key("a"))
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "secret entry", string(got))

	// ccache's redis://PASSWORD@HOST: a user part without a colon.
	_, found, err = open(t, "redis://"+url.User(password).String()+"@"+srv.Addr).Get(ctx, key("a"))
	require.NoError(t, err)
	assert.True(t, found)

	for _, raw := range []string{"redis://:hunter2@" + srv.Addr, "redis://" + srv.Addr} {
		_, found, err := open(t, raw).Get(ctx, key("a"))
		require.Error(t, err, "%s: a refused password is a failure, not a miss", raw)
		assert.False(t, found)
		assert.NotContains(t, err.Error(), "hunter2")
		assert.Error(t, open(t, raw).Put(ctx, key("b"), []byte("x")))
	}
}

func TestDatabaseNumber(t *testing.T) {
	ctx := context.Background()
	srv := servertest.StartRedis(t, servertest.RedisOptions{})
	require.NoError(t, open(t, srv.URL()+"/1").Put(ctx, key("a"), []byte("in db 1")))
	_, found, err := open(t, srv.URL()+"/2").Get(ctx, key("a"))
	require.NoError(t, err)
	assert.False(t, found, "an entry put in /1 is not in /2")
	_, found, err = srv.Get(ctx, key("a"))
	require.NoError(t, err)
	assert.False(t, found, "nor in 0")
	for _, raw := range []string{srv.URL() + "/1", srv.URL() + "?db=1", srv.URL() + "/01"} {
		got, found, err := open(t, raw).Get(ctx, key("a"))
		require.NoError(t, err)
		require.True(t, found, raw)
		assert.Equal(t, "in db 1", string(got))
	}
}

func TestURLs(t *testing.T) {
	for _, raw := range []string{"redis://cache.invalid", "redis://cache.invalid:1234/3",
		"redis://:pw@cache.invalid/", "redis://user:pw@[::1]:6380/15", "redis://cache.invalid?db=4",
		"redis+unix:/run/redis.sock", "redis+unix:///run/redis.sock?db=2"} {
		specs, err := teamcache.ParseSpecs(raw)
		require.NoError(t, err)
		start := time.Now()
		s, err := redisstore.New(specs[0])
		require.NoError(t, err, raw)
		assert.Less(t, time.Since(start), 50*time.Millisecond, "New connects to nothing")
		require.NoError(t, s.Close())
	}
	tests := []struct{ raw, want string }{
		{"redis://h:0", `port "0" is not a number from 1 to 65535`},
		{"redis://h:65536", `port "65536"`},
		{"redis://s3cret@h:70000", `port "70000"`},
		{"redis://h/x", `db "x" is not a database number`},
		{"redis://h/-1", `db "-1"`},
		{"redis://h/1/2", `db "1/2"`},
		{"redis://h/99999999999", `db "99999999999"`},
		{"redis://:s3cret@h/abc", `redis storage redis://h/abc: db "abc"`},
		{"redis://h?dbx=1", `unknown query parameter "dbx": only db is allowed`},
		{"redis://h/1?db=2", "db is given twice"},
		{"redis://h?db=1&db=2", "db is given more than once"},
		{"redis+unix:/tmp/s?db=x", `db "x"`},
		{"redis+unix:/tmp/s?timeout=1", `unknown query parameter "timeout"`},
		{"redis+unix://:s3cret@/tmp/s?db=y", `redis storage redis+unix:///tmp/s?db=y: db "y"`},
		{"http://h/1", `scheme "http" is not redis or redis+unix`},
	}
	for _, tt := range tests {
		specs, err := teamcache.ParseSpecs(tt.raw)
		require.NoError(t, err, tt.raw)
		_, err = redisstore.New(specs[0])
		require.Error(t, err, tt.raw)
		assert.Contains(t, err.Error(), tt.want, tt.raw)
		assert.NotContains(t, err.Error(), "s3cret", "a password is never in an error")
		assert.NotContains(t, err.Error(), "\n", "one line")
	}
	_, err := redisstore.New(teamcache.Spec{})
	assert.ErrorContains(t, err, "no URL")
}

// within runs op and checks that it fails, not as a miss, within limit;
// it returns the error.
func within(t *testing.T, limit time.Duration, what string, op func() (found bool, err error)) error {
	t.Helper()
	start := time.Now()
	found, err := op()
	elapsed := time.Since(start)
	require.Error(t, err, "%s: a failure, not a miss", what)
	assert.False(t, found, what)
	assert.Less(t, elapsed, limit, "%s: %v", what, err)
	return err
}

func TestKilledServerFailsAtOnce(t *testing.T) {
	ctx := context.Background()
	srv := servertest.StartRedis(t, servertest.RedisOptions{})
	s := open(t, srv.URL()+timeoutAttrs)
	require.NoError(t, s.Put(ctx, key("a"), []byte("x")), "a pooled connection")
	srv.Kill()
	// A refused connection fails at once, well within the timeout.
	within(t, operationTimeout, "get", func() (bool, error) { _, found, err := s.Get(ctx, key("a")); return found, err })
	within(t, operationTimeout, "put", func() (bool, error) { return false, s.Put(ctx, key("a"), []byte("y")) })
	fresh := open(t, srv.URL()+timeoutAttrs)
	within(t, operationTimeout, "get on a new store", func() (bool, error) { _, found, err := fresh.Get(ctx, key("a")); return found, err })
}

func TestPausedServerTimesOut(t *testing.T) {
	ctx := context.Background()
	srv := servertest.StartRedis(t, servertest.RedisOptions{})
	s := open(t, srv.URL()+timeoutAttrs)
	require.NoError(t, s.Put(ctx, key("a"), []byte("x")), "a pooled connection")
	srv.Pause()
	err := within(t, 2*operationTimeout, "get", func() (bool, error) { _, found, err := s.Get(ctx, key("a")); return found, err })
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a timeout is told as one")
	fresh := open(t, srv.URL()+timeoutAttrs)
	within(t, 2*operationTimeout, "get on a new connection", func() (bool, error) { _, found, err := fresh.Get(ctx, key("a")); return found, err })

	// The caller's deadline bounds a request too, under the default timeouts.
	dflt := open(t, srv.URL())
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	within(t, 2*operationTimeout, "get within the caller's deadline", func() (bool, error) { _, found, err := dflt.Get(short, key("a")); return found, err })

	srv.Resume()
	got, found, err := s.Get(ctx, key("a"))
	require.NoError(t, err, "the store recovers")
	require.True(t, found)
	assert.Equal(t, "x", string(got))
}
