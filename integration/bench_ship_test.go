package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/ship"
	"github.com/dcc-build/dcc/toolchain"
)

// shipReport reads the daemon log's "toolchain shipped" line.
var shipReport = regexp.MustCompile(`msg="toolchain shipped".* files_sent=(\d+) bytes_sent=(\d+) took=(\S+)`)

// lz4Bytes is what the bundle's files take as lz4 blocks of the chunk
// size the client sends, as the protocol's frames compress them.
func lz4Bytes(tb testing.TB, b *ship.Bundle) (raw, packed int64) {
	tb.Helper()
	seen := map[[32]byte]bool{}
	buf := make([]byte, lz4.CompressBlockBound(protocol.MaxBlobChunk))
	for _, f := range b.Offer.Files {
		if f.Kind != protocol.BundleRegular && f.Kind != protocol.BundleExec || seen[f.Digest] {
			continue
		}
		seen[f.Digest] = true
		data, _, err := b.Open(f.Digest)
		require.NoError(tb, err)
		chunk := make([]byte, protocol.MaxBlobChunk)
		for {
			n, _ := data.Read(chunk)
			if n == 0 {
				break
			}
			c, err := lz4.CompressBlock(chunk[:n], buf, nil)
			require.NoError(tb, err)
			if c == 0 || c > n {
				c = n
			}
			raw += int64(n)
			packed += int64(c)
		}
		data.Close()
	}
	return raw, packed
}

// BenchmarkShippedToolchain measures toolchains shipped to a bare host
// (no compiler installed; bareHost), for gcc and clang++:
//   - first use: the bundle (files, bytes, and their lz4 size, which is
//     what the frames carry), the client's time to collect it (hashing
//     its files), and the seconds from the first unit to the toolchain
//     served (collect, offer, send, lay out, try in the sandbox);
//   - after: 12 units (-O2 -g, sent with their sources) compiled one at a
//     time on the bare host with the shipped toolchain, against the same
//     units on a host with the compiler installed: the client's wall time
//     per unit and the host's CPU per unit (the server and its sandboxes).
//
// Each run has new daemons, new hosts and units of its own, so no cache
// answers. b.N only satisfies -benchtime.
func BenchmarkShippedToolchain(b *testing.B) {
	requireReal(b)
	if os.Geteuid() != 0 {
		b.Skip("needs root: the bare host runs in a mount namespace")
	}
	const units = 12
	for _, cc := range []struct{ compiler, driver, target, ext string }{
		{"gcc", "gcc", "x86_64-linux-gnu", "c"},
		{"clang++", "clang++", "x86_64-pc-linux-gnu", "cc"},
	} {
		b.Run(cc.compiler, func(b *testing.B) {
			source := xsourceText
			if cc.ext == "cc" {
				source = cxxUnit
			}
			ctx := context.Background()
			exe := requireTool(b, cc.compiler)
			id, err := toolchain.Probe(ctx, exe)
			require.NoError(b, err)
			start := time.Now()
			bundle, err := ship.Collect(ctx, exe, id)
			require.NoError(b, err)
			collect := time.Since(start)
			raw, packed := lz4Bytes(b, bundle)

			bare := launchHostSetup(b, freeAddr(b, "127.0.0.7"), 2, testToken, hostSetup{wrap: bareHost})
			installed := startHost(b, "127.0.0.8", 2)
			dir := b.TempDir()
			writeFiles(b, dir, map[string]string{"xunit.h": "#define XUNIT_SCALE 3.0\n"})
			perUnit := func(h *compileHost, tag string, first bool) (wall, hostCPU time.Duration, firstUse string) {
				d := newProjectDaemon(b, "60s")
				defer d.stop(b)
				env := append(append(append([]string{}, d.env...), hostsEnv(2, h)...), "DCC_LOCAL_THRESHOLD=0", "DCC_LOG_LEVEL=info")
				run := func(name string) time.Duration {
					src := name + "." + cc.ext
					writeFiles(b, dir, map[string]string{src: source(name)})
					t0 := time.Now()
					r := runIn(b, dir, "", env, nil, dccBin, cc.compiler, "-O2", "-g", "-c", src, "-o", name+".o")
					require.Zero(b, r.exit, "%s", r.stderr)
					return time.Since(t0)
				}
				if first {
					t0 := time.Now()
					run(tag + "_first")
					h.waitShipped(b, d, cc.driver, cc.target, 3*time.Minute)
					served := time.Since(t0)
					log := readFile(b, filepath.Join(d.dir, "daemon.log"))
					m := shipReport.FindSubmatch(log)
					require.NotNil(b, m, "no shipping in daemon.log:\n%s", d.logTail(20))
					firstUse = fmt.Sprintf("served %.2fs after the first unit; sent %s files, %s bytes, in %s", served.Seconds(), m[1], m[2], m[3])
				} else {
					run(tag + "_warm") // the daemon's own start and probes
				}
				before := treeCPU(b, h.cmd.Process.Pid)
				var times []time.Duration
				for i := range units {
					times = append(times, run(fmt.Sprintf("%s_%d", tag, i)))
				}
				hostCPU = (treeCPU(b, h.cmd.Process.Pid) - before) / units
				sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
				st := d.stats(b)
				require.Equal(b, int64(units), st["remote"]-map[bool]int64{true: 0, false: 1}[first], "every unit went to the host; daemon.log:\n%s", d.logTail(20))
				return times[units/2], hostCPU, firstUse
			}
			salt := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
			shippedWall, shippedCPU, firstUse := perUnit(bare, "s"+salt, true)
			installedWall, installedCPU, _ := perUnit(installed, "i"+salt, false)
			b.Logf("%s bundle: %d files, %.1f MB (%.1f MB as lz4 frames); collected here in %.2fs", cc.compiler,
				len(bundle.Offer.Files), float64(raw)/1e6, float64(packed)/1e6, collect.Seconds())
			b.Logf("%s first use of a bare host: %s", cc.compiler, firstUse)
			b.Logf("%s per unit after (median wall / host CPU): shipped %v / %v, installed %v / %v; ratio %.2f / %.2f", cc.compiler,
				shippedWall.Round(time.Millisecond), shippedCPU.Round(time.Millisecond),
				installedWall.Round(time.Millisecond), installedCPU.Round(time.Millisecond),
				shippedWall.Seconds()/installedWall.Seconds(), shippedCPU.Seconds()/max(installedCPU.Seconds(), 1e-9))
			b.ReportMetric(float64(packed)/1e6, "lz4-MB")
			b.ReportMetric(shippedWall.Seconds()/installedWall.Seconds(), "wall-shipped/installed")
			for range b.N {
			}
		})
	}
}
