package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/redisstore"
	"github.com/dcc-build/dcc/teamcache/servertest"
)

// teamKey is the team key of the tests that sign entries.
const teamKey = "team-key-0123456789abcdef"

// With a team key, entries are signed, and a client never uses an entry
// that is not signed with it: a writer with only network access to Redis
// who replaces every entry (unsigned with a valid checksum, signed with
// another key, or garbage) has no object served; the build compiles them
// and writes the plain build's objects. A client without a key would take
// the unsigned ones.
func TestTeamCacheRefusesForgedEntries(t *testing.T) {
	c := newTeamCheckouts(t, "Release", "")
	r := servertest.StartRedis(t, servertest.RedisOptions{})
	env := []string{"DCC_REMOTE_STORAGE=" + r.URL(), "DCC_REMOTE_STORAGE_KEY=" + teamKey}

	alice := newProjectDaemon(t, "60s")
	assertSameOutputs(t, c.wantA, c.build(t, c.a, alice, env))
	alice.stop(t)

	ctx := context.Background()
	keys, err := r.Client().Keys(ctx, redisstore.KeyPrefix+"*").Result()
	require.NoError(t, err)
	// One signed entry per unit, a manifest for direct mode per unit
	// shared across places, and for the unit whose object records its
	// path a pointer to the entry at its place.
	shared := teamUnits - teamPathUnits
	require.Len(t, keys, teamUnits+shared+teamPathUnits)
	payloads := map[string][]byte{}
	for i, k := range keys {
		key := strings.TrimPrefix(k, redisstore.KeyPrefix)
		entry, found, err := r.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, found)
		payload, err := teamcache.Open(key, entry, []byte(teamKey))
		require.NoError(t, err, "alice's entries are signed with the team key")
		payloads[key] = payload
		var forged []byte
		switch i % 3 {
		case 0:
			forged = teamcache.Seal(key, payload, nil)
		case 1:
			forged = teamcache.Seal(key, payload, []byte("another-key-0123456789"))
		default:
			forged = []byte("not an entry at all")
		}
		require.NoError(t, r.Set(ctx, key, forged))
	}

	bob := newProjectDaemon(t, "60s")
	defer bob.stop(t)
	assertSameOutputs(t, c.wantB, c.build(t, c.b, bob, env))
	st := bob.stats(t)
	assert.Zero(t, st["remote_storage_hits"], "no forged entry served; daemon.log:\n%s", bob.logTail(20))
	assert.Equal(t, int64(2*shared), st["remote_storage_refused"], "each shared unit's manifest and entry")

	// Alice's entries unsigned, for a client without a key.
	for key, payload := range payloads {
		require.NoError(t, r.Set(ctx, key, teamcache.Seal(key, payload, nil)))
	}
	carol := newProjectDaemon(t, "60s")
	defer carol.stop(t)
	assertSameOutputs(t, c.wantA, c.build(t, c.a, carol, env[:1]))
	assert.Equal(t, int64(teamUnits), carol.stats(t)["remote_storage_hits"], "without a key, a valid checksum is enough")
}

// Redis killed in the middle of a build: the units after it compile here,
// the failure is counted, and the build is the plain one.
func TestTeamCacheRedisKilledMidBuild(t *testing.T) {
	c := newTeamCheckouts(t, "Release", "")
	r := servertest.StartRedis(t, servertest.RedisOptions{})
	env := []string{"DCC_REMOTE_STORAGE=" + r.URL()}
	alice := newProjectDaemon(t, "60s")
	assertSameOutputs(t, c.wantA, c.build(t, c.a, alice, env))
	alice.stop(t)

	// One unit at a time: the library's four units, Redis killed, then
	// the program's two.
	c.jobs, c.midbuild = 1, fmt.Sprintf("kill -9 %d", r.Pid())
	bob := newProjectDaemon(t, "60s")
	defer bob.stop(t)
	assertSameOutputs(t, c.wantB, c.build(t, c.b, bob, env))
	assert.Zero(t, r.Pid() != 0 && processRuns(r.Pid()), "redis was killed")
	st := bob.stats(t)
	assert.Equal(t, int64(3), st["remote_storage_hits"], "the library's units but __FILE__'s; daemon.log:\n%s", bob.logTail(20))
	assert.Equal(t, int64(3), st["remote_storage_misses"])
	assert.Positive(t, st["remote_storage_errors"])
	assert.Zero(t, st["errors"])
}

// An HTTP cache that accepts connections and never answers costs each
// lookup its operation timeout at most, and is then left alone for a
// while: the build goes on, as fast as without a cache give or take the
// timeouts counted.
func TestTeamCacheSlowHTTPServer(t *testing.T) {
	c := newTeamCheckouts(t, "Release", "")
	c.jobs = 1
	n := servertest.StartNginx(t, servertest.NginxOptions{})
	const timeout = 300 * time.Millisecond
	env := []string{fmt.Sprintf("DCC_REMOTE_STORAGE=%s/cache|operation-timeout=%d", n.URL, timeout.Milliseconds())}

	carol := newProjectDaemon(t, "60s")
	start := time.Now()
	assertSameOutputs(t, c.wantB, c.build(t, c.b, carol, nil))
	without := time.Since(start)
	carol.stop(t)

	n.Pause()
	defer n.Resume()
	bob := newProjectDaemon(t, "60s")
	defer bob.stop(t)
	start = time.Now()
	assertSameOutputs(t, c.wantB, c.build(t, c.b, bob, env))
	with := time.Since(start)
	st := bob.stats(t)
	t.Logf("build without a cache %v, with a cache that never answers %v; %d timeouts", without, with, st["remote_storage_timeouts"])
	assert.Positive(t, st["remote_storage_timeouts"], "daemon.log:\n%s", bob.logTail(20))
	assert.Zero(t, st["remote_storage_hits"])
	assert.Zero(t, st["errors"])
	bound := without + time.Duration(st["remote_storage_timeouts"])*timeout*3/2 + 2*time.Second
	assert.Less(t, with, bound, "each lookup costs its timeout at most")
}
