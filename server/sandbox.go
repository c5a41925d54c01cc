package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dcc-build/dcc/server/sandboxworker"
)

// Every job runs in a bubblewrap sandbox: new user, mount, pid, network,
// ipc and uts namespaces, made without privilege, once per compile slot
// (sandboxslots.go). Its file system is an empty read-only root with the
// compilers' own files (/usr and the merged /bin, /lib..., and the install
// directories of toolchains elsewhere) read-only, the few /etc files a
// toolchain reads, a small private /tmp, the slot's job directories
// read-write and its trees read-only, each at its path on the host so that
// command lines and debug information are the same as without the sandbox.
// It has no network (only a loopback of its own) and sees only its own
// processes. Resource limits (CPU time, address space, file size,
// processes) are set on each job's first process before it runs its first
// instruction. Started as root, the server runs bubblewrap, and so the
// jobs, as an unprivileged user.

// sandboxTmpSize bounds the private /tmp of a job: compilers write their
// temporary files to TMPDIR, the job's directory.
const sandboxTmpSize = 16 << 20

// sandboxRootEntries are the top-level entries of / that hold the compilers'
// programs and libraries: bound read-only, or made the same symlinks.
var sandboxRootEntries = []string{"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"}

// sandboxEtc are the files of /etc a toolchain reads: the dynamic linker's
// cache, the distribution's name (clang's driver looks), and the Debian
// alternatives the compilers' names may go through.
var sandboxEtc = []string{"/etc/ld.so.cache", "/etc/os-release", "/etc/lsb-release", "/etc/debian_version", "/etc/alternatives"}

// sandboxNamespaces are bubblewrap's arguments that make a sandbox's
// namespaces.
var sandboxNamespaces = []string{"--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
	"--unshare-cgroup-try", "--disable-userns", "--die-with-parent", "--new-session", "--hostname", "dcc-job",
	// No init of bubblewrap's own: the slot's worker is the namespace's
	// PID 1, which reaps what jobs leave and whose end kills every
	// process of the slot.
	"--as-pid-1"}

// sandboxSystemMounts are bubblewrap's arguments for /dev, /proc and a
// small private /tmp.
var sandboxSystemMounts = []string{"--dev", "/dev", "--proc", "/proc",
	"--size", strconv.Itoa(sandboxTmpSize), "--tmpfs", "/tmp"}

// sandbox runs commands in bubblewrap with the job's limits. It is
// read-only once made and safe for concurrent use.
type sandbox struct {
	bwrap string
	// cred is the unprivileged user jobs run as when the server is root;
	// nil runs them as the server's own user.
	cred *syscall.Credential
	// user names cred's user for messages.
	user string
	// fixed are bubblewrap's arguments common to every slot.
	fixed []string
	// binds are directories fixed binds by descriptor (--ro-bind-fd),
	// passed to bubblewrap as descriptors 4, 5, ...; the slot pool that
	// runs this sandbox closes them.
	binds []*os.File
	cpu   time.Duration
	cfg   SandboxConfig
}

// newSandbox prepares the sandbox of cfg for compilers; jobTimeout is the
// default CPU limit. It does not try it (see check).
func newSandbox(cfg SandboxConfig, jobTimeout time.Duration, compilers []Compiler) (*sandbox, error) {
	s := &sandbox{cfg: cfg, cpu: cfg.CPU}
	if s.cpu <= 0 {
		s.cpu = jobTimeout
	}
	var err error
	if s.bwrap, err = exec.LookPath(cfg.Bwrap); err != nil {
		return nil, fmt.Errorf("bubblewrap (%s) is not installed: apt-get install bubblewrap", cfg.Bwrap)
	}
	if os.Geteuid() == 0 {
		if s.cred, err = lookupUser(cfg.User); err != nil {
			return nil, err
		}
		s.user = cfg.User
	}
	s.fixed = slices.Clone(sandboxNamespaces)
	bound := []string{}
	for _, e := range sandboxRootEntries {
		p := "/" + e
		info, err := os.Lstat(p)
		switch {
		case err != nil:
		case info.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return nil, fmt.Errorf("sandbox: %w", err)
			}
			s.fixed = append(s.fixed, "--symlink", target, p)
		case info.IsDir():
			s.fixed = append(s.fixed, "--ro-bind", p, p)
			bound = append(bound, p)
		}
	}
	// /tmp first: a toolchain's directory may be below it.
	s.fixed = append(s.fixed, sandboxSystemMounts...)
	for _, c := range compilers {
		for _, dir := range toolchainDirs(c.Path) {
			if !underAny(dir, bound) {
				s.fixed = append(s.fixed, "--ro-bind", dir, dir)
				bound = append(bound, dir)
			}
		}
	}
	for _, f := range sandboxEtc {
		s.fixed = append(s.fixed, "--ro-bind-try", f, f)
	}
	return s, nil
}

