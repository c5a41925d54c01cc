package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dcc-build/dcc/server"
)

// Ports every simulated host listens on, each on its own address.
const (
	dccPort    = 39693
	httpPort   = 39694
	distccPort = 33632
)

// hostIP is the loopback address of host i (0-based): 127.0.base.1 and
// up, apart from the 127.0.0.x the integration tests use.
func hostIP(base, i int) string { return fmt.Sprintf("127.0.%d.%d", base+i/250, 1+i%250) }

// farmHost is one running host: a dcc-server or a distccd.
type farmHost struct {
	ip, addr string
	// entry is the host's DCC_HOSTS or DISTCC_HOSTS entry.
	entry string
	// work is a dcc-server's workdir (its jobs' trees are under
	// server.ShmTreeDir(work)); tmp is a distccd's TMPDIR.
	work, tmp string
	proc      *process
}

// farm is the set of hosts of one kind ("dcc" or "distcc").
type farm struct {
	kind  string
	hosts []*farmHost
}

// startFarm starts n hosts of kind, each with slots compile slots, in
// parallel, and waits until all listen.
func startFarm(ctx context.Context, env *Env, kind string, n, slots int) (*farm, error) {
	f := &farm{kind: kind, hosts: make([]*farmHost, n)}
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if kind == "dcc" {
				f.hosts[i], errs[i] = startDccServer(ctx, env, n, i, slots)
			} else {
				f.hosts[i], errs[i] = startDistccd(ctx, env, n, i, slots)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			f.stop()
			return nil, err
		}
	}
	return f, nil
}

// stop stops every host by its pid.
func (f *farm) stop() {
	var wg sync.WaitGroup
	for _, h := range f.hosts {
		if h != nil {
			wg.Go(func() { h.proc.stop(5 * time.Second) })
		}
	}
	wg.Wait()
	for _, h := range f.hosts {
		if h != nil && h.work != "" {
			if work, err := filepath.EvalSymlinks(h.work); err == nil {
				os.RemoveAll(server.ShmTreeDir(work))
			}
		}
	}
}

// cpu is the CPU time the hosts and what they ran used so far.
func (f *farm) cpu() time.Duration {
	pgids := map[int]bool{}
	for _, h := range f.hosts {
		pgids[h.proc.pid()] = true
	}
	return groupsCPU(pgids)
}

// entries joins the hosts' DCC_HOSTS or DISTCC_HOSTS entries.
func (f *farm) entries() string {
	list := make([]string, len(f.hosts))
	for i, h := range f.hosts {
		list[i] = h.entry
	}
	return strings.Join(list, " ")
}

// startDccServer starts dcc-server number i of n: sandbox off (so that hundreds
// fit on two CPUs), the stand-in compiler as its one toolchain, a status
// page for its metrics.
func startDccServer(ctx context.Context, env *Env, n, i, slots int) (*farmHost, error) {
	ip := hostIP(env.IPBase, i)
	dir := filepath.Join(env.Work, "hosts", fmt.Sprintf("dcc-h%d-%d", n, i))
	dccDir := filepath.Join(dir, "dcc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("host %s: %w", ip, err)
	}
	if err := os.Mkdir(dccDir, 0o700); err != nil {
		return nil, fmt.Errorf("host %s: %w", ip, err)
	}
	conf := fmt.Sprintf("tokens = [%q]\nsandbox = \"off\"\ntoolchains = [%q]\n", Token, env.StandIn)
	if err := os.WriteFile(filepath.Join(dccDir, server.ConfigFileName), []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("host %s: %w", ip, err)
	}
	h := &farmHost{ip: ip, addr: fmt.Sprintf("%s:%d", ip, dccPort), work: filepath.Join(dir, "work")}
	if err := checkFree(h.addr); err != nil {
		return nil, err
	}
	argv := []string{env.Server, "--listen", h.addr, "--jobs", fmt.Sprint(slots), "--workdir", h.work,
		"--http", fmt.Sprintf("%s:%d", ip, httpPort)}
	// PATH: only the assembler, which the stand-in's gcc names by
	// -print-prog-name=as, so the host finds no other compiler to probe.
	penv := []string{"DCC_DIR=" + dccDir, "PATH=" + env.Tools, "HOME=" + dir}
	argv, err := env.hostArgv(argv)
	if err != nil {
		return nil, err
	}
	if h.proc, err = startProcess(argv, penv, dir, filepath.Join(dir, "server.log")); err != nil {
		return nil, err
	}
	if err := waitTCP(ctx, h.addr, h.proc); err != nil {
		h.proc.stop(time.Second)
		return nil, fmt.Errorf("dcc-server %s: %w", ip, err)
	}
	key, err := server.LoadHostKey(filepath.Join(dccDir, server.TLSFileName), "")
	if err != nil {
		h.proc.stop(time.Second)
		return nil, fmt.Errorf("dcc-server %s: %w", ip, err)
	}
	h.entry = fmt.Sprintf("%s/%d,fingerprint=%s", h.addr, slots, key.Fingerprint)
	return h, nil
}

// startDistccd starts distccd number i of n with slots jobs, allowing loopback
// clients, with the stand-in first in its PATH (it runs "gcc" from there).
func startDistccd(ctx context.Context, env *Env, n, i, slots int) (*farmHost, error) {
	ip := hostIP(env.IPBase, i)
	dir := filepath.Join(env.Work, "hosts", fmt.Sprintf("distcc-h%d-%d", n, i))
	h := &farmHost{ip: ip, addr: fmt.Sprintf("%s:%d", ip, distccPort), tmp: filepath.Join(dir, "tmp")}
	if err := checkFree(h.addr); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(h.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("distccd %s: %w", ip, err)
	}
	argv := []string{env.Distccd, "--daemon", "--no-detach", "--listen", ip, "--port", fmt.Sprint(distccPort),
		"--allow", "127.0.0.0/8", "--jobs", fmt.Sprint(slots), "--log-stderr", "--log-level", "error"}
	if os.Geteuid() == 0 {
		argv = append(argv, "--user", "nobody")
		if err := os.Chmod(h.tmp, 0o777); err != nil {
			return nil, fmt.Errorf("distccd %s: %w", ip, err)
		}
	}
	penv := []string{"PATH=" + filepath.Dir(env.StandIn) + ":/usr/bin:/bin", "TMPDIR=" + h.tmp, "HOME=" + dir}
	argv, err := env.hostArgv(argv)
	if err != nil {
		return nil, err
	}
	if h.proc, err = startProcess(argv, penv, dir, filepath.Join(dir, "distccd.log")); err != nil {
		return nil, err
	}
	if err := waitTCP(ctx, h.addr, h.proc); err != nil {
		h.proc.stop(time.Second)
		return nil, fmt.Errorf("distccd %s: %w", ip, err)
	}
	h.entry = fmt.Sprintf("%s/%d", h.addr, slots)
	return h, nil
}
