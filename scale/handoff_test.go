package scale

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A host of 2 slots: each unit after the first wave is timed from the
// earliest free slot's end; runs of other hosts are apart, and runs on a
// client, or starting after the end, do not count.
func TestMeasureHandoffs(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	runs := []unitRun{
		{start: at(100), end: at(1000), host: 0},  // first wave: 100 ms
		{start: at(300), end: at(2000), host: 0},  // first wave: 300 ms
		{start: at(1010), end: at(1500), host: 0}, // 10 ms after the end at 1000
		{start: at(1500), end: at(3000), host: 0}, // 0 ms: taken as 1500 ended
		{start: at(2500), end: at(2600), host: 0}, // 500 ms after the end at 2000
		{start: at(200), end: at(5000), host: 1},  // first wave of host 1: 200 ms
		{start: at(5200), end: at(6000), host: 1}, // 200 ms after its end
		{start: at(50), end: at(60), host: -1},    // on a client
		{start: at(9000), end: at(9100), host: 0}, // after the end
	}
	h := measureHandoffs(runs, 2, t0, at(8000))
	assert.Equal(t, []time.Duration{0, 10 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond}, h.gaps)
	assert.Equal(t, 200*time.Millisecond, h.firstWave)
	assert.Equal(t, at(300), h.waveEnd, "the latest slot's first unit")
	assert.Equal(t, 200*time.Millisecond, h.quantile(0.5))
	n, share := h.over(100 * time.Millisecond)
	assert.Equal(t, 2, n)
	assert.InDelta(t, 700.0/710.0, share, 1e-9)
}
