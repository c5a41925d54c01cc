//go:build linux

package httpstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/backendtest"
	"github.com/dcc-build/dcc/teamcache/servertest"
)

// open returns the store of the remote_storage specification raw.
func open(t *testing.T, raw string) *Store {
	t.Helper()
	specs, err := teamcache.ParseSpecs(raw)
	require.NoError(t, err)
	require.Len(t, specs, 1)
	s, err := New(specs[0])
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBackendOnNginx(t *testing.T) {
	ng := servertest.StartNginx(t, servertest.NginxOptions{})
	for _, layout := range []string{LayoutFlat, LayoutSubdirs, LayoutBazel} {
		t.Run(layout, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) teamcache.Backend {
				return open(t, ng.URL+"/cache/"+layout+"|layout="+layout)
			})
		})
	}
}

func TestLayoutsOnDisk(t *testing.T) {
	ng := servertest.StartNginx(t, servertest.NginxOptions{})
	ctx := context.Background()
	for spec, file := range map[string]string{
		"/a|layout=flat":    "a/" + testKey,
		"/b|layout=subdirs": "b/01/" + testKey[2:],
		"/c/":               "c/01/" + testKey[2:], // subdirs by default
		"/d|layout=bazel":   "d/ac/" + testKey,
		"|layout=flat":      testKey,
	} {
		s := open(t, ng.URL+spec)
		require.NoError(t, s.Put(ctx, testKey, []byte("entry "+spec)))
		got, err := os.ReadFile(ng.Path(file))
		require.NoError(t, err, spec)
		assert.Equal(t, "entry "+spec, string(got))

		// An entry forged on the server's disk is read back.
		require.NoError(t, os.WriteFile(ng.Path(file), []byte("forged"), 0o644))
		entry, found, err := s.Get(ctx, testKey)
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, "forged", string(entry))
	}
}

func TestBearerToken(t *testing.T) {
	ng := servertest.StartNginx(t, servertest.NginxOptions{BearerToken: "s3cret-token"})
	ctx := context.Background()
	good := open(t, ng.URL+"/c|bearer-token=s3cret-token")
	require.NoError(t, good.Put(ctx, testKey, []byte("x")))
	got, found, err := good.Get(ctx, testKey)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "x", string(got))

	for _, s := range []*Store{open(t, ng.URL+"/c"), open(t, ng.URL+"/c|bearer-token=wrong-token")} {
		_, found, err := s.Get(ctx, testKey)
		assert.ErrorContains(t, err, "401 Unauthorized", "a refusal is an error, not a miss")
		assert.False(t, found)
		err = s.Put(ctx, testKey, []byte("y"))
		assert.ErrorContains(t, err, "401 Unauthorized")
		assert.NotContains(t, err.Error(), "token")
	}
}

func TestBasicAuth(t *testing.T) {
	ng := servertest.StartNginx(t, servertest.NginxOptions{BasicUser: "dcc", BasicPassword: "p@ss w0rd"})
	ctx := context.Background()
	withUser := func(user *url.Userinfo) *Store {
		u, err := url.Parse(ng.URL + "/c")
		require.NoError(t, err)
		u.User = user
		return open(t, u.String()+"|layout=flat")
	}
	good := withUser(url.UserPassword("dcc", "p@ss w0rd"))
	require.NoError(t, good.Put(ctx, testKey, []byte("x")))
	_, found, err := good.Get(ctx, testKey)
	require.NoError(t, err)
	assert.True(t, found)

	for _, s := range []*Store{withUser(nil), withUser(url.UserPassword("dcc", "hunter2")), withUser(url.User("dcc"))} {
		_, _, err := s.Get(ctx, testKey)
		assert.ErrorContains(t, err, "401 Unauthorized")
		err = s.Put(ctx, testKey, []byte("y"))
		assert.ErrorContains(t, err, "401 Unauthorized")
		assert.NotContains(t, err.Error(), "hunter2")
	}
}

