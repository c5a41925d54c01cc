package scale

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A process started in a session of its own leads it (and its own
// process group); one started by startProcess stays in this session.
func TestStartSessionLeadsASession(t *testing.T) {
	dir := t.TempDir()
	sid := func(pid int) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		require.NoError(t, err)
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		return f[3] // state, ppid, pgrp, session
	}
	own, err := startSession([]string{"sleep", "10"}, nil, dir, dir+"/own.log")
	require.NoError(t, err)
	defer own.stop(time.Second)
	same, err := startProcess([]string{"sleep", "10"}, nil, dir, dir+"/same.log")
	require.NoError(t, err)
	defer same.stop(time.Second)
	assert.Equal(t, fmt.Sprint(own.pid()), sid(own.pid()))
	assert.Equal(t, sid(os.Getpid()), sid(same.pid()))
}
