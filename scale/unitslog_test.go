package scale

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The hosts' busy time before t counts the host runs up to t only, and
// none of the clients' own.
func TestHostBusyBefore(t *testing.T) {
	env := &Env{Work: "/w"}
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	host := filepath.Join("/w", "hosts", "dcc-h2-0", "work")
	client := filepath.Join("/w", "clients", "dcc-h2-c1-0", "src")
	runs := []unitRun{
		{start: at(0), end: at(2), cwd: host},   // wholly before: 2 s
		{start: at(3), end: at(7), cwd: host},   // across t: 2 s of it
		{start: at(6), end: at(8), cwd: host},   // after t
		{start: at(0), end: at(4), cwd: client}, // on a client
	}
	assert.Equal(t, 4*time.Second, hostBusyBefore(env, runs, at(5)))
}
