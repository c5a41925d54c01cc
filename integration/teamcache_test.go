package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache/servertest"
)

// teamStorage is one kind of remote storage, started for a test: the
// remote_storage value and what else the clients' environment needs.
type teamStorage struct {
	name  string
	start func(t *testing.T) (spec string, env []string)
}

// teamStorages are the storages a team runs, each a real server.
var teamStorages = []teamStorage{
	{"directory", func(t *testing.T) (string, []string) { return "file:" + t.TempDir(), nil }},
	{"redis", func(t *testing.T) (string, []string) {
		return servertest.StartRedis(t, servertest.RedisOptions{Password: "team-pass"}).URL(), nil
	}},
	{"nginx", func(t *testing.T) (string, []string) {
		n := servertest.StartNginx(t, servertest.NginxOptions{BearerToken: "team-token"})
		return n.URL + "/cache|layout=subdirs|bearer-token=team-token", nil
	}},
	{"s3", func(t *testing.T) (string, []string) {
		s := servertest.StartS3(t)
		return s.URL(), s.Env()
	}},
	{"dcc-server", func(t *testing.T) (string, []string) {
		h := startHost(t, "127.0.0.12", 2)
		// The host is a storage only: no compile goes there.
		return "dcc://" + h.addr, append(hostsEnv(2, h), "DCC_REMOTE=0")
	}},
}

// Two checkouts of a CMake project at different places, each built by a
// client with its own empty local cache: the second is served from the
// team's storage every object the first wrote whose bytes are the same at
// both places, and compiles the unit whose object records its path; every
// object and dependency file is the one a plain build of its checkout
// writes.
func TestTeamCacheSharesAcrossCheckouts(t *testing.T) {
	c := newTeamCheckouts(t, "Release", "")
	for _, storage := range teamStorages {
		t.Run(storage.name, func(t *testing.T) {
			spec, env := storage.start(t)
			env = append(env, "DCC_REMOTE_STORAGE="+spec)

			alice := newProjectDaemon(t, "60s")
			assertSameOutputs(t, c.wantA, c.build(t, c.a, alice, env))
			st := alice.stats(t)
			assert.Equal(t, int64(teamUnits), st["remote_storage_misses"], "daemon.log:\n%s", alice.logTail(20))
			alice.stop(t) // its writes are made before it exits

			bob := newProjectDaemon(t, "60s")
			defer bob.stop(t)
			assertSameOutputs(t, c.wantB, c.build(t, c.b, bob, env))
			st = bob.stats(t)
			t.Logf("%s: %v", storage.name, st)
			assert.Equal(t, int64(teamUnits-teamPathUnits), st["remote_storage_hits"], "daemon.log:\n%s", bob.logTail(20))
			assert.Equal(t, int64(teamPathUnits), st["remote_storage_misses"])
			assert.Zero(t, st["remote_storage_errors"]+st["remote_storage_timeouts"]+st["remote_storage_refused"])
			assert.Zero(t, st["errors"])
			assert.Equal(t, float64(teamUnits-teamPathUnits), bob.prometheus(t)["dcc_remote_storage_hits_total"],
				"dcc stats --prometheus says the same")
		})
	}
}

// Debug information records where the checkout is unless the build maps
// it: a -g build at another place is served nothing, and one that maps
// its checkout with -ffile-prefix-map is served everything (the map
// applies to __FILE__ too, so that every object is the same).
func TestTeamCacheDebugInformation(t *testing.T) {
	cases := []struct {
		name, cflags string
		hits         int
	}{
		{"records the checkout", "", 0},
		// The map also rewrites __FILE__: every unit is the same.
		{"maps the checkout", "-ffile-prefix-map=ROOT=.", teamUnits},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTeamCheckouts(t, "RelWithDebInfo", tc.cflags)
			env := []string{"DCC_REMOTE_STORAGE=file:" + t.TempDir()}
			alice := newProjectDaemon(t, "60s")
			assertSameOutputs(t, c.wantA, c.build(t, c.a, alice, env))
			alice.stop(t)
			bob := newProjectDaemon(t, "60s")
			defer bob.stop(t)
			assertSameOutputs(t, c.wantB, c.build(t, c.b, bob, env))
			st := bob.stats(t)
			assert.Equal(t, int64(tc.hits), st["remote_storage_hits"], "daemon.log:\n%s", bob.logTail(20))
			assert.Equal(t, int64(teamUnits-tc.hits), st["remote_storage_misses"])
		})
	}
}

// assertSameOutputs checks that a build wrote exactly the files of want,
// byte for byte.
func assertSameOutputs(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	require.Equal(t, len(want), len(got), "the same files")
	for name, b := range want {
		assertSameBytes(t, b, got[name], "%s differs from the plain build's", name)
	}
}

// Remote storage in a directory that is not there (an NFS mount that
// failed) is off, with the reason in the daemon's log: the build goes on.
func TestTeamCacheMissingDirectory(t *testing.T) {
	c := newTeamCheckouts(t, "Release", "")
	missing := filepath.Join(t.TempDir(), "not-mounted")
	d := newProjectDaemon(t, "60s")
	defer d.stop(t)
	assertSameOutputs(t, c.wantA, c.build(t, c.a, d, []string{"DCC_REMOTE_STORAGE=file:" + missing}))
	assert.Contains(t, d.logTail(50), "remote storage is off")
	_, err := os.Stat(missing)
	assert.True(t, os.IsNotExist(err), "no directory made in its place")
}
