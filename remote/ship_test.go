package remote

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote/remotetest"
	"github.com/dcc-build/dcc/ship"
)

// fakeShipper gives one bundle, counting the asks.
type fakeShipper struct {
	b    *ship.Bundle
	asks atomic.Int32
}

func (f *fakeShipper) Ready(key string) (*ship.Bundle, error) {
	f.asks.Add(1)
	return f.b, nil
}

func (f *fakeShipper) Bundle(ctx context.Context, key string) (*ship.Bundle, error) {
	f.asks.Add(1)
	return f.b, nil
}

// testBundle is a bundle of gccKey's toolchain: a driver and a library.
func testBundle(t *testing.T) *ship.Bundle {
	t.Helper()
	dir := t.TempDir()
	driver := filepath.Join(dir, "bin", "gcc")
	lib := filepath.Join(dir, "lib", "libx.so")
	require.NoError(t, os.MkdirAll(filepath.Dir(driver), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Dir(lib), 0o755))
	require.NoError(t, os.WriteFile(driver, []byte("driver"), 0o755))
	require.NoError(t, os.WriteFile(lib, []byte("library"), 0o644))
	b, err := ship.FromFiles(remotetest.Toolchain(gccKey), driver, []string{filepath.Dir(driver)}, []string{lib})
	require.NoError(t, err)
	return b
}

// TestShipsWhereNotInstalled: jobs go first to the host with the compiler
// installed; when it is full, the host that takes shipped toolchains is
// sent the bundle (in the background; that job compiles here), and later
// jobs go there naming the bundle. The host with the compiler installed is
// never offered it.
func TestShipsWhereNotInstalled(t *testing.T) {
	gate := make(chan struct{})
	installed := remotetest.Start(t, "127.0.0.2", remotetest.Options{Gate: gate, Ships: true})
	var named atomic.Value
	bare := remotetest.Start(t, "127.0.0.3", remotetest.Options{Ships: true, Toolchains: []protocol.Toolchain{},
		Compile: func(ctx context.Context, req *protocol.CompileRequest) protocol.Message {
			named.Store(req.Bundle)
			return &protocol.CompileResult{Object: []byte("shipped")}
		}})
	sh := &fakeShipper{b: testBundle(t)}
	p := newTestPool(t, []config.Host{hostOf(installed.Addr, 1), hostOf(bare.Addr, 1)}, Options{Shipper: sh})

	first := make(chan error, 1)
	go func() {
		_, _, err := p.Compile(context.Background(), gccKey, job("first"))
		first <- err
	}()
	waitFor(t, "the first job on the installed host", func() bool { return installed.Compiles() == 1 })

	_, _, err := p.Compile(context.Background(), gccKey, job("second"))
	require.ErrorIs(t, err, ErrNoHost, "no host can take it now: it compiles here while the bundle is shipped")
	waitFor(t, "the bundle served by the bare host", func() bool {
		for _, tc := range p.Status()[1].Toolchains {
			if tc.Bundle == sh.b.Digest {
				return true
			}
		}
		return false
	})
	res, host, err := p.Compile(context.Background(), gccKey, job("third"))
	require.NoError(t, err)
	assert.Equal(t, bare.Addr, host)
	assert.Equal(t, "shipped", string(res.Object))
	assert.Equal(t, sh.b.Digest, named.Load(), "the job names the bundle")
	assert.Zero(t, installed.Offers(), "the host with the compiler installed is never offered it")
	st := p.Status()[1]
	assert.Equal(t, int64(1), st.Shipped)
	assert.Equal(t, int64(len("driver")+len("library")), st.ShipBytes)
	close(gate)
	require.NoError(t, <-first)
}

// TestNoBundleWithoutAHostToShipTo: when no host takes shipped toolchains,
// or every one has the compiler installed, a job that finds every host
// busy does not collect the bundle.
func TestNoBundleWithoutAHostToShipTo(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	takes := remotetest.Start(t, "127.0.0.2", remotetest.Options{Gate: gate, Ships: true})
	refuses := remotetest.Start(t, "127.0.0.3", remotetest.Options{Gate: gate, Toolchains: []protocol.Toolchain{}})
	sh := &fakeShipper{b: testBundle(t)}
	p := newTestPool(t, []config.Host{hostOf(takes.Addr, 1), hostOf(refuses.Addr, 1)}, Options{Shipper: sh})
	go func() { _, _, _ = p.Compile(context.Background(), gccKey, job("first")) }()
	waitFor(t, "the first job on the host", func() bool { return takes.Compiles() == 1 })
	_, _, err := p.Compile(context.Background(), gccKey, job("second"))
	require.ErrorIs(t, err, ErrNoHost)
	assert.Zero(t, sh.asks.Load(), "no bundle collected")
	assert.Zero(t, takes.Offers()+refuses.Offers())
}
