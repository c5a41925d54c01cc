package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkRemoteTLSCost measures what TLS costs a client: zlib's deflate.c
// made unique each round (no cache answers), compiled at -O2 through dcc on a
// host reached over TLS (the default) and on a host with tls = "off" reached
// in plain TCP, in alternation, each client with a daemon of its own. Client
// CPU per unit is the wrapper's plus the daemon's (its threads and the
// processes it waited for), summed over the units and divided (the daemon's
// share is only known as a sum); wall time per unit is a median. b.N only
// satisfies -benchtime.
func BenchmarkRemoteTLSCost(b *testing.B) {
	requireTool(b, "gcc")
	src := fetchProject(b, "zlib")
	hosts := map[string]*compileHost{"tls": startHost(b, "127.0.0.2", 2), "plain": startPlainHost(b, "127.0.0.3", 2)}

	unitDir := b.TempDir()
	deflate, err := os.ReadFile(filepath.Join(src, "deflate.c"))
	require.NoError(b, err)
	for _, h := range []string{"deflate.h", "zutil.h", "zlib.h", "zconf.h"} {
		data, err := os.ReadFile(filepath.Join(src, h))
		require.NoError(b, err)
		require.NoError(b, os.WriteFile(filepath.Join(unitDir, h), data, 0o644))
	}
	dccGCC := filepath.Join(masqueradeDir(b, compilerLinks...), "gcc")
	flags := []string{"-O2", "-D_LARGEFILE64_SOURCE=1", "-DHAVE_HIDDEN", "-c"}

	type client struct {
		d          *projectDaemon
		env        []string
		cpu        time.Duration
		wall       []time.Duration
		wrapperCPU time.Duration
	}
	clients := map[string]*client{}
	compile := func(c *client, name string, data []byte) (cpu, wall time.Duration) {
		require.NoError(b, os.WriteFile(filepath.Join(unitDir, name), data, 0o644))
		cmd := exec.Command(dccGCC, append(append([]string{}, flags...), name, "-o", name+".o")...)
		cmd.Dir = unitDir
		cmd.Env = append(os.Environ(), c.env...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall = time.Since(start)
		require.NoError(b, err, "%s", out)
		return cpuOf(cmd), wall
	}
	for wire, h := range hosts {
		d := newProjectDaemon(b, "10m")
		b.Cleanup(func() { d.stop(b) })
		c := &client{d: d, env: append(append([]string{}, d.env...),
			"DCC_HOSTS="+h.hostArg(2), "DCC_TOKEN="+testToken, "DCC_PROJECT=bench-tls", "DCC_LOCAL_THRESHOLD=0")}
		clients[wire] = c
		// A first unit starts the daemon, identifies the compiler and opens
		// the session (its handshake is not counted).
		compile(c, "warmup-"+wire+".c", append(append([]byte{}, deflate...), "\nint bench_warmup;\n"...))
	}
	const units = 40
	order := []string{"tls", "plain"}
	for i := range units {
		for j := range order {
			wire := order[(i+j)%len(order)]
			c := clients[wire]
			unit := append(append([]byte{}, deflate...), fmt.Sprintf("\nint bench_tls_unit_%s_%d = %d;\n", wire, i, i)...)
			before := procCPU(b, c.d.pid())
			cpu, wall := compile(c, fmt.Sprintf("u%s%d.c", wire, i), unit)
			c.cpu += cpu + procCPU(b, c.d.pid()) - before
			c.wrapperCPU += cpu
			c.wall = append(c.wall, wall)
		}
	}
	for wire, c := range clients {
		st := c.d.stats(b)
		require.Equal(b, int64(units+1), st["remote"], "every %s unit compiled on the host: %v", wire, st)
	}
	for b.Loop() {
		// Measured above; b.Loop only satisfies -benchtime.
	}
	perUnit := func(c *client) time.Duration { return c.cpu / units }
	t, p := clients["tls"], clients["plain"]
	b.ReportMetric(float64(perUnit(t).Microseconds()), "tls-client-cpu-us/unit")
	b.ReportMetric(float64(perUnit(p).Microseconds()), "plain-client-cpu-us/unit")
	b.ReportMetric(float64(perUnit(t))/float64(perUnit(p)), "tls/plain-client-cpu")
	b.ReportMetric(float64(median(t.wall))/float64(median(p.wall)), "tls/plain-wall")
	b.Logf("client CPU per remote unit (deflate.c -O2, sent with its sources, means of %d): TLS %s (wrapper %s), plain TCP %s (wrapper %s); TLS costs %s a unit; wall medians TLS %s, plain %s",
		units, perUnit(t), t.wrapperCPU/units, perUnit(p), p.wrapperCPU/units, perUnit(t)-perUnit(p), median(t.wall), median(p.wall))
}
