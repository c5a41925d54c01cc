package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
)

// Toolchains shipped by content: a host with no compiler at all (its
// compilers' directories hidden by a mount namespace) receives each of the
// client's compilers on first need, and compiles gcc, g++, clang, clang++
// and aarch64 cross units from then on, identical to the client's own.

// bareHost is the wrap of a host without compilers: in a mount namespace
// of its own, the directories of gcc's and clang's programs are empty and
// every compiler driver and assembler in /usr/bin is /dev/null.
var bareHost = []string{"unshare", "-m", "--propagation", "private", "sh", "-c", `
for d in /usr/lib/gcc /usr/lib/gcc-cross /usr/lib/llvm-14; do
  [ -d "$d" ] && { mount -t tmpfs none "$d" || exit 1; }
done
for f in /usr/bin/*gcc* /usr/bin/*g++* /usr/bin/*cpp* /usr/bin/clang* /usr/bin/*-as /usr/bin/as /usr/bin/cc /usr/bin/c++; do
  r=$(readlink -f "$f") && [ -f "$r" ] && { mount --bind /dev/null "$r" || exit 1; }
done
exec "$@"`, "sh"}

// status asks the host what it serves, as a client's Status request does.
func (h *compileHost) status(tb testing.TB) *protocol.StatusResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := protocol.Dial(ctx, h.addr, testToken, "integration@test",
		protocol.Transport{Fingerprint: h.fingerprint, Plaintext: h.fingerprint == ""})
	require.NoError(tb, err)
	defer s.Close()
	m, err := s.Call(ctx, &protocol.Status{}, protocol.MsgStatusResult)
	require.NoError(tb, err)
	return m.(*protocol.StatusResult)
}

