package scale

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// Token is the token the simulated hosts accept.
const Token = "dcc-scale-token-0123456789abcdef"

// Env is where the simulation's programs and files are.
type Env struct {
	// Work holds the hosts', the clients' and the stand-in's directories.
	Work string
	// DCC, Server are the dcc and dcc-server programs (dccd beside dcc).
	DCC, Server string
	// Distcc, Distccd are distcc's programs ("" when not installed).
	Distcc, Distccd string
	// StandIn is the stand-in compiler, named gcc in a directory of its
	// own; UnitsLog is where it records each unit.
	StandIn, UnitsLog string
	// Masq is the directory of dcc's gcc link.
	Masq string
	// Tools is a directory holding only the assembler, the hosts' PATH.
	Tools string
	// ClientNice is the niceness the clients' processes run at (make, the
	// wrappers, the local compiles, dcc's daemons; 0: the hosts' own). On
	// a real farm the clients' bursts take the clients' CPUs, not the
	// hosts'; here both share this machine's, and a client's burst of
	// hundreds of wrappers would otherwise starve hosts that need a few
	// milliseconds each to answer, for both kinds alike.
	ClientNice int
	// ClientCPU, when more than 0, is how many CPUs each client's
	// processes may use, all on CPU 0, the hosts on the other CPUs
	// (cpulimit.go): the rows then show what a client's own CPU allows.
	ClientCPU float64
	// DaemonSession starts each client's daemon in a session of its own,
	// as dcc starts it: its own autogroup, where the kernel has them, so
	// that it shares the CPU with the simulator's session (make, the
	// wrappers, the hosts) instead of taking one share among their
	// processes. Off, every sweep before stop 31's last ran that way.
	DaemonSession bool
	// IPBase is the third byte of the hosts' addresses, 127.0.IPBase.1 and
	// up (10; the smoke test uses another so that it runs beside a sweep).
	IPBase int
}

// niced returns argv run at the clients' niceness.
func (e *Env) niced(argv []string) []string {
	if e.ClientNice == 0 {
		return argv
	}
	return append([]string{"nice", "-n", strconv.Itoa(e.ClientNice)}, argv...)
}

// clientArgv returns argv as a client runs it: in leaf of the client's CPU
// limit (when it has one), at the clients' niceness.
func (e *Env) clientArgv(limit *cpuLimit, leaf string, argv []string) []string {
	argv = e.niced(argv)
	if limit != nil {
		argv = limit.argv(leaf, argv)
	}
	return argv
}

// hostArgv returns argv as a host runs it: on the CPUs the clients do not
// use, when they are limited.
func (e *Env) hostArgv(argv []string) ([]string, error) {
	if e.ClientCPU <= 0 {
		return argv, nil
	}
	cpus, err := hostCPUs()
	if err != nil {
		return nil, err
	}
	return append([]string{"taskset", "-c", cpus}, argv...), nil
}

// NewEnv makes a work directory under parent ("" for the system's
// temporary directory), builds the stand-in compiler into it with go, and
// checks the programs in bin (dcc, dccd, dcc-server).
func NewEnv(ctx context.Context, parent, bin string) (_ *Env, err error) {
	if parent != "" {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
	}
	work, err := os.MkdirTemp(parent, "dcc-scale-")
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(work)
		}
	}()
	if err := os.Chmod(work, 0o755); err != nil { // distccd's jobs run as nobody under root
		return nil, fmt.Errorf("work directory: %w", err)
	}
	if work, err = filepath.Abs(work); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	bin, err = filepath.Abs(bin)
	if err != nil {
		return nil, fmt.Errorf("bin directory: %w", err)
	}
	e := &Env{Work: work, DCC: filepath.Join(bin, "dcc"), Server: filepath.Join(bin, "dcc-server"),
		StandIn: filepath.Join(work, "cc", "gcc"), Masq: filepath.Join(work, "masq"), Tools: filepath.Join(work, "tools"), IPBase: 10}
	e.UnitsLog = filepath.Join(work, "cc", "units.log")
	for _, p := range []string{e.DCC, filepath.Join(bin, "dccd"), e.Server} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s is missing (make build): %w", p, err)
		}
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", e.StandIn, "github.com/dcc-build/dcc/scale/cmd/dcc-scale-cc")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the stand-in compiler: %v: %s", err, out)
	}
	as, err := exec.LookPath("as")
	if err != nil {
		return nil, fmt.Errorf("the assembler: %w", err)
	}
	for _, d := range []string{e.Masq, e.Tools, filepath.Join(work, "hosts"), filepath.Join(work, "clients")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
	}
	if err := os.Symlink(e.DCC, filepath.Join(e.Masq, "gcc")); err != nil {
		return nil, fmt.Errorf("dcc's gcc link: %w", err)
	}
	// distcc asks hosts for the compiler by its target's name.
	if err := os.Symlink("gcc", filepath.Join(filepath.Dir(e.StandIn), "x86_64-linux-gnu-gcc")); err != nil {
		return nil, fmt.Errorf("the stand-in's distcc name: %w", err)
	}
	if err := os.Symlink(as, filepath.Join(e.Tools, "as")); err != nil {
		return nil, fmt.Errorf("the hosts' assembler: %w", err)
	}
	if err := os.Chmod(filepath.Dir(e.StandIn), 0o777); err != nil {
		return nil, fmt.Errorf("stand-in directory: %w", err)
	}
	e.Distcc, _ = exec.LookPath("distcc")
	e.Distccd, _ = exec.LookPath("distccd")
	return e, e.resetUnitsLog()
}

// resetUnitsLog empties the stand-in's log, writable by every user (a
// distccd started as root runs its jobs as nobody).
func (e *Env) resetUnitsLog() error {
	if err := os.WriteFile(e.UnitsLog, nil, 0o666); err != nil {
		return fmt.Errorf("units log: %w", err)
	}
	return os.Chmod(e.UnitsLog, 0o666)
}

// Close removes the work directory.
func (e *Env) Close() error { return os.RemoveAll(e.Work) }
