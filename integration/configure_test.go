package integration

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealConfigureHitsOnSecondRun runs the autoconf configure script of a
// Debian source package (GNU hello, with gnulib's many checks) through dcc,
// then "make distclean" and configure again: every configure-time compile
// the first run stored must be a hit the second time (ccache serves all
// 200 of them from its cache too), and nothing counts as an error.
func TestRealConfigureHitsOnSecondRun(t *testing.T) {
	t.Parallel()
	requireTool(t, "gcc")
	requireTool(t, "make")
	src := fetchProject(t, "hello")
	e := newBehaviourEnv(t)
	tree := filepath.Join(e.work, "hello")
	copyTree(t, src, tree)
	env := append(append([]string(nil), e.env...), "CC="+dccBin+" gcc")
	shell(t, tree, env, "./configure -q >/dev/null")
	first := e.stats()
	require.Zero(t, first["errors"], "first configure run: %v", first)
	require.Greater(t, first["misses"], int64(100), "hello's configure compiles some 200 tests: %v", first)
	shell(t, tree, env, "make distclean >/dev/null")
	shell(t, tree, env, "./configure -q >/dev/null")
	second := e.stats()
	assert.Zero(t, second["errors"], "%v", second)
	assert.Equal(t, first["misses"], second["misses"], "no new miss on the second run (first %v, then %v)", first, second)
	assert.Equal(t, first["misses"]+first["hits"], second["hits"]-first["hits"],
		"every cacheable compile of the second run is a hit (first %v, then %v)", first, second)
	t.Logf("hello's configure through dcc: first run %d misses, %d hits; second run %d hits, %d misses; uncacheable %d per run",
		first["misses"], first["hits"], second["hits"]-first["hits"], second["misses"]-first["misses"], first["uncacheable"])
}
