package remote

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote/remotetest"
)

// Toolchain keys the test servers offer.
const (
	gccKey   = remotetest.GCCKey
	clangKey = "id2-clang"
)

// toolchains describes toolchains with keys.
func toolchains(keys ...string) []protocol.Toolchain {
	var out []protocol.Toolchain
	for _, k := range keys {
		out = append(out, remotetest.Toolchain(k))
	}
	return out
}

// hostOf is a config.Host for addr with the test token and short timeouts.
func hostOf(addr string, jobs int) config.Host {
	return config.Host{Connect: addr, Token: remotetest.Token, Jobs: jobs, Fingerprint: remotetest.Fingerprint(),
		ConnectTimeout: 2 * time.Second, SendTimeout: 5 * time.Second, RecvTimeout: 10 * time.Second}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newTestPool returns a pool closed by the test's cleanup.
func newTestPool(t testing.TB, hosts []config.Host, opts Options) *Pool {
	t.Helper()
	p := NewPool(hosts, opts)
	t.Cleanup(func() { p.Close() })
	return p
}

// job is a compile request with a body that says which job it is.
func job(body string) *protocol.CompileRequest {
	return &protocol.CompileRequest{Language: "c", Args: []string{"-O2"}, Preprocessed: []byte(body), SourceName: "a.c", ClientDir: "/src"}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// isNoHost reports whether err is ErrNoHost.
func isNoHost(err error) bool { return errors.Is(err, ErrNoHost) }
