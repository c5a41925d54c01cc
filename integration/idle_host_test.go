package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/stretchr/testify/require"
)

// timeslices returns how many times the threads of process pid have been
// run on a CPU (the third field of each thread's schedstat).
func timeslices(tb testing.TB, pid int) int64 {
	tb.Helper()
	stats, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "schedstat"))
	require.NoError(tb, err)
	require.NotEmpty(tb, stats, "no threads of process %d", pid)
	var n int64
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended meanwhile
		}
		fields := strings.Fields(string(data))
		require.Len(tb, fields, 3, "%s: %q", path, data)
		v, err := strconv.ParseInt(fields[2], 10, 64)
		require.NoError(tb, err)
		n += v
	}
	return n
}

// TestIdleHostWakesRarely: a dcc-server with nothing to do, its cache
// database open (it closes only after 30 s), must not wake up tens of times
// a second. Badger's compactors woke it 40 times a second (8 ms of CPU a
// second), the runtime's monitor thread paced for a busy server 100 times.
func TestIdleHostWakesRarely(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc here")
	}
	h := startHost(t, "127.0.0.1", 2)
	pid := h.cmd.Process.Pid
	tr := protocol.Transport{Fingerprint: h.fingerprint, Plaintext: h.fingerprint == ""}
	serves(t, h.addr, tr, "before the pause") // the session ends: the host is idle
	time.Sleep(500 * time.Millisecond)

	const window = 3 * time.Second
	before, start := timeslices(t, pid), time.Now()
	time.Sleep(window)
	rate := float64(timeslices(t, pid)-before) / time.Since(start).Seconds()
	t.Logf("an idle dcc-server ran %.1f times a second", rate)
	require.Less(t, rate, 15.0, "an idle dcc-server wakes up too often")
}
