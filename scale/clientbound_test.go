package scale

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The bound is the latest of each unit's start (its and the earlier units'
// share of the client's CPU) plus its time, and never less than the CPU.
func TestClientCPUBound(t *testing.T) {
	units := []Unit{{Duration: 5 * time.Second}, {Duration: time.Second}, {Duration: time.Second}, {Duration: time.Second}}
	// 4 s of CPU at half a CPU: a unit every 2 s. The first ends at 2 + 5 s,
	// the last at 8 + 1 s.
	assert.Equal(t, 9*time.Second, clientCPUBound(units, 4*time.Second, 0.5))
	// At 4 CPUs a unit every 250 ms: the first unit's 5 s decide.
	assert.Equal(t, 5250*time.Millisecond, clientCPUBound(units, 4*time.Second, 4))
	assert.Zero(t, clientCPUBound(nil, time.Second, 1))
}
