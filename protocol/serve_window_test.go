package protocol

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every accepted stream holds its window of the budget until the client
// closed it; a client that leaves an answered stream open loses its session
// after CloseWait, and gives the windows back.
func TestServeWithinStreamWindows(t *testing.T) {
	const wait = 300 * time.Millisecond
	t.Run("closed streams give their window back", func(t *testing.T) {
		budget := NewBudget(DefaultBudget)
		cs := serveWithin(t, echoHandler, ServeLimits{Budget: budget, CloseWait: wait})
		for range 3 {
			_, err := cs.Call(testContext(t, 5*time.Second), &Status{}, MsgStatusResult)
			require.NoError(t, err)
		}
		assert.Eventually(t, func() bool { return budget.WindowsInUse() == 0 }, 5*time.Second, time.Millisecond)
		time.Sleep(2 * wait)
		assert.False(t, cs.IsClosed(), "a client that closes its streams keeps its session")
	})
	t.Run("a stream left open after its answer", func(t *testing.T) {
		budget := NewBudget(DefaultBudget)
		cs := serveWithin(t, echoHandler, ServeLimits{Budget: budget, CloseWait: wait})
		st, err := cs.sess.OpenStream()
		require.NoError(t, err)
		require.NoError(t, WriteMessage(st, &Status{}))
		_, err = ReadExpect(st, MsgStatusResult)
		require.NoError(t, err)
		assert.EqualValues(t, StreamWindow, budget.WindowsInUse(), "the open stream holds its window")
		assert.Eventually(t, cs.IsClosed, 10*wait, 10*time.Millisecond, "the server closes the session")
		assert.Eventually(t, func() bool { return budget.WindowsInUse() == 0 }, 5*time.Second, time.Millisecond)
	})
}
