package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/server"
)

// testToken is the token the test servers accept (dcc-server wants 16
// characters or more).
const testToken = "integration-token-0123456789abcdef"

// compileHost is one dcc-server the test started, on a loopback address of
// its own.
type compileHost struct {
	addr string
	dir  string
	// fingerprint is the host's TLS key, which clients pin.
	fingerprint string
	cmd         *exec.Cmd
	log         *os.File
}

// freeAddr returns ip:port with a port that was free a moment ago, below
// Linux's ephemeral range (32768 and up): a port the kernel gives out for
// ":0" could go, between this look and the host's listening, to another
// test process's listener on ":0" (remotetest's), which the host's wait
// would then take for the host.
func freeAddr(tb testing.TB, ip string) string {
	tb.Helper()
	var err error
	for range 100 {
		var l net.Listener
		l, err = net.Listen("tcp", fmt.Sprintf("%s:%d", ip, 20000+rand.IntN(12000)))
		if err == nil {
			addr := l.Addr().String()
			require.NoError(tb, l.Close())
			return addr
		}
	}
	tb.Skipf("cannot listen on %s (distinct loopback addresses stand for distinct hosts): %v", ip, err)
	return ""
}

// acceptsTCP reports whether something listens on addr: a connection
// that is not to itself. Dialing a loopback address and port nothing
// listens on can connect the socket to itself, when the kernel happens to
// pick that port as its source (TCP's simultaneous open): the port
// freeAddr found free comes from that same range.
func acceptsTCP(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	return !selfConnected(c)
}

// selfConnected reports whether c is connected to itself.
func selfConnected(c net.Conn) bool {
	return c.LocalAddr().String() == c.RemoteAddr().String()
}

// startHost starts dcc-server in the foreground on ip with jobs slots and
// the test token, and waits until it accepts connections. The test stops it
// by its own pid.
func startHost(tb testing.TB, ip string, jobs int) *compileHost {
	tb.Helper()
	return launchHost(tb, freeAddr(tb, ip), jobs, testToken)
}

// launchHost starts dcc-server on addr accepting token.
func launchHost(tb testing.TB, addr string, jobs int, token string) *compileHost {
	tb.Helper()
	return launchHostWire(tb, addr, jobs, token, false)
}

// launchHostEnv starts dcc-server on addr accepting token, with env added
// to its environment.
func launchHostEnv(tb testing.TB, addr string, jobs int, token string, env ...string) *compileHost {
	tb.Helper()
	return launchHostWire(tb, addr, jobs, token, false, env...)
}

// startPlainHost is startHost for a host with tls = "off": clients reach
// it in plain TCP.
func startPlainHost(tb testing.TB, ip string, jobs int) *compileHost {
	tb.Helper()
	return launchHostWire(tb, freeAddr(tb, ip), jobs, testToken, true)
}

// launchHostWire starts dcc-server on addr accepting token, speaking TLS
// or (plaintext) plain TCP, with env added to its environment.
func launchHostWire(tb testing.TB, addr string, jobs int, token string, plaintext bool, env ...string) *compileHost {
	tb.Helper()
	conf := ""
	if plaintext {
		conf = fmt.Sprintf("tokens = [%q]\ntls = \"off\"\n", token)
	}
	return launchHostConfig(tb, addr, jobs, token, conf, env...)
}

// startHostServing is startHost for a host that serves the compilers
// toolchains (paths) besides those it finds on PATH.
func startHostServing(tb testing.TB, ip string, jobs int, toolchains ...string) *compileHost {
	tb.Helper()
	list := make([]string, len(toolchains))
	for i, t := range toolchains {
		list[i] = fmt.Sprintf("%q", t)
	}
	conf := fmt.Sprintf("tokens = [%q]\ntoolchains = [%s]\n", testToken, strings.Join(list, ", "))
	return launchHostConfig(tb, freeAddr(tb, ip), jobs, testToken, conf)
}

// launchHostConfig starts dcc-server on addr accepting token, with the
// config file conf (none when empty; with tls = "off" in it, reached in
// plain TCP) and env added to its environment.
func launchHostConfig(tb testing.TB, addr string, jobs int, token, conf string, env ...string) *compileHost {
	tb.Helper()
	return launchHostSetup(tb, addr, jobs, token, hostSetup{conf: conf, env: env})
}

// hostSetup is how a test host differs from the default one.
type hostSetup struct {
	// conf is the server.conf written before the start ("" for none); with
	// tls = "off" the host speaks plain TCP.
	conf string
	// wrap runs the server under these arguments (unshare ... --), which
	// must end by exec'ing it so that its pid is the server's.
	wrap []string
	// env is added to the server's environment.
	env []string
}

