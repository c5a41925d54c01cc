package sandboxworker

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxRequest bounds one request line (a compile's command line and
// environment).
const maxRequest = 16 << 20

// Main runs the worker: args are what followed Arg. It returns the exit
// status; it ends when its stdin does.
func Main(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "sandbox worker: want one argument, the config")
		return 2
	}
	cfg, err := ParseConfig(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// What this process inherited (its own executable, descriptor 3) is
	// not the jobs'.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox worker: close_range:", err)
		return 1
	}
	// A job runs as this process's user: it must not be able to trace this
	// process or read its memory and descriptors through /proc, which would
	// let it outlive its job and watch the next one.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox worker: prctl:", err)
		return 1
	}
	// The namespace's PID 1 gets only the signals it handles: with every
	// signal handled here, one sent by a job (SIGTERM, or a SIGSEGV by
	// kill) is received and dropped instead of ending the slot. Handled,
	// not ignored: ignored signals would stay ignored in the jobs.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs)
	go func() {
		for range sigs {
		}
	}()
	// The job's first process is traced by the thread that starts it, and
	// only that thread may set it free.
	runtime.LockOSThread()
	sk, err := takeSkeleton(cfg.Clean)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox worker:", err)
		return 1
	}
	return serve(cfg, sk, os.Stdin, os.Stdout)
}

// serve runs the requests read from in, replying to out, until in ends or
// the slot must be given up.
func serve(cfg Config, sk *skeleton, in io.Reader, out io.Writer) int {
	lines := bufio.NewScanner(in)
	lines.Buffer(make([]byte, 64<<10), maxRequest)
	enc := json.NewEncoder(out)
	for lines.Scan() {
		var req Request
		var rep Reply
		if err := json.Unmarshal(lines.Bytes(), &req); err != nil {
			rep = Reply{Err: fmt.Sprintf("bad request: %v", err), Retire: true}
		} else {
			rep = runJob(cfg, sk, &req)
		}
		if err := enc.Encode(&rep); err != nil || rep.Retire {
			return 1
		}
	}
	if err := lines.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox worker: reading requests:", err)
		return 1
	}
	return 0
}

// runJob runs one job and makes the slot clean again.
func runJob(cfg Config, sk *skeleton, req *Request) Reply {
	rep := Reply{}
	if err := req.check(); err != nil {
		return Reply{Err: "bad request: " + err.Error()}
	}
	status, cpu, err := spawnAndWait(cfg.Limits, req)
	if err != nil {
		rep.Err = err.Error()
	}
	rep.Status, rep.CPUNanos = uint32(status), cpu
	if err := killRest(); err != nil {
		rep.Retire = true
		fmt.Fprintln(os.Stderr, "sandbox worker:", err)
	}
	if err := sk.restore(); err != nil {
		rep.Retire = true
		fmt.Fprintln(os.Stderr, "sandbox worker:", err)
	}
	if err := checkIPC(); err != nil {
		rep.Retire = true
		fmt.Fprintln(os.Stderr, "sandbox worker:", err)
	}
	return rep
}

// spawnAndWait starts the job's program stopped at its first instruction
// (traced), sets the limits on it, lets it go, and waits for it to end.
func spawnAndWait(limits []Limit, req *Request) (syscall.WaitStatus, int64, error) {
	files, err := jobFiles(req)
	if err != nil {
		return 0, 0, err
	}
	pid, err := syscall.ForkExec(req.Argv[0], req.Argv, &syscall.ProcAttr{
		Dir: req.Dir, Env: req.Env, Files: []uintptr{files[0].Fd(), files[1].Fd(), files[2].Fd()},
		Sys: &syscall.SysProcAttr{Ptrace: true, Setpgid: true},
	})
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("start %s: %w", req.Argv[0], err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return 0, 0, fmt.Errorf("wait for %s to start: %w", req.Argv[0], err)
	}
	if !ws.Stopped() {
		return ws, 0, fmt.Errorf("%s ended before it ran", req.Argv[0])
	}
	for _, l := range limits {
		lim := unix.Rlimit{Cur: l.Soft, Max: l.Max}
		if err := unix.Prlimit(pid, l.Resource, &lim, nil); err != nil {
			syscall.Kill(pid, syscall.SIGKILL)
			return 0, 0, fmt.Errorf("set limit %d on the job: %w", l.Resource, err)
		}
	}
	if err := syscall.PtraceDetach(pid); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return 0, 0, fmt.Errorf("let the job run: %w", err)
	}
	var ru syscall.Rusage
	for {
		_, err := syscall.Wait4(pid, &ws, 0, &ru)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("wait for %s: %w", req.Argv[0], err)
		}
		if ws.Exited() || ws.Signaled() {
			return ws, ru.Utime.Nano() + ru.Stime.Nano(), nil
		}
	}
}

// jobFiles opens the job's stdin (/dev/null) and creates its stdout and
// stderr files, which must not exist.
func jobFiles(req *Request) ([3]*os.File, error) {
	var files [3]*os.File
	var err error
	if files[0], err = os.Open(os.DevNull); err != nil {
		return files, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	for i, name := range []string{req.Stdout, req.Stderr} {
		files[i+1], err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			for _, f := range files[:i+1] {
				f.Close()
			}
			return files, fmt.Errorf("create the job's output file: %w", err)
		}
	}
	return files, nil
}