func TestStatusErrors(t *testing.T) {
	ng := servertest.StartNginx(t, servertest.NginxOptions{})
	ctx := context.Background()
	// A directory where the entry should be: nginx redirects to it.
	require.NoError(t, os.MkdirAll(ng.Path("c/"+testKey), 0o755))
	_, found, err := open(t, ng.URL+"/c|layout=flat").Get(ctx, testKey)
	assert.ErrorContains(t, err, "301 Moved Permanently to ")
	assert.False(t, found)
	// A file where a directory should be: nginx cannot store the PUT.
	require.NoError(t, os.WriteFile(ng.Path("f"), nil, 0o644))
	err = open(t, ng.URL+"/f").Put(ctx, testKey, []byte("x"))
	assert.ErrorContains(t, err, "500 Internal Server Error")
}

func TestEntrySizeLimit(t *testing.T) {
	ng := servertest.StartNginx(t, servertest.NginxOptions{})
	ctx := context.Background()
	s := open(t, ng.URL+"|layout=flat")
	s.maxEntry = 1 << 10
	require.NoError(t, os.WriteFile(ng.Path(testKey), make([]byte, 1<<10), 0o644))
	got, _, err := s.Get(ctx, testKey)
	require.NoError(t, err)
	assert.Len(t, got, 1<<10)
	require.NoError(t, os.WriteFile(ng.Path(testKey), make([]byte, 1<<10+1), 0o644))
	_, _, err = s.Get(ctx, testKey)
	assert.ErrorContains(t, err, "1025 bytes, more than the 1024")
	assert.ErrorContains(t, s.Put(ctx, testKey, make([]byte, 1<<10+1)), "more than the 1024")
}

func TestBrokenServerLimits(t *testing.T) {
	ctx := context.Background()
	// A Content-Length too large is refused before anything is read
	// (or allocated).
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1048576")
		_, _ = w.Write(make([]byte, 2048))
	}))
	defer liar.Close()
	s := open(t, liar.URL+"|layout=flat")
	s.maxEntry = 1 << 10
	_, _, err := s.Get(ctx, testKey)
	assert.ErrorContains(t, err, "1048576 bytes, more than the 1024")

	// A body without a Content-Length that goes on is read no further
	// than the limit.
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 512)
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	defer endless.Close()
	s = open(t, endless.URL+"|layout=flat|operation-timeout=3000")
	s.maxEntry = 1 << 10
	start := time.Now()
	_, _, err = s.Get(ctx, testKey)
	assert.ErrorContains(t, err, "more than the 1024 bytes")
	assert.Less(t, time.Since(start), time.Second)
}

func TestPausedServerTimesOut(t *testing.T) {
	ng := servertest.StartNginx(t, servertest.NginxOptions{})
	ctx := context.Background()
	used := open(t, ng.URL+"|operation-timeout=200")
	_, _, err := used.Get(ctx, testKey) // leaves an idle connection
	require.NoError(t, err)
	ng.Pause()
	for name, s := range map[string]*Store{"idle connection": used, "new connection": open(t, ng.URL+"|operation-timeout=200")} {
		start := time.Now()
		_, found, err := s.Get(ctx, testKey)
		assert.ErrorContains(t, err, "operation timeout (200ms)", name)
		assert.False(t, found)
		assert.ErrorContains(t, s.Put(ctx, testKey, []byte("x")), "operation timeout (200ms)", name)
		assert.Less(t, time.Since(start), 2*time.Second, name)
	}
	// The caller's deadline, shorter, ends a request too.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, _, err = open(t, ng.URL).Get(cctx, testKey)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "operation timeout")
	ng.Resume()
	_, _, err = used.Get(ctx, testKey)
	assert.NoError(t, err, "the server answers again")
}

func TestKilledServerFailsFast(t *testing.T) {
	ng := servertest.StartNginx(t, servertest.NginxOptions{})
	ctx := context.Background()
	s := open(t, ng.URL)
	require.NoError(t, s.Put(ctx, testKey, []byte("x")))
	ng.Kill()
	start := time.Now()
	_, found, err := s.Get(ctx, testKey)
	assert.ErrorContains(t, err, "connection refused")
	assert.False(t, found)
	assert.ErrorContains(t, s.Put(ctx, testKey, []byte("x")), "connection refused")
	assert.Less(t, time.Since(start), time.Second)
	_, err = os.Stat(filepath.Join(ng.Root(), "01"))
	assert.NoError(t, err, "the entry put before is on disk")
}