// launchHostSetup starts dcc-server on addr accepting token, set up as
// setup says.
func launchHostSetup(tb testing.TB, addr string, jobs int, token string, setup hostSetup) *compileHost {
	tb.Helper()
	requireServerBinary(tb)
	h := &compileHost{addr: addr, dir: tb.TempDir()}
	plaintext := false
	if setup.conf != "" {
		dccDir := filepath.Join(h.dir, "dcc")
		file := filepath.Join(dccDir, server.ConfigFileName)
		cfg, err := server.ParseConfig(file, dccDir, []byte(setup.conf))
		require.NoError(tb, err, "test host config")
		plaintext = cfg.Plaintext
		require.NoError(tb, os.MkdirAll(dccDir, 0o700))
		require.NoError(tb, os.WriteFile(file, []byte(setup.conf), 0o600))
	}
	var err error
	h.log, err = os.Create(filepath.Join(h.dir, "foreground.log"))
	require.NoError(tb, err)
	args := append(append([]string(nil), setup.wrap...), serverBin, "--listen", h.addr, "--jobs", fmt.Sprint(jobs), "--token", token,
		"--workdir", filepath.Join(h.dir, "work"), "-v")
	h.cmd = exec.Command(args[0], args[1:]...)
	h.cmd.Env = append(append(os.Environ(), "DCC_DIR="+filepath.Join(h.dir, "dcc")), setup.env...)
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	require.NoError(tb, h.cmd.Start())
	tb.Cleanup(func() {
		h.kill(syscall.SIGTERM)
		// A host killed mid-build leaves the trees of its jobs.
		if work, err := filepath.EvalSymlinks(filepath.Join(h.dir, "work")); err == nil {
			os.RemoveAll(server.ShmTreeDir(work))
			hashDir := filepath.Dir(server.SharedToolchainDir(work))
			os.RemoveAll(hashDir)
			os.Remove(filepath.Dir(hashDir)) // /var/tmp/dcc-server-UID, once no other host uses it
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if acceptsTCP(h.addr) {
			if plaintext {
				return h
			}
			// It made its TLS key before listening.
			key, err := server.LoadHostKey(filepath.Join(h.dir, "dcc", server.TLSFileName), "")
			require.NoError(tb, err)
			require.False(tb, key.Created, "the server made its key before listening")
			h.fingerprint = key.Fingerprint
			return h
		}
		if time.Now().After(deadline) {
			tb.Fatalf("dcc-server on %s did not start\n%s", h.addr, h.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends sig to the server and waits for it to exit (SIGKILL after 5 s).
func (h *compileHost) kill(sig syscall.Signal) {
	if h.cmd.Process == nil || h.cmd.ProcessState != nil {
		return
	}
	_ = h.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = h.cmd.Process.Kill()
		<-done
	}
	h.log.Close()
}

// output is what the server printed so far.
func (h *compileHost) output() string {
	b, _ := os.ReadFile(h.log.Name())
	return string(b)
}

// load asks the host for its compile slots, the compiles running and those
// waiting, as a client's Status request does.
func (h *compileHost) load(tb testing.TB) protocol.Load {
	tb.Helper()
	return h.status(tb).Load
}

// jobDirs are the directories under which the host runs its compiles, each
// with a trailing slash: its workdir (one job-* directory per compile) and
// its trees under /dev/shm (compiles sent with their sources run in theirs).
func (h *compileHost) jobDirs(tb testing.TB) []string {
	tb.Helper()
	work, err := filepath.EvalSymlinks(filepath.Join(h.dir, "work"))
	require.NoError(tb, err)
	return []string{work + "/", server.ShmTreeDir(work) + "/"}
}

// leftJobs lists the host's job directories: a compile removes its own when
// it ends, so one left by a host that was killed shows it died in the middle
// of that compile. They are in its workdir or, when the host runs its
// sandboxed jobs as another user (it was started as root), beside its
// trees; sandboxed, in the directory of the compile slot that ran them.
func (h *compileHost) leftJobs(tb testing.TB) []string {
	tb.Helper()
	var jobs []string
	for _, dir := range h.jobDirs(tb) {
		for _, pattern := range []string{"job-*", "slot-*/job-*"} {
			found, err := filepath.Glob(filepath.Join(dir, pattern))
			require.NoError(tb, err)
			jobs = append(jobs, found...)
		}
	}
	return jobs
}

// hostProcess is a process a host started for a compile.
type hostProcess struct {
	pid, pgid int
	state     byte // as /proc/PID/stat has it: R, S, T (stopped), Z, ...
}

// compiles lists the processes (the compiler driver, cc1, as) working in one
// of the host's job directories or trees, found by their working
// directories in /proc. The server starts each compile in a process group of
// its own, so pgid names the whole compile.
func (h *compileHost) compiles(tb testing.TB) []hostProcess {
	tb.Helper()
	dirs := h.jobDirs(tb)
	entries, err := os.ReadDir("/proc")
	require.NoError(tb, err)
	var out []hostProcess
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err != nil || !hasAnyPrefix(cwd+"/", dirs) {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone meanwhile
		}
		// "PID (comm) STATE PPID PGRP ...": comm may hold anything but ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 3 {
			continue
		}
		pgid, err := strconv.Atoi(fields[2])
		if err != nil {
			continue
		}
		out = append(out, hostProcess{pid: pid, pgid: pgid, state: fields[0][0]})
	}
	return out
}

// hasAnyPrefix reports whether s starts with one of prefixes.
func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// freezeCompile waits until the host runs a compile and stops it (SIGSTOP to
// its process group), so that the compile stays in flight for as long as the
// test wants; it returns the group. It gives up, failing the test, when
// stop closes first or after a minute. The test's cleanup kills the group.
func (h *compileHost) freezeCompile(tb testing.TB, stop <-chan struct{}) int {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		for _, p := range h.compiles(tb) {
			if p.pgid <= 1 || p.pgid == syscall.Getpgrp() {
				continue // not a group of the host's own making
			}
			if syscall.Kill(-p.pgid, syscall.SIGSTOP) != nil {
				continue // the compile ended meanwhile
			}
			tb.Cleanup(func() { _ = syscall.Kill(-p.pgid, syscall.SIGKILL) })
			if h.groupStopped(tb, p.pgid) {
				return p.pgid
			}
			// Ended just before the signal, or not seen stopped in time:
			// never leave a group stopped that nobody will continue (its
			// job would hang until the client's receive timeout).
			_ = syscall.Kill(-p.pgid, syscall.SIGCONT)
		}
		select {
		case <-stop:
			tb.Fatalf("no compile ran on %s before the build ended", h.addr)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no compile ran on %s within a minute", h.addr)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// groupStopped waits until a process of the compile group pgid shows as
// stopped, and reports whether one did: a signal takes effect when its
// process next runs, which on a loaded machine is not at once. False when
// none of the group is left, or after 10 s.
func (h *compileHost) groupStopped(tb testing.TB, pgid int) bool {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		members := 0
		for _, q := range h.compiles(tb) {
			if q.pgid != pgid {
				continue
			}
			if q.state == 'T' {
				return true
			}
			members++
		}
		if members == 0 {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

// hostsEnv is the client environment that sends compiles to hosts, each
// with njob slots.
func hostsEnv(njob int, hosts ...*compileHost) []string {
	var list []string
	for _, h := range hosts {
		list = append(list, h.hostArg(njob))
	}
	return []string{"DCC_HOSTS=" + strings.Join(list, " "), "DCC_TOKEN=" + testToken}
}

// hostArg is the host's DCC_HOSTS entry with njob: its address and
// fingerprint, or plaintext for a host without TLS.
func (h *compileHost) hostArg(njob int) string {
	if h.fingerprint == "" {
		return fmt.Sprintf("%s/%d,plaintext", h.addr, njob)
	}
	return fmt.Sprintf("%s/%d,fingerprint=%s", h.addr, njob, h.fingerprint)
}

// silentHost listens on ip and accepts connections without ever answering,
// until the test ends.
func silentHost(tb testing.TB, ip string) string {
	tb.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		tb.Skipf("cannot listen on %s: %v", ip, err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never read
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// requireServerBinary skips when dcc-server was not built.
func requireServerBinary(tb testing.TB) {
	tb.Helper()
	if serverBin == "" {
		tb.Fatal("dcc-server was not built")
	}
}

// A socket connected to itself (a dial to a port nothing listens on whose
// source port the kernel picked the same) is no listener.
func TestSelfConnectedIsNoListener(t *testing.T) {
	addr := freeAddr(t, "127.0.0.2")
	local, err := net.ResolveTCPAddr("tcp", addr)
	require.NoError(t, err)
	d := net.Dialer{LocalAddr: local, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("this kernel does not connect a socket to itself: %v", err)
	}
	defer c.Close()
	assert.True(t, selfConnected(c), "%v to %v", c.LocalAddr(), c.RemoteAddr())

	l, err := net.Listen("tcp", "127.0.0.2:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		if a, err := l.Accept(); err == nil {
			a.Close()
		}
	}()
	assert.True(t, acceptsTCP(l.Addr().String()), "a listener")
}
