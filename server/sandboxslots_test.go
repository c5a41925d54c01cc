package server

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
)

// idleSlots are the bubblewrap pids of a server's idle slot sandboxes.
func idleSlots(ts *testServer) []int {
	p := ts.srv.runner.boxes
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for _, s := range p.idle {
		pids = append(pids, s.cmd.Process.Pid)
	}
	return pids
}

// TestSandboxSlotCleanBetweenJobs: jobs of one slot run one after another
// in the same sandbox, and none sees anything of the one before. A job
// that litters /tmp, /dev/shm and /dev/mqueue (with a directory it made
// unwritable) and leaves a process running is followed, in the same
// slot's sandbox, by one that finds none of it; a job that signals the
// slot's PID 1 does not end the slot, nor can it trace it or reach its
// memory; a job that leaves a System V IPC
// object gets its slot replaced; a job past its time limit is killed with
// its slot. Honest compiles in between give objects identical to local
// ones.
func TestSandboxSlotCleanBetweenJobs(t *testing.T) {
	gcc := realCompiler(t, "gcc")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	evil := evilCompilers(t, l.Addr().(*net.TCPAddr).Port, "/nonexistent", "/nonexistent")
	all := []Compiler{gcc}
	for _, c := range evil {
		all = append(all, c)
	}
	ts := startServer(t, func(c *Config) { c.Jobs = 1; c.JobTimeout = 3 * time.Second },
		func(o *Options) { o.Toolchains = NewToolchains(all) })
	s := ts.dial(t)
	job := func(name string) (*protocol.CompileResult, error) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		m, err := s.Call(ctx, &protocol.CompileRequest{Toolchain: evil[name].Info.Key, Language: "c",
			Preprocessed: []byte(name), SourceName: "x.c"}, protocol.MsgCompileResult)
		if err != nil {
			return nil, err
		}
		return m.(*protocol.CompileResult), nil
	}
	peek := func(t *testing.T) string {
		t.Helper()
		res, err := job("peek")
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
		return string(res.Stderr)
	}
	slot := idleSlots(ts)
	require.Len(t, slot, 1, "the slot's sandbox made at start is kept")
	// What a job sees in a fresh slot: the mount points of its toolchain
	// and tree directories.
	fresh := peek(t)
	clean := func(t *testing.T) {
		t.Helper()
		assert.Equal(t, fresh, peek(t), "the next job in the slot saw what the last one left")
	}

	t.Run("litter", func(t *testing.T) {
		res, err := job("litter")
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
		assert.Equal(t, slot, idleSlots(ts), "the slot is cleaned and kept, not replaced")
		assert.Eventually(t, func() bool { return len(processesNamed("evil-litter")) == 0 }, 5*time.Second, 20*time.Millisecond,
			"the process the job left outlived it")
		clean(t)
		honestCompile(t, s, gccKey(t, s.Welcome()), 1)
		assert.Equal(t, slot, idleSlots(ts))
	})
	t.Run("killinit", func(t *testing.T) {
		res, err := job("killinit")
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
		assert.Equal(t, slot, idleSlots(ts), "signals from a job do not end the slot")
		honestCompile(t, s, gccKey(t, s.Welcome()), 2)
	})
	t.Run("trace", func(t *testing.T) {
		res, err := job("trace")
		require.NoError(t, err)
		assert.Equal(t, 1, res.ExitCode, "a job took over the slot's PID 1:\n%s", res.Stderr)
		assert.Contains(t, string(res.Stderr), "evil: open /proc/1/mem: Permission denied")
		assert.Contains(t, string(res.Stderr), "evil: ptrace 1: Operation not permitted")
		assert.Equal(t, slot, idleSlots(ts))
	})
	t.Run("ipc", func(t *testing.T) {
		res, err := job("ipc")
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
		assert.NotEqual(t, slot, idleSlots(ts), "a slot holding an IPC object is replaced")
		clean(t)
		slot = idleSlots(ts)
	})
	t.Run("idle slot killed", func(t *testing.T) {
		// A slot's sandbox that dies between jobs (the OOM killer, an
		// administrator) is replaced, and the next job does not fail.
		require.Len(t, slot, 1)
		require.NoError(t, syscall.Kill(slot[0], syscall.SIGKILL))
		assert.Eventually(t, func() bool { return !processAlive(slot[0]) }, 5*time.Second, 10*time.Millisecond)
		honestCompile(t, s, gccKey(t, s.Welcome()), 4)
		assert.NotEqual(t, slot, idleSlots(ts))
		slot = idleSlots(ts)
	})
	t.Run("timeout", func(t *testing.T) {
		_, err := job("sleep")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "time limit")
		assert.Eventually(t, func() bool { return len(processesNamed("evil-sleep")) == 0 }, 5*time.Second, 20*time.Millisecond,
			"the job outlived its time limit")
		assert.NotEqual(t, slot, idleSlots(ts), "the slot of a killed job is replaced")
		clean(t)
		honestCompile(t, s, gccKey(t, s.Welcome()), 3)
	})
}
