package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/server"
)

// netHost is a dcc-server in a network namespace of its own, joined to
// this one by a veth pair, with its /dev/shm and workdir on tmpfs file
// systems of its own (mounted in the server's mount namespace only), so
// that the test can cut its network, delay it and fill its disks.
type netHost struct {
	ns, ip, addr string
	// dir holds the server's DCC_DIR (kept across restarts) and workdir.
	dir string
	h   *compileHost
	// tb is the test that owns the host: its cleanup stops every server
	// started, restarts included.
	tb testing.TB
}

// runCmd runs a command, failing the test with its output.
func runCmd(tb testing.TB, argv ...string) {
	tb.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	require.NoError(tb, err, "%s: %s", strings.Join(argv, " "), out)
}

// newNetHost makes namespace i (10.N.i.2, this side 10.N.i.1, where N, from
// 100 to 219, comes from the test process's pid, so that two test processes
// on one machine, two worktrees' make test say, do not route to each
// other's hosts) and starts a server there with 2 slots. The test's cleanup
// stops the server and removes the namespace and its veth pair.
func newNetHost(tb testing.TB, i int) *netHost {
	tb.Helper()
	tag := fmt.Sprint(os.Getpid() % 100000)
	octet := 100 + os.Getpid()%120
	n := &netHost{ns: fmt.Sprintf("dccf%s-%d", tag, i), ip: fmt.Sprintf("10.%d.%d.2", octet, i), dir: tb.TempDir(), tb: tb}
	n.addr = n.ip + ":9693"
	outer, inner := fmt.Sprintf("dfo%s%d", tag, i), fmt.Sprintf("dfi%s%d", tag, i)
	runCmd(tb, "ip", "netns", "add", n.ns)
	tb.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.ns).Run() // takes its end of the pair, and so the pair
		_ = exec.Command("ip", "link", "del", outer).Run()
	})
	runCmd(tb, "ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", n.ns)
	runCmd(tb, "ip", "addr", "add", fmt.Sprintf("10.%d.%d.1/24", octet, i), "dev", outer)
	runCmd(tb, "ip", "link", "set", outer, "up")
	runCmd(tb, "ip", "netns", "exec", n.ns, "ip", "addr", "add", n.ip+"/24", "dev", inner)
	runCmd(tb, "ip", "netns", "exec", n.ns, "ip", "link", "set", inner, "up")
	runCmd(tb, "ip", "netns", "exec", n.ns, "ip", "link", "set", "lo", "up")
	require.NoError(tb, os.MkdirAll(filepath.Join(n.dir, "work"), 0o700))
	n.start(tb)
	return n
}

// start starts the server (again: a restart keeps its address and DCC_DIR,
// and, like a reboot, starts with empty tmpfs file systems).
func (n *netHost) start(tb testing.TB) {
	tb.Helper()
	requireServerBinary(tb)
	h := &compileHost{addr: n.addr, dir: n.dir}
	var err error
	h.log, err = os.OpenFile(filepath.Join(n.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(tb, err)
	work := filepath.Join(n.dir, "work")
	h.cmd = exec.Command("ip", "netns", "exec", n.ns, "sh", "-c",
		`mount -t tmpfs -o size=256m,mode=1777 tmpfs /dev/shm && mount -t tmpfs -o size=256m,mode=0700 tmpfs "$0" && exec "$@"`,
		work, serverBin, "--listen", n.addr, "--jobs", "2", "--token", testToken, "--workdir", work, "-v")
	h.cmd.Env = append(os.Environ(), "DCC_DIR="+filepath.Join(n.dir, "dcc"))
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	require.NoError(tb, h.cmd.Start())
	n.tb.Cleanup(func() { h.kill(syscall.SIGTERM) })
	n.h = h
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if acceptsTCP(n.addr) {
			// It made its TLS key (kept across restarts) before listening.
			key, err := server.LoadHostKey(filepath.Join(n.dir, "dcc", server.TLSFileName), "")
			require.NoError(tb, err)
			h.fingerprint = key.Fingerprint
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("dcc-server in %s did not start\n%s", n.ns, h.output())
		}
	}
}

// iptables runs iptables in the host's namespace.
func (n *netHost) iptables(tb testing.TB, args ...string) {
	tb.Helper()
	runCmd(tb, append([]string{"ip", "netns", "exec", n.ns, "iptables"}, args...)...)
}

// partition drops every packet in and out of the host; heal undoes it.
func (n *netHost) partition(tb testing.TB) {
	n.iptables(tb, "-I", "INPUT", "-j", "DROP")
	n.iptables(tb, "-I", "OUTPUT", "-j", "DROP")
}

func (n *netHost) heal(tb testing.TB) {
	n.iptables(tb, "-D", "INPUT", "-j", "DROP")
	n.iptables(tb, "-D", "OUTPUT", "-j", "DROP")
}

// lossRule is a random drop of p of the packets of one chain.
func lossRule(op, chain string, p float64) []string {
	return []string{op, chain, "-m", "statistic", "--mode", "random", "--probability", fmt.Sprint(p), "-j", "DROP"}
}

// fill writes into the host's /dev/shm and workdir, as the server sees
// them, until each is full; the returned func removes what it wrote.
func (n *netHost) fill(tb testing.TB) func() {
	tb.Helper()
	root := fmt.Sprintf("/proc/%d/root", n.h.cmd.Process.Pid)
	var files []string
	for _, dir := range []string{"/dev/shm", filepath.Join(n.dir, "work")} {
		name := filepath.Join(root, dir, "filler")
		f, err := os.Create(name)
		require.NoError(tb, err)
		chunk := make([]byte, 1<<20)
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
		f.Close()
		files = append(files, name)
	}
	return func() {
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
}

// startDelayProxy forwards connections on a loopback address to target,
// holding every byte for delay in each direction; the test's cleanup stops
// it.
func startDelayProxy(tb testing.TB, target string, delay time.Duration) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, d)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); delayPipe(d, c, delay) }()
			go func() { defer wg.Done(); delayPipe(c, d, delay) }()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// delayPipe copies src to dst, each chunk delay after it was read, in order.
func delayPipe(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		due time.Time
		b   []byte
	}
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	src.Close()
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	for range ch { // the reader ends with src closed
	}
}
