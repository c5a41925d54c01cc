package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
	cmd  *exec.Cmd
	log  *os.File
}

// freeAddr returns ip:port with a port that was free a moment ago.
func freeAddr(tb testing.TB, ip string) string {
	tb.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		tb.Skipf("cannot listen on %s (distinct loopback addresses stand for distinct hosts): %v", ip, err)
	}
	addr := l.Addr().String()
	require.NoError(tb, l.Close())
	return addr
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
	requireServerBinary(tb)
	h := &compileHost{addr: addr, dir: tb.TempDir()}
	var err error
	h.log, err = os.Create(filepath.Join(h.dir, "foreground.log"))
	require.NoError(tb, err)
	h.cmd = exec.Command(serverBin, "--listen", h.addr, "--jobs", fmt.Sprint(jobs), "--token", token,
		"--workdir", filepath.Join(h.dir, "work"), "-v")
	h.cmd.Env = append(os.Environ(), "DCC_DIR="+filepath.Join(h.dir, "dcc"))
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	require.NoError(tb, h.cmd.Start())
	tb.Cleanup(func() {
		h.kill(syscall.SIGTERM)
		// A host killed mid-build leaves the trees of its jobs.
		if work, err := filepath.EvalSymlinks(filepath.Join(h.dir, "work")); err == nil {
			os.RemoveAll(server.ShmTreeDir(work))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", h.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return h
		}
		if time.Now().After(deadline) {
			tb.Fatalf("dcc-server on %s did not start: %v\n%s", h.addr, err, h.output())
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

// hostsEnv is the client environment that sends compiles to hosts, each
// with njob slots.
func hostsEnv(njob int, hosts ...*compileHost) []string {
	var list []string
	for _, h := range hosts {
		list = append(list, fmt.Sprintf("%s/%d", h.addr, njob))
	}
	return []string{"DCC_HOSTS=" + strings.Join(list, " "), "DCC_TOKEN=" + testToken}
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
