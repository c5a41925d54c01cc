package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/teamcache/servertest"
)

// teamBenchRounds is how many warm builds from remote storage each variant
// makes (odd, so that the median is one of them).
const teamBenchRounds = 3

// BenchmarkTeamCache builds zlib and lua5.4 from Debian's sources warm from
// remote storage alone, each build with an empty local cache, side by side
// in interleaved rounds: dcc with Redis, dcc with a dcc-server's cache
// (dcc://), and ccache with the same Redis, against plain gcc. Each storage
// is filled first by one cold build through its own tool in the same tree.
// Every build is -j4 through masquerade links; the figures are medians.
func BenchmarkTeamCache(b *testing.B) {
	for _, bp := range benchProjects()[:2] {
		b.Run(bp.name, func(b *testing.B) { benchTeamCache(b, bp.recipe) })
	}
}

// benchTeamCache is BenchmarkTeamCache for one project.
func benchTeamCache(b *testing.B, p projectRecipe) {
	for _, tool := range append([]string{"gcc", "g++", "ccache"}, p.tools...) {
		requireTool(b, tool)
	}
	src := fetchProject(b, p.pkg)
	work := b.TempDir()
	redis := servertest.StartRedis(b, servertest.RedisOptions{})
	host := startHost(b, "127.0.0.13", 4)

	var daemons []*projectDaemon
	b.Cleanup(func() {
		for _, d := range daemons {
			d.stop(b)
		}
	})
	// dccVariant gives each round a daemon with an empty local cache and
	// remote storage env.
	dccVariant := func(name string, env ...string) *benchVariant {
		return &benchVariant{name: name, path: withPath(masqueradeDir(b, compilerLinks...)),
			fresh: func(tb testing.TB, v *benchVariant) {
				d := newProjectDaemon(tb, "10m")
				daemons = append(daemons, d)
				v.env = append(append([]string{}, d.env...), env...)
			}}
	}
	gcc := &benchVariant{name: "gcc", path: os.Getenv("PATH")}
	dccRedis := dccVariant("dcc-redis", "DCC_REMOTE_STORAGE="+redis.URL())
	dccServer := dccVariant("dcc-server", append(hostsEnv(4, host), "DCC_REMOTE=0", "DCC_REMOTE_STORAGE=dcc://"+host.addr)...)
	ccache := &benchVariant{name: "ccache-redis", path: withPath(linkDir(b, requireTool(b, "ccache"), compilerLinks...)),
		fresh: func(tb testing.TB, v *benchVariant) {
			v.env = []string{"CCACHE_DIR=" + tb.TempDir(), "CCACHE_REMOTE_STORAGE=redis://" + redis.Addr}
		}}
	variants := []*benchVariant{gcc, dccRedis, dccServer, ccache}
	for _, v := range variants {
		v.tree = filepath.Join(work, v.name)
		prepareTree(b, p, src, v.tree)
		if v.fresh != nil {
			v.fresh(b, v)
		}
		v.run(b, projectClean)
		v.cold = append(v.cold, v.run(b, p.build)) // fills the storage
	}
	compiles := int64(countObjects(b, gcc.tree, p.objects))
	for i := range teamBenchRounds {
		for j := range variants {
			v := variants[(i+j)%len(variants)]
			if v.fresh != nil {
				v.fresh(b, v)
			}
			v.run(b, projectClean)
			v.warm = append(v.warm, v.run(b, p.build))
			switch v {
			case dccRedis, dccServer:
				st := daemons[len(daemons)-1].stats(b)
				require.Equal(b, compiles, st["remote_storage_hits"], "%s: every unit from remote storage", v.name)
				require.Zero(b, st["misses"], v.name)
			case ccache:
				require.Zero(b, ccacheCounter(b, v.env, "cache_miss"), "ccache missed")
			}
		}
	}
	for b.Loop() {
		// The measurement above ran once; b.Loop only satisfies -benchtime.
	}
	base := median(gcc.warm)
	ratio := func(v *benchVariant) float64 { return float64(median(v.warm)) / float64(base) }
	b.ReportMetric(ratio(dccRedis), "dcc-redis/gcc")
	b.ReportMetric(ratio(dccServer), "dcc-server/gcc")
	b.ReportMetric(ratio(ccache), "ccache-redis/gcc")
	b.ReportMetric(float64(median(dccRedis.warm))/float64(median(ccache.warm)), "dcc-redis/ccache-redis")
	b.Logf("%s: %d compiles at -j4, empty local caches, medians of %d interleaved rounds: gcc %.2fs, dcc+redis %.2fs (%.3f), dcc+dcc-server %.2fs (%.3f), ccache+redis %.2fs (%.3f); dcc+redis/ccache+redis %.3f",
		p.pkg, compiles, teamBenchRounds, base.Seconds(), median(dccRedis.warm).Seconds(), ratio(dccRedis),
		median(dccServer.warm).Seconds(), ratio(dccServer), median(ccache.warm).Seconds(), ratio(ccache),
		float64(median(dccRedis.warm))/float64(median(ccache.warm)))
	b.Logf("%s: every round: gcc %s, dcc+redis %s, dcc+dcc-server %s, ccache+redis %s; filling: dcc+redis %s, dcc+dcc-server %s, ccache+redis %s",
		p.pkg, seconds(gcc.warm), seconds(dccRedis.warm), seconds(dccServer.warm), seconds(ccache.warm),
		seconds(dccRedis.cold), seconds(dccServer.cold), seconds(ccache.cold))
}
