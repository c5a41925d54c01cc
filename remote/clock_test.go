package remote

import (
	"context"
	"testing"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/remote/remotetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A host's clock is read from its status answers, at a check and at each
// refresh: ahead, behind, and in step.
func TestHostClockSkew(t *testing.T) {
	ahead := remotetest.Start(t, "127.0.0.2", remotetest.Options{ClockOffset: 90 * time.Second})
	behind := remotetest.Start(t, "127.0.0.3", remotetest.Options{ClockOffset: -5 * time.Minute})
	same := remotetest.Start(t, "127.0.0.4", remotetest.Options{})
	p := newTestPool(t, []config.Host{hostOf(ahead.Addr, 2), hostOf(behind.Addr, 2), hostOf(same.Addr, 2)}, Options{})

	near := func(t *testing.T, want time.Duration, got ClockReading) {
		t.Helper()
		require.True(t, got.Known)
		assert.InDelta(t, want.Seconds(), got.Skew.Seconds(), 1, "skew %s", got.Skew)
		assert.Less(t, got.Uncertainty, time.Second)
	}
	st := p.Check(context.Background())
	near(t, 90*time.Second, st[0].Clock)
	near(t, -5*time.Minute, st[1].Clock)
	near(t, 0, st[2].Clock)

	st = p.Refresh(context.Background())
	near(t, 90*time.Second, st[0].Clock)
	reports := Reports(st)
	assert.True(t, reports[1].ClockKnown)
	assert.InDelta(t, -300, reports[1].ClockSkew.Seconds(), 1)
}

// A host that does not say its time leaves the reading unknown.
func TestClockReadingUnknown(t *testing.T) {
	var c ClockReading
	now := time.Now()
	c.measure(0, now, now.Add(time.Millisecond))
	assert.False(t, c.Known)
	c.measure(now.Add(10*time.Second).UnixNano(), now, now.Add(20*time.Millisecond))
	assert.True(t, c.Known)
	assert.InDelta(t, (10*time.Second - 10*time.Millisecond).Seconds(), c.Skew.Seconds(), 0.001)
	assert.Equal(t, 10*time.Millisecond, c.Uncertainty)
}
