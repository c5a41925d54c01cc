package integration

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClangTargetToHosts compiles with clang --target=aarch64-linux-gnu
// (and -mcpu=cortex-a72) and with clang for its own target, through two
// hosts whose clang is the client's and which both list the target in
// clang_targets. One of them cannot see Debian's aarch64 GCC installation
// (/usr/lib/gcc-cross hidden in its mount namespace), so its clang compiles
// aarch64 atomics otherwise (no outline helpers): a client with that host
// alone compiles its aarch64 units itself (and sends the host-target one).
// With the other host every unit goes there, as preprocessed text and with
// its sources (-g too), and with both hosts the aarch64 units go to it. Every object is the one clang
// writes itself, the target and the host-target compiles of one source
// never share a cache entry, and the second round hits.
func TestClangTargetToHosts(t *testing.T) {
	requireTool(t, "clang")
	requireTool(t, "aarch64-linux-gnu-gcc")
	requireRoot(t, "one host runs in a mount namespace that hides /usr/lib/gcc-cross")
	conf := fmt.Sprintf("tokens = [%q]\nclang_targets = [\"aarch64-linux-gnu\"]\n", testToken)
	full := launchHostSetup(t, freeAddr(t, "127.0.0.5"), 2, testToken, hostSetup{conf: conf})
	lacking := launchHostSetup(t, freeAddr(t, "127.0.0.6"), 2, testToken, hostSetup{conf: conf, wrap: hiding("/usr/lib/gcc-cross")})

	dir := t.TempDir()
	xproject(t, dir, "tgt")
	units := [][]string{
		{"--target=aarch64-linux-gnu", "-O2", "-c", "tgt.c"},
		{"-target", "aarch64-linux-gnu", "-mcpu=cortex-a72", "-O2", "-c", "tgt.c"},
		{"-O2", "-c", "tgt.c"},
	}
	want := make([][]byte, len(units))
	for i, u := range units {
		want[i] = localObject(t, dir, "plain.o", "clang", u...)
		for j := range i {
			require.NotEqual(t, want[j], want[i], "%v and %v compile to one object", units[j], u)
		}
	}
	// The premise: without the GCC installation clang compiles the unit
	// to another object. The preprocessed text is compiled there, as a
	// host does.
	pre := localObject(t, dir, "tgt.i", "clang", "--target=aarch64-linux-gnu", "-O2", "-E", "tgt.c")
	writeFiles(t, dir, map[string]string{"tgt.i": string(pre)})
	r := runIn(t, dir, "", nil, nil, append(hiding("/usr/lib/gcc-cross"), "clang", "--target=aarch64-linux-gnu", "-O2", "-c", "tgt.i", "-o", "hidden.o")...)
	require.Zero(t, r.exit, "%s", r.stderr)
	require.NotEqual(t, want[0], readFile(t, dir+"/hidden.o"), "clang without the aarch64 GCC installation compiles the same object: the test would prove nothing")

	// A client whose only host lacks the installation: the aarch64 units
	// compile here, the host-target one goes there.
	c := newXClient(t, dir, []*compileHost{lacking}, "DCC_REMOTE_SOURCES=off")
	for i, u := range units {
		sameObject(t, want[i], c.compile(t, fmt.Sprintf("l%d.o", i), "clang", u...), "%v via the lacking host", u)
	}
	st := c.d.stats(t)
	t.Logf("lacking host: %v; per host %v", st, hostCounts(t, c.d))
	assert.Equal(t, map[string]int64{lacking.addr: 1}, hostCounts(t, c.d), "the lacking host compiled the host-target unit only")
	assert.Zero(t, st["fallbacks"]+st["errors"], "daemon.log:\n%s", c.d.logTail(20))

	// A client whose host has the installation: every unit goes there.
	c = newXClient(t, dir, []*compileHost{full}, "DCC_REMOTE_SOURCES=off")
	for round := range 2 {
		for i, u := range units {
			sameObject(t, want[i], c.compile(t, fmt.Sprintf("r%d-%d.o", round, i), "clang", u...), "round %d, %v", round, u)
		}
	}
	// --gcc-toolchain pointing nowhere: clang finds no GCC installation,
	// so the unit compiles otherwise than without the option (which is not
	// sent to hosts, nor given to the compile of the preprocessed text): it
	// compiles here, from the original command.
	nowhere := []string{"--target=aarch64-linux-gnu", "--gcc-toolchain=" + filepath.Join(dir, "no-gcc"), "-isystem", "/usr/aarch64-linux-gnu/include", "-O2", "-c", "tgt.c"}
	wantNowhere := localObject(t, dir, "plain.o", "clang", nowhere...)
	require.NotEqual(t, want[0], wantNowhere, "--gcc-toolchain changes nothing: the test would prove nothing")
	sameObject(t, wantNowhere, c.compile(t, "nowhere.o", "clang", nowhere...), "%v", nowhere)
	st = c.d.stats(t)
	t.Logf("full host: %v; per host %v", st, hostCounts(t, c.d))
	n := int64(len(units))
	assert.Equal(t, n+1, st["misses"], "each unit missed once: the target's and the host target's entries are apart")
	assert.Equal(t, n, st["hits"])
	assert.Equal(t, map[string]int64{full.addr: n}, hostCounts(t, c.d), "every miss went to the host, but the --gcc-toolchain one")
	assert.Zero(t, st["fallbacks"]+st["errors"], "daemon.log:\n%s", c.d.logTail(20))

	// The aarch64 units with their sources (clang's own include
	// directories travel with them), -g included.
	c = newXClient(t, dir, []*compileHost{lacking, full})
	withG := append([]string{"-g"}, units[0]...)
	for i, u := range [][]string{units[0], units[1], withG} {
		wantU := want[min(i, 1)]
		if i == 2 {
			wantU = localObject(t, dir, "plain.o", "clang", withG...)
		}
		sameObject(t, wantU, c.compile(t, fmt.Sprintf("s%d.o", i), "clang", u...), "with sources, %v", u)
	}
	st = c.d.stats(t)
	t.Logf("with sources: %v; per host %v", st, hostCounts(t, c.d))
	assert.Equal(t, map[string]int64{full.addr: 3}, hostCounts(t, c.d), "all to the host with the same GCC installation")
	assert.Equal(t, int64(3), st["remote_sources"], "with their sources")
	assert.Zero(t, st["fallbacks"]+st["errors"], "daemon.log:\n%s", c.d.logTail(20))
}
