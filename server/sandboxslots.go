package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcc-build/dcc/server/sandboxworker"
)

// A sandbox per compile slot, not per job. Making namespaces costs about
// 10 ms of CPU here, five times a small compile's budget, so each slot's
// sandbox is made once: bubblewrap runs this program's sandbox worker as
// the namespace's PID 1, and the slot's jobs are sent to it one at a time.
// The slot has two directories of its own on the host, bound at their
// paths: one read-write for its job directories and one read-only for its
// trees. The server lays out each job there, the worker runs it, kills
// whatever the job left, empties /tmp, /dev/shm and /dev/mqueue, and the
// server removes the job's directories before the slot takes another job.
// A slot whose job ran past its time, whose worker died or could not clean
// up is killed with all it holds, and a new one is made for the next job.

// workerPath is how bubblewrap runs the worker in the sandbox: the
// executable it inherits as descriptor 3, which need not be reachable by
// any path the job user may follow (a test binary's directory is not).
const workerPath = "/proc/self/fd/3"

// slotStderrLimit bounds what a worker's messages are kept of.
const slotStderrLimit = 4 << 10

// sandboxSlot is one slot's sandbox: bubblewrap and its worker.
type sandboxSlot struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	dec *json.Decoder
	// jobs and trees are the slot's directories: job directories go in
	// jobs (bound read-write), trees in trees (bound read-only).
	jobs, trees string
	stderr      *lockedBuffer
	exited      chan struct{}
	// broken: the slot must not take another job.
	broken bool
}

// slotPool keeps the sandboxes of idle slots. It is safe for concurrent use.
type slotPool struct {
	sb *sandbox
	// jobsParent and treesParent hold the slots' directories.
	jobsParent, treesParent string
	// exe is the worker's executable (this program), run in every sandbox
	// from this descriptor.
	exe    *os.File
	config string
	log    *slog.Logger

	mu     sync.Mutex
	idle   []*sandboxSlot
	closed bool
}

// newSlotPool prepares the slots' sandboxes of sb; slots' directories go
// under jobsParent and treesParent.
func newSlotPool(sb *sandbox, jobsParent, treesParent string, log *slog.Logger) (*slotPool, error) {
	exePath, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("sandbox: find this program, which runs in each sandbox: %w", err)
	}
	exe, err := os.Open(exePath)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open this program, which runs in each sandbox: %w", err)
	}
	cfg, err := json.Marshal(sandboxworker.Config{Limits: sb.rlimits(), Clean: []string{"/tmp", "/dev/shm", "/dev/mqueue"}})
	if err != nil {
		exe.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return &slotPool{sb: sb, jobsParent: jobsParent, treesParent: treesParent, exe: exe, config: string(cfg), log: log}, nil
}

// get returns an idle slot's sandbox that still runs, or makes one.
func (p *slotPool) get() (*sandboxSlot, error) {
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			return p.start()
		}
		s := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		select {
		case <-s.exited:
			p.log.Warn("a compile slot's sandbox ended while idle", "why", oneLine(s.stderr.String()))
			p.discard(s)
		default:
			return s, nil
		}
	}
}

