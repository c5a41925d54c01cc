package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/dcc-build/dcc/pace"
)

// process is a daemon process Ensure started.
type process struct {
	pid int
	// exited is closed when the process has exited; err then says how.
	exited chan struct{}
	err    error
}

// spawn starts opts.Command detached: its own session, working directory /,
// stdin and stdout on /dev/null, stderr appended to opts.LogPath, the Go
// runtime's monitor paced for a daemon (package pace), and none of this
// process's other file descriptors (a daemon holding, say, make's
// jobserver pipe open would keep whoever waits on it waiting).
func spawn(opts EnsureOptions) (*process, error) {
	cmd := exec.Command(opts.Command[0], opts.Command[1:]...)
	cmd.Dir = "/"
	cmd.Env = pace.Env(opts.Env)
	cmd.SysProcAttr = detached()
	if opts.LogPath != "" {
		log, err := openLog(opts.LogPath)
		if err != nil {
			return nil, err
		}
		defer log.Close()
		cmd.Stderr = log
	}
	restore := closeOnExecAll()
	err := cmd.Start()
	restore()
	if err != nil {
		return nil, fmt.Errorf("start the daemon: %w", err)
	}
	p := &process{pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// openLog opens the daemon's log for appending, first moving it to
// path.old if it has grown past maxLogSize.
func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("daemon log: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		if err := os.Rename(path, path+".old"); err != nil {
			return nil, fmt.Errorf("daemon log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("daemon log: %w", err)
	}
	return f, nil
}
