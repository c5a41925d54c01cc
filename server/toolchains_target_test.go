package server

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
)

// TestCheckTarget: a clang entry for its own target refuses any --target,
// a clang_targets entry refuses a job without its target or with another;
// gcc entries are not concerned (gcc takes no --target).
func TestCheckTarget(t *testing.T) {
	own := Compiler{Info: protocol.Toolchain{Target: "x86_64-pc-linux-gnu"}, Family: toolchain.FamilyClang}
	a64 := Compiler{Info: protocol.Toolchain{Target: "aarch64-unknown-linux-gnu"}, Family: toolchain.FamilyClang, ClangTarget: "aarch64-linux-gnu"}
	gcc := Compiler{Info: protocol.Toolchain{Target: "x86_64-linux-gnu"}, Family: toolchain.FamilyGCC}
	for _, tc := range []struct {
		comp Compiler
		args []string
		ok   bool
	}{
		{own, []string{"-O2"}, true},
		{own, []string{"-O2", "--target=aarch64-linux-gnu"}, false},
		{own, []string{"-target", "x86_64-pc-linux-gnu"}, false},
		{a64, []string{"--target=aarch64-linux-gnu", "-mcpu=cortex-a72"}, true},
		{a64, []string{"-target", "aarch64-unknown-linux-gnu"}, true},
		{a64, []string{"-O2"}, false},
		{a64, []string{"--target=armv7a-linux-gnueabihf"}, false},
		{a64, []string{"--target=aarch64-linux-gnu", "--target=x86_64-linux-gnu"}, false},
		{gcc, []string{"-O2"}, true},
	} {
		err := CheckTarget(tc.comp, tc.args)
		if tc.ok {
			assert.NoError(t, err, "%s %v", tc.comp.ClangTarget, tc.args)
			continue
		}
		var r *Refusal
		if assert.True(t, errors.As(err, &r), "%s %v: %v", tc.comp.ClangTarget, tc.args, err) {
			assert.Equal(t, protocol.CodeForbiddenArg, r.Code)
		}
	}
}

// TestConfigClangTargets reads clang_targets and refuses a value clang
// could read as an option, naming the key and line.
func TestConfigClangTargets(t *testing.T) {
	cfg, err := ParseConfig("/srv/dcc/server.conf", "/srv/dcc", []byte("tokens = [\"0123456789abcdef0123\"]\nclang_targets = [\"aarch64-linux-gnu\", \"armv7a-linux-gnueabihf\"]\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"aarch64-linux-gnu", "armv7a-linux-gnueabihf"}, cfg.ClangTargets)
	for _, bad := range []string{`""`, `"-fplugin=x.so"`, `"aarch64 linux"`, `"a/b"`} {
		_, err := ParseConfig("/srv/dcc/server.conf", "/srv/dcc", []byte("tokens = [\"0123456789abcdef0123\"]\nclang_targets = ["+bad+"]\n"))
		assert.ErrorContains(t, err, "server.conf:2: clang_targets:", bad)
	}
}

// TestDiscoverClangTargets serves clang for aarch64 besides its own target:
// one more entry per clang, with the target's identity, whose path is
// clang's own.
func TestDiscoverClangTargets(t *testing.T) {
	clang := realCompiler(t, "clang")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tcs, err := DiscoverToolchainsAndTargets(ctx, &toolchain.Prober{}, []string{clang.Path}, []string{"aarch64-linux-gnu", "bogus-none-nothing"}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	var found *Compiler
	for _, info := range tcs.List() {
		if c, _ := tcs.Lookup(info.Key); c.ClangTarget == "aarch64-linux-gnu" && c.Path == clang.Path {
			found = &c
		}
		if c, _ := tcs.Lookup(info.Key); c.ClangTarget == "bogus-none-nothing" {
			t.Errorf("a target clang cannot compile alone is served: %+v", c)
		}
	}
	require.NotNil(t, found, "clang served for aarch64-linux-gnu: %+v", tcs.List())
	assert.Equal(t, "aarch64-unknown-linux-gnu", found.Info.Target)
	assert.NotEqual(t, clang.Info.Key, found.Info.Key)
	id, err := (&toolchain.Prober{}).ProbeTarget(ctx, clang.Path, "aarch64-linux-gnu")
	require.NoError(t, err)
	assert.Equal(t, id.Key(), found.Info.Key, "the key a client computes for the target")
}
