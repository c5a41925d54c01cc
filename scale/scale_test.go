package scale

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTraceTake checks that a trace repeats from its start when more units
// are asked for than it holds, and that the recorded trace reads.
func TestTraceTake(t *testing.T) {
	tr, err := ReadTrace("testdata/trace-libtomcrypt.tsv")
	require.NoError(t, err)
	assert.Equal(t, "libtomcrypt", tr.Project)
	units := tr.Take(len(tr.Units) + 2)
	assert.Equal(t, tr.Units[0], units[len(tr.Units)])
	assert.Equal(t, tr.Units[1], units[len(tr.Units)+1])

	bad := filepath.Join(t.TempDir(), "bad.tsv")
	require.NoError(t, os.WriteFile(bad, []byte("a.c\t12\nb.c twelve\n"), 0o644))
	_, err = ReadTrace(bad)
	assert.ErrorContains(t, err, "bad.tsv:2")
}

// TestFarmSmoke runs the smallest farm: two dcc-server hosts and one dcc
// client building 20 units of the trace, then the same with distcc, and
// checks that every unit was compiled by the stand-in, on the hosts mostly,
// in no less than the ideal time, and that the report prints.
func TestFarmSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts hosts and clients")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := t.TempDir()
	for _, c := range []string{"dcc", "dccd", "dcc-server"} {
		build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, c), "github.com/dcc-build/dcc/cmd/"+c)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "build %s: %s", c, out)
	}
	env, err := NewEnv(ctx, "", bin)
	require.NoError(t, err)
	t.Cleanup(func() { env.Close() })
	env.IPBase = 20 // beside a sweep on 127.0.10.x
	env.ClientNice = 10
	kinds := []string{"dcc"}
	if env.Distcc != "" && env.Distccd != "" {
		kinds = append(kinds, "distcc")
	} else if os.Getenv("DCC_REQUIRE_REAL") != "" {
		t.Fatal("distcc is not installed")
	}
	tr, err := ReadTrace("testdata/trace-libtomcrypt.tsv")
	require.NoError(t, err)
	sw := &Sweep{Hosts: []int{2}, Clients: []int{1}, Kinds: kinds, Slots: 4, Units: 20, Trace: tr,
		TimeScale: 0.5, RowTimeout: time.Minute}
	rep, err := sw.Run(ctx, env)
	require.NoError(t, err)
	require.Len(t, rep.Rows, len(kinds))
	for _, row := range rep.Rows {
		assert.Empty(t, row.Errors, row.Kind)
		assert.Equal(t, 20, row.RemoteUnits+row.LocalUnits, "%s: every unit compiled by the stand-in", row.Kind)
		assert.Greater(t, row.RemoteUnits, 10, "%s: most units on the hosts", row.Kind)
		assert.GreaterOrEqual(t, row.Makespan, 0.95*row.Ideal, "%s: no faster than the ideal", row.Kind)
		// Speed is measured by the sweep, not asserted here: this bound
		// only catches a stand-in that sleeps far longer than its unit.
		assert.Less(t, row.Makespan, 20*row.Ideal, "%s: not far from the ideal", row.Kind)
		assert.Positive(t, row.ClientCPU, row.Kind)
	}
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.True(t, strings.Contains(table.String(), "one client core keeps"), table.String())
	t.Log("\n" + table.String())
}

// The clients' commands run under nice at the set niceness; at 0, as given.
func TestNiced(t *testing.T) {
	argv := []string{"make", "-s", "-j4"}
	assert.Equal(t, argv, (&Env{}).niced(argv))
	assert.Equal(t, []string{"nice", "-n", "10", "make", "-s", "-j4"}, (&Env{ClientNice: 10}).niced(argv))
}
