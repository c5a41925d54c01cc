package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
)

// TestGCCVersionsNeverMixed compiles with Debian's gcc-11 and gcc-12
// (gcc) through hosts that serve one or the other:
//   - gcc-11 units and a host with gcc-12 only: never sent, compiled here;
//   - gcc-11 units and a host listing gcc-11 besides it: sent there;
//   - gcc (12) units and a host whose gcc on PATH is gcc-11 (a compiler
//     named like the client's, of another version): never sent;
//   - gcc-11 units and that host: sent, its "gcc" being gcc-11 itself.
//
// Every object is the local compiler's own (and gcc-11's differ from
// gcc-12's, so a unit compiled by the other version would show).
func TestGCCVersionsNeverMixed(t *testing.T) {
	gcc11 := requireTool(t, "gcc-11")
	requireTool(t, "gcc")
	only12 := startHost(t, "127.0.0.7", 2)
	with11 := launchHostSetup(t, freeAddr(t, "127.0.0.8"), 2, testToken, hostSetup{
		conf: fmt.Sprintf("tokens = [%q]\ntoolchains = [%q]\n", testToken, "gcc-11")})
	impostorPath := sharedTempDir(t)
	require.NoError(t, os.Symlink(gcc11, filepath.Join(impostorPath, "gcc")))
	impostor := launchHostSetup(t, freeAddr(t, "127.0.0.9"), 2, testToken, hostSetup{
		env: []string{"PATH=" + withPath(impostorPath)}})
	// The impostor offers gcc-11 under the name gcc.
	var offered []string
	for _, tc := range hostToolchains(t, impostor) {
		if tc.Driver == "gcc" {
			offered = append(offered, tc.Version)
		}
	}
	require.Equal(t, []string{gccVersion(t, gcc11)}, offered, "the host's gcc is gcc-11")

	dir := t.TempDir()
	xproject(t, dir, "v11", "v12")
	args := func(src string) []string { return []string{"-O2", "-g", "-c", src} }
	want11 := localObject(t, dir, "plain.o", "gcc-11", args("v11.c")...)
	want12 := localObject(t, dir, "plain.o", "gcc", args("v12.c")...)
	other := localObject(t, dir, "plain.o", "gcc", args("v11.c")...)
	require.NotEqual(t, want11, other, "gcc-11 and gcc-12 compile one object: the test would prove nothing")

	for _, step := range []struct {
		name, compiler, src string
		host                *compileHost
		want                []byte
		sent                bool
	}{
		{"gcc-11 to a gcc-12 host", "gcc-11", "v11.c", only12, want11, false},
		{"gcc-11 to a gcc-11 host", "gcc-11", "v11.c", with11, want11, true},
		{"gcc-12 to a host whose gcc is gcc-11", "gcc", "v12.c", impostor, want12, false},
		{"gcc-11 to a host whose gcc is gcc-11", "gcc-11", "v11.c", impostor, want11, true},
	} {
		t.Run(step.name, func(t *testing.T) {
			c := newXClient(t, dir, []*compileHost{step.host})
			got := c.compile(t, "out.o", step.compiler, args(step.src)...)
			sameObject(t, step.want, got, "not %s's own object", step.compiler)
			st := c.d.stats(t)
			hosts := hostCounts(t, c.d)
			t.Logf("%v; per host %v", st, hosts)
			assert.Zero(t, st["fallbacks"]+st["errors"], "daemon.log:\n%s", c.d.logTail(20))
			if step.sent {
				assert.Equal(t, map[string]int64{step.host.addr: 1}, hosts, "the compile went to the host")
				assert.Equal(t, int64(1), st["remote_sources"], "with its sources")
			} else {
				assert.Empty(t, hosts, "no compile went to a host")
				assert.Zero(t, st["remote"], "compiled here")
			}
		})
	}
}

// hostToolchains asks a host for the toolchains it advertises.
func hostToolchains(t *testing.T, h *compileHost) []protocol.Toolchain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := protocol.Dial(ctx, h.addr, testToken, "integration@test", protocol.Transport{Fingerprint: h.fingerprint})
	require.NoError(t, err)
	defer s.Close()
	m, err := s.Call(ctx, &protocol.Status{}, protocol.MsgStatusResult)
	require.NoError(t, err)
	return m.(*protocol.StatusResult).Toolchains
}

// gccVersion is what gcc -dumpfullversion prints.
func gccVersion(t *testing.T, gcc string) string {
	t.Helper()
	r := runIn(t, "/", "", nil, nil, gcc, "-dumpfullversion")
	require.Zero(t, r.exit)
	return string(trimNL(r.stdout))
}
