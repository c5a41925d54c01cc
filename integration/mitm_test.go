package integration

import (
	"bytes"
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
)

// The man in the middle: a TCP proxy between a real client (the daemon
// behind dcc) and a real dcc-server, which records, alters or replays what
// passes.

// mitmSecret is in the compiled source: the proxy must never see it.
const mitmSecret = "dcc-mitm-secret-5b1e0c97d3"

// mitmSource is a unit that goes to the host (DCC_LOCAL_THRESHOLD=0) with
// its source (remote_sources = all, the default): 16 KiB of data, so that
// its request stands out from the handshake (under 2 KiB from the client)
// and its object from the small frames of the session.
var mitmSource = `const char *secret = "` + mitmSecret + `";
int answer(int x) { return x * 42 + (int)secret[0]; }
` + dataArraySource("mitm_data", pseudoRandom(14, 16<<10))

// capture is what passed through the proxy on one connection.
type capture struct{ up, down []byte }

// mitmProxy forwards connections from its address to a host, recording
// both directions. With flip set it changes one byte of the host's first
// sizeable reply once the client has sent a request: the object's record.
type mitmProxy struct {
	addr, upstream string
	flip           bool
	ln             net.Listener
	wg             sync.WaitGroup
	mu             sync.Mutex
	caps           []*capture
	flipped        bool
	conns          []net.Conn
}

func startProxy(t *testing.T, ip, upstream string, flip bool) *mitmProxy {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	p := &mitmProxy{addr: ln.Addr().String(), upstream: upstream, flip: flip, ln: ln}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *mitmProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		cp := &capture{}
		p.mu.Lock()
		p.caps = append(p.caps, cp)
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			p.pipe(u, c, &cp.up, false)
			_ = u.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.pipe(c, u, &cp.down, true)
			_ = c.Close()
		}()
	}
}

// pipe copies src to dst, appending what passes to rec. On the host's side
// (fromHost), a flipping proxy alters one byte of the first chunk of 200
// bytes or more read once a client has sent its request (more than 8 KiB):
// the reply that carries the object.
func (p *mitmProxy) pipe(dst, src net.Conn, rec *[]byte, fromHost bool) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			p.mu.Lock()
			*rec = append(*rec, chunk...)
			if fromHost && p.flip && n >= 200 && p.armedNow() {
				chunk[n/2] ^= 0x40
				p.flip = false
				p.flipped = true
			}
			p.mu.Unlock()
			if _, werr := dst.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// armedNow reports whether some client has sent its request. p.mu is held.
func (p *mitmProxy) armedNow() bool {
	for _, c := range p.caps {
		if len(c.up) > 8192 {
			return true
		}
	}
	return false
}

// captures returns copies of what passed so far.
func (p *mitmProxy) captures() []capture {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]capture, len(p.caps))
	for i, c := range p.caps {
		out[i] = capture{up: bytes.Clone(c.up), down: bytes.Clone(c.down)}
	}
	return out
}

// mitmEnv is a behaviour environment whose compiles go to addr (pinning
// fingerprint), every unit sent.
func mitmEnv(t *testing.T, addr, fingerprint string) *behaviourEnv {
	return newBehaviourEnv(t, "DCC_HOSTS="+addr+"/2,fingerprint="+fingerprint, "DCC_TOKEN="+testToken,
		"DCC_LOCAL_THRESHOLD=0", "DCC_CONNECT_TIMEOUT=5s")
}

