package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
)

// TestShippingOffSaysSo: with toolchain_max_size = 0, without a sandbox,
// or run by a dynamically linked program (a test binary: its sandbox
// worker could not run with a shipped toolchain's files alone), a host
// takes no shipped toolchain, says so in its Welcome, and refuses an offer
// in one line. (integration/ship_test.go ships to the static dcc-server.)
func TestShippingOffSaysSo(t *testing.T) {
	realCompiler(t, "gcc")
	for _, mutate := range []func(*Config){
		func(c *Config) { c.ToolchainMaxSize = 0 },
		func(c *Config) { c.Sandbox.Off = true },
		nil, // this test binary, when dynamically linked
	} {
		if mutate == nil && staticWorker() == nil {
			continue // built with CGO_ENABLED=0: it would take them
		}
		ts := startServer(t, mutate, nil)
		s := ts.dial(t)
		assert.False(t, s.Welcome().Ships)
		o := &protocol.ToolchainOffer{Info: protocol.Toolchain{Key: "k", Family: "gcc"}, Driver: "/usr/bin/cc",
			Files: []protocol.BundleFile{{Path: "/usr/bin/cc", Kind: protocol.BundleExec}}}
		_, err := call(t, s, o, protocol.MsgToolchainOfferResult)
		var re *protocol.RemoteError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, protocol.CodeForbiddenArg, re.Code)
		assert.Contains(t, re.Message, "takes no shipped toolchains")
		if mutate == nil {
			ts.logMu.Lock()
			assert.Contains(t, ts.log.String(), "is dynamically linked (build it with CGO_ENABLED=0")
			ts.logMu.Unlock()
		}
	}
}
