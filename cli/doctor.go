package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/daemon"
)

// doctorCommand is "dcc doctor".
func doctorCommand() command {
	return command{
		name: "doctor", usage: "",
		summary: "Check this setup and say what is wrong in words",
		details: `Checks, one line each, and says how to fix what is wrong:
- the configuration file and environment;
- the compilers in PATH: dcc's masquerade links found before the real ones;
- the daemon: reachable, its pid, build and uptime (or not running yet);
- the cache directory: writable, and the free space of its file system;
- each compile host: reachable, token accepted, sandbox on, its clock within
  2s of this machine's, and serving the compilers found here (or taking
  shipped ones);
- each remote storage: reachable, and whether entries are signed (a team key).
Exits with status 1 when something is wrong (FAIL); a warning (WARN) alone
exits 0.`,
		run: func(e env, args []string) error {
			if len(args) > 0 {
				if args[0] == "-h" || args[0] == "--help" {
					return flag.ErrHelp
				}
				return fmt.Errorf("%w: doctor takes no argument", errUsage)
			}
			d := &doctor{w: e.stdout}
			d.run(e.ctx)
			if d.failed > 0 {
				return fmt.Errorf("%d problem(s) found", d.failed)
			}
			fmt.Fprintln(e.stdout, "no problem found")
			return nil
		},
	}
}

// doctor runs the checks and prints one line per finding.
type doctor struct {
	w      io.Writer
	failed int
}

// Levels of a finding.
const (
	doctorOK   = "ok"
	doctorWarn = "WARN"
	doctorFail = "FAIL"
	doctorInfo = "info"
)

// say prints one finding.
func (d *doctor) say(level, subject, format string, args ...any) {
	if level == doctorFail {
		d.failed++
	}
	fmt.Fprintf(d.w, "%-5s %s: %s\n", level, subject, fmt.Sprintf(format, args...))
}

// run runs every check.
func (d *doctor) run(ctx context.Context) {
	cfg, err := config.Load()
	if err != nil {
		d.say(doctorFail, "config", "%v", err)
		return
	}
	d.say(doctorOK, "config", "%s", config.FilePath(cfg.Dir))
	d.checkPath()
	d.checkDaemon(ctx)
	d.checkCacheDir(cfg)
	d.checkHosts(ctx, cfg)
	d.checkStorage(ctx, cfg)
}

// checkDaemon reports the daemon: running (pid, build, uptime) or not yet.
func (d *doctor) checkDaemon(ctx context.Context) {
	cfg, build, err := daemonPlace()
	if err != nil {
		d.say(doctorFail, "daemon", "%v", err)
		return
	}
	c, err := daemon.Dial(ctx, cfg.SocketPath(), build)
	switch {
	case errors.Is(err, daemon.ErrNotRunning):
		d.say(doctorOK, "daemon", "not running: the first compile starts it (socket %s)", cfg.SocketPath())
		return
	case err != nil:
		d.say(doctorFail, "daemon", "%v (socket %s): \"dcc daemon stop\" and let the next compile start it again", err, cfg.SocketPath())
		return
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		d.say(doctorFail, "daemon", "it answers but not its status: %v", err)
		return
	}
	d.say(doctorOK, "daemon", "pid %d, build %s, up %s", st.PID, st.BuildID, time.Since(st.Started).Round(time.Second))
}

// minFreeSpace is the free space below which the cache's file system is
// worth a warning: the cache writes compactions and value logs there.
const minFreeSpace = 1 << 30

// checkCacheDir checks that the cache's directory is writable and its file
// system has room.
func (d *doctor) checkCacheDir(cfg *config.Config) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		d.say(doctorFail, "cache directory", "cannot make %s: %v", cfg.Dir, err)
		return
	}
	f, err := os.CreateTemp(cfg.Dir, ".doctor-*")
	if err != nil {
		d.say(doctorFail, "cache directory", "cannot write in %s: %v (set DCC_DIR to a directory of yours)", cfg.Dir, err)
		return
	}
	f.Close()
	os.Remove(f.Name())
	free, err := freeSpace(cfg.Dir)
	switch {
	case err != nil:
		d.say(doctorWarn, "cache directory", "%s is writable; its free space is unknown: %v", cfg.Dir, err)
	case free < minFreeSpace:
		d.say(doctorWarn, "cache directory", "%s has %s free: the cache (max_size %s) needs room to write; free some, or move DCC_DIR",
			cfg.Dir, roughSize(free), config.FormatSize(cfg.MaxSize))
	default:
		d.say(doctorOK, "cache directory", "%s is writable, %s free (max_size %s)", cfg.Dir, roughSize(free), config.FormatSize(cfg.MaxSize))
	}
}

// checkPath reports, for each compiler name in PATH, whether dcc's
// masquerade link comes first.
func (d *doctor) checkPath() {
	self, err := executable()
	if err != nil {
		d.say(doctorFail, "PATH", "%v", err)
		return
	}
	selfInfo, err := os.Stat(self)
	if err != nil {
		d.say(doctorFail, "PATH", "dcc's executable %s: %v", self, err)
		return
	}
	linked := 0
	for _, name := range []string{"cc", "c++", "gcc", "g++", "clang", "clang++"} {
		first, link := "", ""
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			p := filepath.Join(dir, name)
			st, err := os.Stat(p)
			if err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
				continue
			}
			if first == "" {
				first = p
			}
			if os.SameFile(st, selfInfo) {
				link = p
				break
			}
		}
		switch {
		case link == "":
			continue
		case first != link:
			d.say(doctorFail, name, "PATH finds %s before dcc's link %s: put %s first in PATH", first, link, filepath.Dir(link))
		default:
			d.say(doctorOK, name, "dcc's link %s comes first in PATH", link)
		}
		linked++
	}
	if linked == 0 {
		d.say(doctorInfo, "PATH", "no masquerade link to dcc in PATH: compiles go through dcc only as \"dcc gcc\", CC=\"dcc gcc\" or CMake's launcher (dcc install-links DIR makes links)")
	}
}

// freeSpace returns the bytes free to this user on dir's file system.
func freeSpace(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// roughSize formats n bytes for people: "12.3 GiB", "512.0 MiB".
func roughSize(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