// waitShipped waits until the host serves a shipped toolchain of driver
// mode driver and target, and returns it; it gives up at once when the
// client's log says a shipping failed.
func (h *compileHost) waitShipped(tb testing.TB, d *projectDaemon, driver, target string, within time.Duration) protocol.Toolchain {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		log := readFile(tb, filepath.Join(d.dir, "daemon.log"))
		if m := shipFailed.Find(log); m != nil {
			tb.Fatalf("%s\nhost:\n%s", m, h.output())
		}
		for _, tc := range h.status(tb).Toolchains {
			if tc.Bundle != "" && tc.Driver == driver && tc.Target == target {
				return tc
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the host serves no shipped %s for %s after %s\n%s", driver, target, within, h.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cxxUnit is a C++ unit using the standard library's headers.
func cxxUnit(salt string) string {
	return fmt.Sprintf(`#include <map>
#include <string>
#include <vector>
std::map<std::string, std::vector<int>> table_%[1]s(int n) {
  std::map<std::string, std::vector<int>> m;
  for (int i = 0; i < n; i++) m[std::to_string(i %% 7)].push_back(i);
  return m;
}
`, salt)
}

// shipFailed is the daemon log's report of a shipping that failed.
var shipFailed = regexp.MustCompile(`.*(shipping a toolchain to a host failed|collecting a toolchain to ship failed).*`)

func TestShippedToolchainsOnBareHost(t *testing.T) {
	requireReal(t)
	requireRoot(t, "the host runs in a mount namespace that hides every compiler")
	requireTool(t, "clang")
	h := launchHostSetup(t, freeAddr(t, "127.0.0.7"), 2, testToken, hostSetup{wrap: bareHost})
	st := h.status(t)
	require.True(t, st.Ships, "the host takes shipped toolchains")
	require.Empty(t, st.Toolchains, "the host has no compiler of its own\n%s", h.output())

	dir := t.TempDir()
	c := newXClient(t, dir, []*compileHost{h}, "DCC_SHIP_TOOLCHAINS=1")
	cases := []struct {
		compiler, driver, target, ext string
		args                          []string
		source                        func(string) string
	}{
		{"gcc", "gcc", "x86_64-linux-gnu", "c", []string{"-O2", "-g"}, xsourceText},
		{"g++", "g++", "x86_64-linux-gnu", "cc", []string{"-O2", "-g"}, cxxUnit},
		{"clang", "clang", "x86_64-pc-linux-gnu", "c", []string{"-O2", "-g"}, xsourceText},
		{"clang++", "clang++", "x86_64-pc-linux-gnu", "cc", []string{"-O1", "-g"}, cxxUnit},
		{"aarch64-linux-gnu-gcc", "gcc", "aarch64-linux-gnu", "c", []string{"-O2", "-mcpu=cortex-a72"}, xsourceText},
	}
	writeFiles(t, dir, map[string]string{"xunit.h": "#define XUNIT_SCALE 3.0\n"})
	remoteBefore := int64(0)
	for _, tc := range cases {
		t.Run(tc.compiler, func(t *testing.T) {
			if _, err := os.Stat("/usr/bin/" + tc.compiler); err != nil {
				t.Skipf("%s is not installed", tc.compiler)
			}
			salt := strings.NewReplacer("+", "x", "-", "_").Replace(tc.compiler)
			compile := func(name string) {
				src := name + "." + tc.ext
				writeFiles(t, dir, map[string]string{src: tc.source(name)})
				args := append(append([]string{}, tc.args...), "-c", src)
				want := localObject(t, dir, "plain_"+name+".o", tc.compiler, args...)
				got := c.compile(t, name+".o", tc.compiler, args...)
				sameObject(t, want, got, "%s %s", tc.compiler, src)
			}
			// The first unit compiles here while the compiler is
			// collected and sent to the host.
			compile(salt + "_first")
			start := time.Now()
			shipped := h.waitShipped(t, c.d, tc.driver, tc.target, 2*time.Minute)
			t.Logf("%s shipped as bundle %s, served %s after the first unit", tc.compiler, shipped.Bundle[:12], time.Since(start).Round(time.Millisecond))
			for i := range 2 {
				compile(fmt.Sprintf("%s_%d", salt, i))
			}
			stats := c.d.stats(t)
			assert.Equal(t, remoteBefore+2, stats["remote"], "both units after the shipping went to the host; daemon.log:\n%s", c.d.logTail(20))
			remoteBefore = stats["remote"]
		})
	}
	// dcc hosts says which toolchains the host has shipped.
	r := runIn(t, dir, "", c.env, nil, dccBin, "hosts", "--json")
	require.Zero(t, r.exit, "%s", r.stderr)
	var hosts struct {
		Hosts []struct {
			TakesShipped bool  `json:"takes_shipped"`
			Shipped      int64 `json:"shipped"`
			ShippedBytes int64 `json:"shipped_bytes"`
			Toolchains   []struct {
				Driver  string `json:"driver"`
				Shipped bool   `json:"shipped"`
			} `json:"toolchains"`
		} `json:"hosts"`
	}
	require.NoError(t, json.Unmarshal(r.stdout, &hosts), "%s", r.stdout)
	require.Len(t, hosts.Hosts, 1)
	assert.True(t, hosts.Hosts[0].TakesShipped)
	assert.GreaterOrEqual(t, hosts.Hosts[0].Shipped, int64(len(cases)-1), "this client shipped them")
	assert.Positive(t, hosts.Hosts[0].ShippedBytes)
	for _, tc := range hosts.Hosts[0].Toolchains {
		assert.True(t, tc.Shipped, "%s is shipped, not installed", tc.Driver)
	}
	r = runIn(t, dir, "", c.env, nil, dccBin, "hosts")
	assert.Contains(t, string(r.stdout), "gcc 12.2.0 [shipped]")
	stats := c.d.stats(t)
	assert.Zero(t, stats["errors"], "daemon.log:\n%s", c.d.logTail(20))
	assert.Empty(t, h.leftJobs(t), "the host removed its jobs")
}
