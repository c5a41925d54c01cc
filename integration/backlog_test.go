package integration

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
)

// TestStreamBacklogWithinBudget floods a real dcc-server with the yamux
// defaults of a client (256 streams waiting to be acknowledged, windows up
// to 4 MiB): greedySessions sessions each open streamsPerSession streams,
// each declaring a 40 MiB request and writing 4 MiB of it, and never read
// an answer. The server reads a request once its declared size fits in its
// budget (512 MiB, so six at a time), and every stream it accepted takes
// its receive window from the budget's share for windows (256 MiB). Its
// peak resident memory (VmHWM) must stay within both above what it used
// idle, and another client must be answered meanwhile and afterwards.
// Before the server counted streams' windows, each such session could make
// it buffer 320 MiB unread (64 accepted streams × 4 MiB + 256 waiting ×
// 256 KiB). Requests declaring the whole budget would leave the other
// client waiting for it (TestDefaultLimitsInForce), so these leave room.
func TestStreamBacklogWithinBudget(t *testing.T) {
	const (
		greedySessions    = 3
		streamsPerSession = 400
		perStream         = 4 << 20
		declared          = 40 << 20
		// The requests' budget and the share for windows.
		budget = protocol.DefaultBudget + protocol.DefaultBudget/protocol.WindowShare
	)
	h := startHost(t, "127.0.0.1", 2)
	pid := h.cmd.Process.Pid
	tr := protocol.Transport{Fingerprint: h.fingerprint, Plaintext: h.fingerprint == ""}
	serves(t, h.addr, tr, "before the flood")
	idle := procStatusKB(t, pid, "VmRSS")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var sessions []*yamux.Session
	var writers sync.WaitGroup
	chunk := make([]byte, 256<<10)
	for i := range greedySessions {
		raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", h.addr)
		require.NoError(t, err)
		conn, err := protocol.SecureClient(ctx, raw, tr)
		require.NoError(t, err)
		_, err = protocol.ClientHandshake(ctx, conn, testToken, fmt.Sprintf("greedy-%d@test", i))
		require.NoError(t, err)
		sess, err := yamux.Client(conn, protocol.YamuxConfig())
		require.NoError(t, err)
		sessions = append(sessions, sess)
		for range streamsPerSession {
			writers.Go(func() {
				st, err := sess.OpenStream()
				if err != nil {
					return // the server reset it, or the session is gone
				}
				_ = st.SetWriteDeadline(time.Now().Add(8 * time.Second))
				// A raw CachePut of 40 MiB: the server takes its size
				// from the budget before reading on, when it has room.
				var hdr [10]byte
				hdr[0] = byte(protocol.MsgCachePut)
				binary.BigEndian.PutUint32(hdr[2:], declared)
				binary.BigEndian.PutUint32(hdr[6:], declared)
				if _, err := st.Write(hdr[:]); err != nil {
					return
				}
				for n := 0; n < perStream; n += len(chunk) {
					if _, err := st.Write(chunk); err != nil {
						return
					}
				}
			})
		}
	}
	// While the writers push all the server lets them, another client is
	// served.
	time.Sleep(3 * time.Second)
	serves(t, h.addr, tr, "during the flood")
	writers.Wait()
	peak := procStatusKB(t, pid, "VmHWM")
	rss := procStatusKB(t, pid, "VmRSS")
	t.Logf("dcc-server resident memory: idle %d MiB, after the flood %d MiB, peak %d MiB (budget %d MiB)",
		idle>>10, rss>>10, peak>>10, budget>>20)
	require.LessOrEqual(t, peak-idle, int64(budget>>10),
		"streams written without being read push the server past its memory budget")
	for _, s := range sessions {
		_ = s.Close()
	}
	serves(t, h.addr, tr, "after the flood")
}

// serves fails the test unless the server at addr answers a Status request
// within 10 s.
func serves(t *testing.T, addr string, tr protocol.Transport, when string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := protocol.Dial(ctx, addr, testToken, "bystander@test", tr)
	require.NoError(t, err, "connecting %s", when)
	defer s.Close()
	_, err = s.Call(ctx, &protocol.Status{}, protocol.MsgStatusResult)
	require.NoError(t, err, "the server answers another client %s", when)
}

// procStatusKB reads a "kB" field of /proc/pid/status.
func procStatusKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			var kb int64
			_, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			require.NoError(t, err)
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