// toolchainDirs are the directories to bind for a compiler at path: the
// directory of the program and of what its symlinks lead to and, when that
// is a bin directory, its siblings that hold a toolchain's programs and
// libraries (never the whole prefix, which may be a home directory).
func toolchainDirs(path string) []string {
	var out []string
	for _, p := range []string{path, evalOr(path)} {
		dir := filepath.Dir(p)
		out = append(out, dir)
		if filepath.Base(dir) != "bin" {
			continue
		}
		for _, sib := range []string{"lib", "lib64", "lib32", "libexec"} {
			d := filepath.Join(filepath.Dir(dir), sib)
			if info, err := os.Stat(d); err == nil && info.IsDir() {
				out = append(out, d)
			}
		}
	}
	return out
}

// evalOr returns path with its symlinks resolved, or path.
func evalOr(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	return path
}

// underAny reports whether path is one of dirs or below one.
func underAny(path string, dirs []string) bool {
	for _, d := range dirs {
		if path == d || strings.HasPrefix(path, d+"/") {
			return true
		}
	}
	return false
}

// lookupUser finds the unprivileged user jobs run as.
func lookupUser(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if u, err = user.LookupId(name); err != nil {
			return nil, fmt.Errorf("sandbox: user %q (who jobs run as) does not exist: set user in the config", name)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("sandbox: user %q has ids %s:%s, not numbers", name, u.Uid, u.Gid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("sandbox: user %q is root: jobs must run as an unprivileged user", name)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// dropsUser reports whether jobs run as another user than the server.
func (s *sandbox) dropsUser() bool { return s.cred != nil }

// check runs a job in a slot's sandbox as every job runs: an error says
// why the sandbox does not work here and how to allow it. The slot is kept
// for the first job.
func (s *sandbox) check(ctx context.Context, pool *slotPool, configFile string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	truePath, err := exec.LookPath("true")
	if err != nil {
		truePath = "/bin/true"
	}
	slot, err := pool.get()
	if err != nil {
		return err
	}
	defer pool.put(slot)
	dir, err := newJobDir(s, slot.jobs)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rep, err := slot.run(ctx, &sandboxworker.Request{Argv: []string{truePath}, Env: []string{"PATH=/usr/bin:/bin"}, Dir: dir,
		Stdout: filepath.Join(dir, jobStdout), Stderr: filepath.Join(dir, jobStderr)})
	switch {
	case err != nil:
	case rep.Err != "":
		err = errors.New(rep.Err)
	case rep.WaitStatus().ExitStatus() != 0:
		err = fmt.Errorf("%s in the sandbox ended with status %d", truePath, rep.WaitStatus().ExitStatus())
	}
	if err != nil {
		slot.broken = true
		why := strings.TrimPrefix(err.Error(), errSlotLost.Error()+": ")
		as := ""
		if s.cred != nil {
			as = fmt.Sprintf(" as user %s", s.user)
		}
		return fmt.Errorf("sandbox: %s cannot make an unprivileged sandbox%s here (%s); %s; or set sandbox = \"off\" in %s to run jobs without one",
			s.bwrap, as, oneLine(why), howToAllow(s), configFile)
	}
	return nil
}

// howToAllow says what to change for unprivileged namespaces to work, from
// the kernel settings that forbid them.
func howToAllow(s *sandbox) string {
	var fixes []string
	for _, k := range []struct{ file, bad, fix string }{
		{"/proc/sys/kernel/unprivileged_userns_clone", "0", "sysctl -w kernel.unprivileged_userns_clone=1"},
		{"/proc/sys/user/max_user_namespaces", "0", "sysctl -w user.max_user_namespaces=15000"},
		{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1", "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile for bwrap)"},
	} {
		if b, err := os.ReadFile(k.file); err == nil && strings.TrimSpace(string(b)) == k.bad {
			fixes = append(fixes, k.fix)
		}
	}
	if len(fixes) > 0 {
		return "allow unprivileged user namespaces: " + strings.Join(fixes, " and ")
	}
	msg := "unprivileged user namespaces look allowed: check that bubblewrap is Debian's (apt-get install bubblewrap)"
	if s.cred != nil {
		msg += fmt.Sprintf(" and that user %s can reach the workdir and tree_dir", s.user)
	}
	return msg
}

// limitNote explains a job that a signal of its limits ended, for its stderr.
func (s *sandbox) limitNote(ws syscall.WaitStatus) string {
	if !ws.Signaled() {
		return ""
	}
	switch sig := ws.Signal(); sig {
	case syscall.SIGXCPU:
		return fmt.Sprintf("dcc-server: the compile was killed by %s: the sandbox limits each process to %s of CPU time", sig, s.cpu)
	case syscall.SIGKILL:
		return fmt.Sprintf("dcc-server: the compile was killed by %s: past the sandbox's limit of %s of CPU time per process, or out of memory", sig, s.cpu)
	case syscall.SIGXFSZ:
		return fmt.Sprintf("dcc-server: the compile was killed by %s: the sandbox limits each file it writes to %s", sig, FormatSize(s.cfg.FileSize))
	}
	return ""
}
