package compile

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
)

// TestOpenProbesHintedCompiler: a daemon started for a compile identifies
// that compiler while its cache opens, before any request, and the hint
// does not stay in the environment its probes run with.
func TestOpenProbesHintedCompiler(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	cc := filepath.Join(dir, "gcc")
	require.NoError(t, os.WriteFile(cc, []byte("#!/bin/sh\necho \"$1 hint=${"+daemon.ProbeHintEnv+":-}\" >> "+runs+
		"\necho 'gcc (GCC) 12.2.0'\necho 'Copyright (C) 2022 Free Software Foundation, Inc.'\n"), 0o755))
	t.Setenv("DCC_DIR", filepath.Join(dir, "dcc"))
	t.Setenv(daemon.ProbeHintEnv, cc)
	cfg, err := config.Load()
	require.NoError(t, err)

	s, err := Open(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	_, set := os.LookupEnv(daemon.ProbeHintEnv)
	assert.False(t, set, "the hint is taken out of the daemon's environment")
	assert.Eventually(t, func() bool {
		b, _ := os.ReadFile(runs)
		return strings.Contains(string(b), "--version hint=\n")
	}, 10*time.Second, 10*time.Millisecond, "the hinted compiler was asked for its version, without the hint in its environment")
}
