package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crossVariants are the code-generation variants of the cross tests: the
// compiler's default, an architecture and a CPU. Each compiles the unit to
// an object of its own.
var crossVariants = [][]string{nil, {"-march=armv8.2-a"}, {"-mcpu=cortex-a72"}}

// TestCrossGCCToHosts compiles units with Debian's aarch64-linux-gnu-gcc
// through two hosts, one that lists it in toolchains and one that does not,
// with their sources and as preprocessed text, in three variants (default,
// -march=armv8.2-a, -mcpu=cortex-a72): every object is byte for byte the one
// the cross compiler writes itself, each variant misses the cache once (no
// variant is answered with another's entry) and hits it the second time,
// and every unit compiled remotely went to the host that has the cross
// compiler.
func TestCrossGCCToHosts(t *testing.T) {
	cross := requireTool(t, "aarch64-linux-gnu-gcc")
	withCross := launchHostSetup(t, freeAddr(t, "127.0.0.2"), 2, testToken, hostSetup{
		conf: fmt.Sprintf("tokens = [%q]\ntoolchains = [%q]\n", testToken, cross)})
	without := startHost(t, "127.0.0.3", 2)
	for _, mode := range []struct {
		name    string
		sources bool
		env     []string
	}{{"sources", true, nil}, {"preprocessed", false, []string{"DCC_REMOTE_SOURCES=off"}}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			xproject(t, dir, "cross_"+mode.name)
			src := "cross_" + mode.name + ".c"
			want := make([][]byte, len(crossVariants))
			for i, v := range crossVariants {
				want[i] = localObject(t, dir, "plain.o", "aarch64-linux-gnu-gcc", append(append([]string{"-O2"}, v...), "-c", src)...)
				for j := range i {
					require.NotEqual(t, want[j], want[i], "%v and %v compile to one object: the test would not see them share an entry", crossVariants[j], v)
				}
			}
			c := newXClient(t, dir, []*compileHost{without, withCross}, mode.env...)
			for round := range 2 {
				for i, v := range crossVariants {
					got := c.compile(t, fmt.Sprintf("v%d-r%d.o", i, round), "aarch64-linux-gnu-gcc", append(append([]string{"-O2"}, v...), "-c", src)...)
					sameObject(t, want[i], got, "round %d, %v: not the cross compiler's own object", round, v)
				}
			}
			st := c.d.stats(t)
			hosts := hostCounts(t, c.d)
			t.Logf("%s: %v; per host %v", mode.name, st, hosts)
			n := int64(len(crossVariants))
			assert.Equal(t, n, st["misses"], "each variant missed once: no variant shares another's entry")
			assert.Equal(t, n, st["hits"], "each variant hit the second time")
			assert.Equal(t, n, st["remote"], "every miss went to a host; daemon.log:\n%s", c.d.logTail(20))
			assert.Zero(t, st["fallbacks"]+st["errors"], "daemon.log:\n%s", c.d.logTail(20))
			if mode.sources {
				assert.Equal(t, n, st["remote_sources"], "with their sources")
			} else {
				assert.Zero(t, st["remote_sources"], "as preprocessed text")
			}
			assert.Equal(t, map[string]int64{withCross.addr: n}, hosts, "only the host with the cross compiler compiled")
		})
	}
}

// TestCrossGCCUnderAnotherPath serves the cross compiler from another
// place: its driver, cc1 (and cc1plus) and assembler linked under a
// directory of the test, as a toolchain unpacked under /opt would be, on a
// host that cannot see Debian's copy (/usr/lib/gcc-cross is hidden from
// it). The client's /usr/bin/aarch64-linux-gnu-gcc has the same identity,
// so its units go there, and come back identical: matched by identity,
// not by path or name.
func TestCrossGCCUnderAnotherPath(t *testing.T) {
	requireTool(t, "aarch64-linux-gnu-gcc")
	requireRoot(t, "the host runs in a mount namespace that hides /usr/lib/gcc-cross")
	prefix := relocatedCrossGCC(t)
	driver := filepath.Join(prefix, "bin", "aarch64-linux-gnu-gcc")
	h := launchHostSetup(t, freeAddr(t, "127.0.0.4"), 2, testToken, hostSetup{
		conf: fmt.Sprintf("tokens = [%q]\ntoolchains = [%q]\n", testToken, driver),
		wrap: hiding("/usr/lib/gcc-cross")})
	require.Contains(t, h.output(), "path="+driver, "the host serves the relocated compiler")

	dir := t.TempDir()
	xproject(t, dir, "moved")
	args := []string{"-O2", "-mcpu=cortex-a72", "-c", "moved.c"}
	want := localObject(t, dir, "plain.o", "aarch64-linux-gnu-gcc", args...)
	c := newXClient(t, dir, []*compileHost{h}, "DCC_REMOTE_SOURCES=off")
	got := c.compile(t, "moved.o", "aarch64-linux-gnu-gcc", args...)
	sameObject(t, want, got, "the relocated compiler's object is the client's compiler's")
	st := c.d.stats(t)
	assert.Equal(t, int64(1), st["remote"], "the unit went to the host; daemon.log:\n%s", c.d.logTail(20))
	assert.Zero(t, st["fallbacks"]+st["errors"], "daemon.log:\n%s", c.d.logTail(20))
}

// relocatedCrossGCC lays Debian's aarch64 cross gcc out under a directory
// of the test (hard links, or copies across file systems) the way gcc finds
// its programs relative to its driver: bin/aarch64-linux-gnu-gcc,
// lib/gcc-cross/aarch64-linux-gnu/VERSION/{cc1,cc1plus,as}. It returns the
// directory.
func relocatedCrossGCC(t *testing.T) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(requireTool(t, "aarch64-linux-gnu-gcc"))
	require.NoError(t, err)
	out := runIn(t, "/", "", nil, nil, "aarch64-linux-gnu-gcc", "-print-prog-name=cc1")
	require.Zero(t, out.exit)
	libexec := filepath.Dir(string(trimNL(out.stdout)))
	libexec, err = filepath.EvalSymlinks(libexec)
	require.NoError(t, err)
	prefix := sharedTempDir(t)
	privDir := filepath.Join(prefix, "lib", "gcc-cross", "aarch64-linux-gnu", filepath.Base(libexec))
	require.NoError(t, os.MkdirAll(privDir, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(prefix, "bin"), 0o755))
	as, err := filepath.EvalSymlinks(requireTool(t, "aarch64-linux-gnu-as"))
	require.NoError(t, err)
	files := map[string]string{
		real:                              filepath.Join(prefix, "bin", "aarch64-linux-gnu-gcc"),
		filepath.Join(libexec, "cc1"):     filepath.Join(privDir, "cc1"),
		filepath.Join(libexec, "cc1plus"): filepath.Join(privDir, "cc1plus"),
		as:                                filepath.Join(privDir, "as"),
	}
	for from, to := range files {
		if _, err := os.Stat(from); os.IsNotExist(err) && filepath.Base(from) == "cc1plus" {
			continue // g++-aarch64-linux-gnu not installed: the client's identity has none either
		}
		linkOrCopy(t, from, to)
	}
	return prefix
}

// linkOrCopy hard-links from to to, or copies it (mode included) when the
// two are on different file systems.
func linkOrCopy(t *testing.T, from, to string) {
	t.Helper()
	if os.Link(from, to) == nil {
		return
	}
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	st, err := os.Stat(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, st.Mode().Perm()))
}

// trimNL drops trailing line ends.
func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
