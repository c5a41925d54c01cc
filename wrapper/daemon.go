package wrapper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	dirs "github.com/dcc-build/dcc/config/dir"
	"github.com/dcc-build/dcc/daemon"
)

// DisableEnv, when set to a true value, makes dcc run every compile unchanged
// without asking the daemon (the config file's "disable" does the same, from
// inside the daemon).
const DisableEnv = "DCC_DISABLE"

// daemonStartTimeout bounds reaching the daemon, including starting it: past
// it the wrapper compiles by itself rather than make the build wait.
const daemonStartTimeout = 3 * time.Second

// daemonAnswerTimeout bounds connecting to a running daemon and its
// answer to the hello. A daemon that is up but slow to answer is a machine
// swamped (a make -j far wider than its CPUs, say): a compile run by the
// wrapper alone would swamp it further, so the wrapper waits that long
// before it runs the compiler itself. A daemon that is not running is
// known at once (the socket refuses the connection).
const daemonAnswerTimeout = 10 * time.Second

// viaDaemon asks the per-user daemon to run the compile through the cache,
// starting the daemon if none runs. answered is false when the daemon was
// not asked (why says so) or could not be reached; res.Handled is false when
// the caller must run the compiler itself.
func viaDaemon(ctx context.Context, inv Invocation, real string, env []string) (res daemon.CompileResult, answered bool, why string) {
	if disabled(os.Getenv(DisableEnv)) {
		return res, false, DisableEnv + " is set"
	}
	dir, err := os.Getwd()
	if err != nil {
		return res, false, fmt.Sprintf("working directory: %v", err)
	}
	req := daemon.CompileRequest{Compiler: inv.Compiler, Real: real, Args: inv.Args, Dir: dir, Env: env}
	home, cmd, build, err := DaemonPlace()
	if err != nil {
		return res, false, fmt.Sprintf("daemon unreachable: %v", err)
	}
	// A running daemon of this build answers on the quick path; otherwise
	// Ensure starts (or replaces) it first.
	res, err = daemon.QuickCompile(dirs.Socket(home), build, req, daemonAnswerTimeout)
	if errors.Is(err, daemon.ErrNotRunning) || errors.Is(err, daemon.ErrVersionMismatch) {
		var c *daemon.Client
		if c, err = ensure(ctx, home, cmd, build, real); err != nil {
			return res, false, fmt.Sprintf("daemon unreachable: %v", err)
		}
		defer c.Close()
		res, err = c.Compile(ctx, req)
	}
	if err != nil {
		return daemon.CompileResult{}, false, fmt.Sprintf("daemon: %v", err)
	}
	return res, true, ""
}

// DaemonName is the daemon's executable, installed next to dcc: the daemon
// links the cache database, which dcc itself does not, so that the wrapper
// stays cheap to start once per compile.
const DaemonName = "dccd"

// DaemonCommand returns the command that runs the daemon in the foreground:
// dccd next to this executable, else in ../lib/dcc from it (a package's
// layout: /usr/bin/dcc and /usr/lib/dcc/dccd), else dccd in PATH.
func DaemonCommand() ([]string, error) {
	exe, err := executable()
	if err != nil {
		return nil, fmt.Errorf("find dcc's executable: %w", err)
	}
	dir := filepath.Dir(exe)
	for _, p := range []string{filepath.Join(dir, DaemonName), filepath.Join(dir, "..", "lib", "dcc", DaemonName)} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return []string{filepath.Clean(p)}, nil
		}
	}
	path, err := exec.LookPath(DaemonName)
	if err != nil {
		return nil, fmt.Errorf("the daemon executable %s is neither next to %s, nor in %s, nor in PATH",
			DaemonName, exe, filepath.Join(filepath.Dir(dir), "lib", "dcc"))
	}
	return []string{path}, nil
}

// DaemonPlace returns dcc's directory (from the environment alone, so that a
// broken config file does not stop "dcc daemon stop"), the command that runs
// the daemon, and the build id a daemon run by that command has.
func DaemonPlace() (string, []string, string, error) {
	d, err := dirs.Resolve(os.LookupEnv)
	if err != nil {
		return "", nil, "", err
	}
	cmd, err := DaemonCommand()
	if err != nil {
		return "", nil, "", err
	}
	build, err := daemon.BuildIDOf(cmd[0])
	if err != nil {
		return "", nil, "", err
	}
	return d, cmd, build, nil
}

// ConnectDaemon connects to the daemon of this dcc build, starting it when
// none runs.
func ConnectDaemon(ctx context.Context) (*daemon.Client, error) {
	home, cmd, build, err := DaemonPlace()
	if err != nil {
		return nil, err
	}
	return ensure(ctx, home, cmd, build, "")
}

// ensure connects to the daemon in dcc's directory home, run by cmd, of
// build, starting it when none runs. A daemon started for a compile of the
// real compiler probe (if not "") is told to identify it at once.
func ensure(ctx context.Context, home string, cmd []string, build, probe string) (*daemon.Client, error) {
	return daemon.Ensure(ctx, daemon.EnsureOptions{
		SocketPath:   dirs.Socket(home),
		LockPath:     dirs.Lock(home),
		BuildID:      build,
		Command:      cmd,
		Env:          daemonEnv(probe),
		LogPath:      dirs.Log(home),
		StartTimeout: daemonStartTimeout,
	})
}

// disabled reads a boolean environment value; unset or unparsable is false.
func disabled(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// daemonEnv is the environment of a daemon started for a compile of the
// real compiler probe: this process's, with daemon.ProbeHintEnv naming it
// (nil, this process's environment as it is, when probe is "").
func daemonEnv(probe string) []string {
	if probe == "" {
		return nil
	}
	// The child's getenv takes the first of duplicate entries.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, daemon.ProbeHintEnv+"=")
	})
	return append(env, daemon.ProbeHintEnv+"="+probe)
}