// put gives back a slot's sandbox after its job's directories are gone:
// kept for the next job, or killed when it must not take one.
func (p *slotPool) put(s *sandboxSlot) {
	p.mu.Lock()
	if !s.broken && !p.closed {
		p.idle = append(p.idle, s)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.discard(s)
}

// close kills the idle sandboxes; those in use are killed when put back.
func (p *slotPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, s := range idle {
		p.discard(s)
	}
	p.exe.Close()
	for _, f := range p.sb.binds {
		f.Close()
	}
}

// start makes a slot's directories and starts its sandbox.
func (p *slotPool) start() (*sandboxSlot, error) { return p.startWith(nil) }

// startWith starts a slot whose sandbox has the bubblewrap arguments extra
// besides the common ones (the mounts of a replayed command's files): one
// made for one job, given up after it (discard).
func (p *slotPool) startWith(extra []string) (*sandboxSlot, error) {
	s := &sandboxSlot{stderr: &lockedBuffer{limit: slotStderrLimit}, exited: make(chan struct{})}
	var err error
	if s.jobs, err = p.slotDir(p.jobsParent); err != nil {
		return nil, err
	}
	if s.trees, err = p.slotDir(p.treesParent); err != nil {
		os.RemoveAll(s.jobs)
		return nil, err
	}
	args := append([]string(nil), p.sb.fixed...)
	args = append(args, "--mqueue", "/dev/mqueue",
		"--bind", s.jobs, s.jobs, "--ro-bind", s.trees, s.trees)
	args = append(args, extra...)
	// The root, an empty tmpfs with the mount points, becomes read-only.
	args = append(args, "--remount-ro", "/", "--", workerPath, sandboxworker.Arg, p.config)
	s.cmd = exec.Command(p.sb.bwrap, args...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.sb.cred}
	s.cmd.Dir = "/"
	s.cmd.Env = []string{"PATH=/usr/bin:/bin"}
	s.cmd.ExtraFiles = append([]*os.File{p.exe}, p.sb.binds...)
	s.cmd.Stderr = s.stderr
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		p.removeDirs(s)
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		p.removeDirs(s)
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s.dec = json.NewDecoder(out)
	if err := s.cmd.Start(); err != nil {
		p.removeDirs(s)
		return nil, fmt.Errorf("sandbox: start %s: %w", p.sb.bwrap, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// slotDir makes a directory of a slot under parent, which the job user may
// traverse but not list.
func (p *slotPool) slotDir(parent string) (string, error) {
	dir, err := os.MkdirTemp(parent, "slot-")
	if err == nil {
		err = os.Chmod(dir, 0o711)
	}
	if err != nil {
		return "", fmt.Errorf("create a compile slot's directory: %w", err)
	}
	return dir, nil
}

// discard kills a slot's sandbox, and everything in it, and removes its
// directories.
func (p *slotPool) discard(s *sandboxSlot) {
	if why := s.stderr.String(); why != "" {
		p.log.Info("a compile slot's sandbox was given up", "why", oneLine(why))
	}
	s.kill()
	s.in.Close()
	select {
	case <-s.exited:
	case <-time.After(waitDelay):
		p.log.Warn("a compile slot's sandbox did not end when killed", "pid", s.cmd.Process.Pid)
	}
	p.removeDirs(s)
}

// removeDirs removes a slot's directories.
func (p *slotPool) removeDirs(s *sandboxSlot) {
	for _, d := range []string{s.jobs, s.trees} {
		if err := os.RemoveAll(d); err != nil {
			p.log.Warn("removing a compile slot's directory", "dir", d, "err", err)
		}
	}
}

// kill kills bubblewrap, and so the worker, the namespace's PID 1, with
// every process of the slot.
func (s *sandboxSlot) kill() {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// errSlotLost is a slot's sandbox that ended or broke off mid-job.
var errSlotLost = errors.New("the compile slot's sandbox ended")

// run runs one job in the slot. A context that ends kills the slot (the
// caller tells why from the context); a worker that breaks off or cannot
// make the slot clean again marks the slot broken.
func (s *sandboxSlot) run(ctx context.Context, req *sandboxworker.Request) (*sandboxworker.Reply, error) {
	stop := context.AfterFunc(ctx, s.kill)
	defer stop()
	line, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		s.broken = true
		return nil, s.lost(err)
	}
	var rep sandboxworker.Reply
	if err := s.dec.Decode(&rep); err != nil {
		s.broken = true
		return nil, s.lost(err)
	}
	if rep.Retire {
		s.broken = true
	}
	return &rep, nil
}

// lost wraps errSlotLost with what the worker or bubblewrap said.
func (s *sandboxSlot) lost(err error) error {
	select {
	case <-s.exited:
	case <-time.After(100 * time.Millisecond):
	}
	if why := oneLine(s.stderr.String()); why != "" {
		return fmt.Errorf("%w: %s", errSlotLost, why)
	}
	return fmt.Errorf("%w: %v", errSlotLost, err)
}

// rlimits are the limits set on every job's first process: CPU time (the
// soft limit sends SIGXCPU, the hard one a second later SIGKILL), address
// space, file size, processes, and no core dumps.
func (s *sandbox) rlimits() []sandboxworker.Limit {
	cpu := uint64((s.cpu + time.Second - 1) / time.Second)
	same := func(res int, v uint64) sandboxworker.Limit {
		return sandboxworker.Limit{Resource: res, Soft: v, Max: v}
	}
	return []sandboxworker.Limit{
		{Resource: unix.RLIMIT_CPU, Soft: cpu, Max: cpu + 1},
		same(unix.RLIMIT_AS, uint64(s.cfg.Memory)),
		same(unix.RLIMIT_FSIZE, uint64(s.cfg.FileSize)),
		same(unix.RLIMIT_NPROC, uint64(s.cfg.Processes)),
		same(unix.RLIMIT_CORE, 0),
	}
}

// lockedBuffer keeps the first limit bytes written to it, for concurrent
// writers and readers.
type lockedBuffer struct {
	mu    sync.Mutex
	buf   []byte
	limit int
}

// Write implements io.Writer.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

// String returns what was kept.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
