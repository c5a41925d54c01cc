package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// soakFarm is the soak's compile hosts.
type soakFarm struct {
	hosts []*soakHost
}

// soakHost is one host address of the soak and the dcc-server now on it.
type soakHost struct {
	addr       string
	h          *compileHost
	start, end serverFigures
	stops      int
	restarts   int
}

// serverFigures are what a server holds: resident memory, open file
// descriptors and goroutines (from the line SIGUSR1 makes it log).
type serverFigures struct {
	rssKB, fds, goroutines int
}

func (f serverFigures) String() string {
	return fmt.Sprintf("RSS %5.1f MiB, %3d fds, %4d goroutines", float64(f.rssKB)/1024, f.fds, f.goroutines)
}

// newSoakFarm starts the hosts, one per loopback address from 127.0.0.2,
// and takes their figures before any client comes.
func newSoakFarm(t *testing.T) *soakFarm {
	t.Helper()
	f := &soakFarm{}
	for i := range soakHosts {
		h := startHost(t, fmt.Sprintf("127.0.0.%d", 2+i), soakHostJobs)
		sh := &soakHost{addr: h.addr, h: h}
		sh.start = figures(t, h)
		f.hosts = append(f.hosts, sh)
	}
	return f
}

// hostsEnv is the clients' environment naming every host.
func (f *soakFarm) hostsEnv() []string {
	var hs []*compileHost
	for _, h := range f.hosts {
		hs = append(hs, h.h)
	}
	return hostsEnv(soakHostJobs, hs...)
}

// injectFaults strikes at random until ctx ends, one fault at a time, and
// closes the channel it returns once the last one is over (every host
// running again).
func (f *soakFarm) injectFaults(t *testing.T, ctx context.Context, rng *rand.Rand, clients []*soakClient) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			pause := time.Duration(2+rng.IntN(int(soakFaultPause/time.Second)-1)) * time.Second
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			h := f.hosts[rng.IntN(len(f.hosts))]
			switch rng.IntN(3) {
			case 0:
				d := time.Duration(2+rng.IntN(5)) * time.Second
				t.Logf("fault: %s stopped (SIGSTOP) for %s", h.addr, d)
				pid := h.h.cmd.Process.Pid
				_ = syscall.Kill(pid, syscall.SIGSTOP)
				time.Sleep(d)
				_ = syscall.Kill(pid, syscall.SIGCONT)
				h.stops++
			case 1:
				d := time.Duration(1+rng.IntN(3)) * time.Second
				t.Logf("fault: %s killed (SIGKILL), restarted on the same address after %s", h.addr, d)
				h.h.kill(syscall.SIGKILL)
				time.Sleep(d)
				h.h = launchHost(t, h.addr, soakHostJobs, testToken)
				h.restarts++
			case 2:
				c := clients[rng.IntN(len(clients))]
				if c.building.TryLock() {
					c.building.Unlock()
					continue // between two builds: not this time
				}
				if pid := c.d.pid(); pid > 0 {
					t.Logf("fault: client %d's daemon (pid %d) killed (SIGKILL) mid-build", c.id, pid)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	}()
	return done
}

// settle waits, once the clients are gone, for every host to be back to
// its goroutines at the start (up to soakIdleSettle), and takes its figures.
func (f *soakFarm) settle(t *testing.T) {
	t.Helper()
	for _, h := range f.hosts {
		deadline := time.Now().Add(soakIdleSettle)
		for {
			h.end = figures(t, h.h)
			if h.end.goroutines <= h.start.goroutines || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
	}
}

func (f *soakFarm) String() string {
	var b strings.Builder
	b.WriteString("hosts (start -> end, once idle):")
	for _, h := range f.hosts {
		fmt.Fprintf(&b, "\n  %s  %s  ->  %s  (%d stops, %d restarts)", h.addr, h.start, h.end, h.stops, h.restarts)
	}
	return b.String()
}

// statsLine is the line dcc-server logs on SIGUSR1.
var statsLine = regexp.MustCompile(`msg=stats .*?goroutines=(\d+)`)

// figures reads a running server's figures: RSS and fds from /proc, its
// goroutines from the line it logs on SIGUSR1.
func figures(t *testing.T, h *compileHost) serverFigures {
	t.Helper()
	pid := h.cmd.Process.Pid
	before := len(statsLine.FindAllString(h.output(), -1))
	require.NoError(t, syscall.Kill(pid, syscall.SIGUSR1))
	var f serverFigures
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		m := statsLine.FindAllStringSubmatch(h.output(), -1)
		if len(m) > before {
			f.goroutines, _ = strconv.Atoi(m[len(m)-1][1])
			break
		}
		require.True(t, time.Now().Before(deadline), "%s logged no stats line after SIGUSR1:\n%s", h.addr, tail(h.output(), 20))
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	f.fds = len(ents)
	f.rssKB = int(procStatusKB(t, pid, "VmRSS"))
	return f
}