// TestMITMSeesNoSourceAndReplaysAreRefused: everything a compile sends and
// receives passes the proxy encrypted (the source's text is nowhere in it);
// the client's bytes replayed to the host, and the host's replayed to a new
// client, start no session.
func TestMITMSeesNoSourceAndReplaysAreRefused(t *testing.T) {
	t.Parallel()
	host := startHost(t, "127.0.0.6", 2)
	proxy := startProxy(t, "127.0.0.7", host.addr, false)
	e := mitmEnv(t, proxy.addr, host.fingerprint)
	writeFiles(t, e.work, map[string]string{"secret.c": mitmSource})
	e.compile(e.work, nil, []string{"gcc", "-O2", "-c", "secret.c", "-o", "secret.o"}, "secret.o")
	st := e.stats()
	require.Equal(t, int64(1), st["remote"], "the unit was compiled on the host, through the proxy: %v", st)
	e.stopDaemon() // the session ends: its capture is complete

	caps := proxy.captures()
	require.NotEmpty(t, caps)
	var up, down int
	for _, c := range caps {
		up, down = up+len(c.up), down+len(c.down)
		for _, b := range [][]byte{c.up, c.down} {
			assert.False(t, bytes.Contains(b, []byte(mitmSecret)), "the source's text crossed the wire in clear")
			assert.False(t, bytes.Contains(b, []byte("answer")), "a symbol of the source crossed the wire in clear")
		}
	}
	assert.Greater(t, up, 16<<10, "the request (16 KiB of random data in its source) went through the proxy")
	t.Logf("proxy saw %d bytes up, %d down in %d connections", up, down, len(caps))

	// The client's side of the session, replayed to the host.
	connected := strings.Count(host.output(), "client connected")
	for _, c := range caps {
		conn, err := net.DialTimeout("tcp", host.addr, 5*time.Second)
		require.NoError(t, err)
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = conn.Write(c.up)
		start := time.Now()
		_, _ = io.Copy(io.Discard, conn) // until the host closes it (EOF or reset)
		assert.Less(t, time.Since(start), 5*time.Second, "the host closes the replayed connection at once")
		conn.Close()
	}
	assert.Eventually(t, func() bool { return strings.Contains(host.output(), "handshake failed") }, 5*time.Second, 20*time.Millisecond,
		"the host says why it refused the replay: %s", host.output())
	assert.Equal(t, connected, strings.Count(host.output(), "client connected"), "a replayed session was accepted")

	// The host's side, replayed to a new client.
	ln, err := net.Listen("tcp", "127.0.0.7:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write(caps[0].down)
		_, _ = io.Copy(io.Discard, c)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = protocol.Dial(ctx, ln.Addr().String(), testToken, "replay@test", protocol.Transport{Fingerprint: host.fingerprint})
	require.Error(t, err, "a client accepted a replayed session")
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "refused at once")
}

// TestMITMFlippedReplyNeverReachesTheCache: a byte of the host's reply
// changed on the way is caught by TLS; the unit is compiled here instead
// (a fallback) and the object, and what the cache then serves, is the
// compiler's own.
func TestMITMFlippedReplyNeverReachesTheCache(t *testing.T) {
	t.Parallel()
	host := startHost(t, "127.0.0.6", 2)
	proxy := startProxy(t, "127.0.0.8", host.addr, true)
	e := mitmEnv(t, proxy.addr, host.fingerprint)
	writeFiles(t, e.work, map[string]string{"secret.c": mitmSource})
	argv := []string{"gcc", "-O2", "-c", "secret.c", "-o", "secret.o"}
	ref := e.compile(e.work, nil, argv, "secret.o")
	proxy.mu.Lock()
	flipped := proxy.flipped
	proxy.mu.Unlock()
	require.True(t, flipped, "the proxy changed a byte of the reply")
	e.wantStats(statCounters{"remote": 0, "fallbacks": 1, "errors": 0})
	waitRaceGuard()
	e.rerun(e.work, nil, ref) // from the cache: the compiler's object, not an altered one
	assert.Equal(t, int64(1), e.stats()["fallbacks"])
}

// TestMITMWrongPinRefused: a host whose key is not the pinned one is never
// sent a unit, and dcc hosts says which key it showed.
func TestMITMWrongPinRefused(t *testing.T) {
	t.Parallel()
	host := startHost(t, "127.0.0.6", 2)
	pem, err := protocol.NewCertificatePEM("impostor")
	require.NoError(t, err)
	_, wrong, err := protocol.LoadCertificatePEM(pem)
	require.NoError(t, err)
	e := mitmEnv(t, host.addr, wrong)
	writeFiles(t, e.work, map[string]string{"secret.c": mitmSource})
	e.compile(e.work, nil, []string{"gcc", "-O2", "-c", "secret.c", "-o", "secret.o"}, "secret.o")
	assert.Zero(t, e.stats()["remote"])
	assert.NotContains(t, host.output(), "client connected")

	cmd := exec.Command(dccBin, "hosts")
	cmd.Env = append(cmd.Environ(), e.env...)
	out, _ := cmd.CombinedOutput()
	assert.Contains(t, string(out), "host's key is "+host.fingerprint+", the pinned fingerprint is "+wrong, "%s", out)
}
