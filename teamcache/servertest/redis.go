//go:build unix

package servertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dcc-build/dcc/teamcache/redisstore"
)

// RedisOptions configure the redis-server StartRedis starts.
type RedisOptions struct {
	// Password, when set, is required of every client (requirepass).
	Password string
	// Unix makes the server listen on a unix socket only, not on TCP.
	Unix bool
}

// Redis is Debian's redis-server on 127.0.0.1 (or a unix socket), without
// persistence, as a team would run for a ccache-style cache.
type Redis struct {
	// Addr is "127.0.0.1:PORT"; empty with RedisOptions.Unix.
	Addr string
	// Socket is the unix socket's path; empty without RedisOptions.Unix.
	Socket string
	// Password is the one clients must give; empty for none.
	Password string

	bin, dir string
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	client   *redis.Client
}

// redisStartTimeout bounds the wait for a server to answer PING.
const redisStartTimeout = 10 * time.Second

// redisErrBind is a start that failed because the port was taken.
var redisErrBind = errors.New("address already in use")

// StartRedis starts redis-server in the foreground with its log in
// tb.TempDir(), on a free port (or a socket), and waits until it answers
// PING (10 s at most). tb.Cleanup stops it. The test is skipped when
// redis-server is not installed, or fails when DCC_REQUIRE_REAL=1.
func StartRedis(tb testing.TB, opts RedisOptions) *Redis {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("DCC_REQUIRE_REAL") == "1" {
			tb.Fatalf("redis-server is not installed (apt-get install redis-server): %v", err)
		}
		tb.Skipf("redis-server is not installed (apt-get install redis-server): %v", err)
	}
	r := &Redis{Password: opts.Password, bin: bin, dir: tb.TempDir()}
	if opts.Unix {
		// Not in tb.TempDir(): a socket's path is limited to 107 bytes.
		sockDir, err := os.MkdirTemp("", "dcc-redis-")
		if err != nil {
			tb.Fatalf("redis: %v", err)
		}
		tb.Cleanup(func() { _ = os.RemoveAll(sockDir) })
		r.Socket = filepath.Join(sockDir, "redis.sock")
	}
	tb.Cleanup(r.redisStop)
	for attempt := 1; ; attempt++ {
		if !opts.Unix {
			r.Addr, err = redisFreeAddr()
			if err != nil {
				tb.Fatalf("redis: %v", err)
			}
		}
		err = r.redisStart()
		if err == nil {
			return r
		}
		if !errors.Is(err, redisErrBind) || attempt == 5 {
			tb.Fatalf("redis: %v", err)
		}
		r.redisCloseClient() // it has the old address
	}
}

// redisFreeAddr returns a loopback address no one listens on just now.
func redisFreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// redisStart starts the server at r.Addr or r.Socket and waits until it
// answers; redisErrBind when its port was taken.
func (r *Redis) redisStart() error {
	args := []string{"--bind", "127.0.0.1", "--port", "0", "--dir", r.dir,
		"--logfile", filepath.Join(r.dir, "redis.log"), "--daemonize", "no",
		"--save", "", "--appendonly", "no"}
	if r.Addr != "" {
		_, port, _ := net.SplitHostPort(r.Addr)
		args[3] = port
	}
	if r.Socket != "" {
		args = append(args, "--unixsocket", r.Socket, "--unixsocketperm", "700")
	}
	if r.Password != "" {
		args = append(args, "--requirepass", r.Password)
	}
	out, err := os.Create(filepath.Join(r.dir, "redis.out"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(r.bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", r.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	if err := r.redisWaitReady(exited); err != nil {
		out, _ := os.ReadFile(out.Name())
		logs, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
		if strings.Contains(string(logs), "Address already in use") {
			return redisErrBind
		}
		return fmt.Errorf("%w; its output:\n%s%s", err, out, logs)
	}
	return nil
}

// redisWaitReady waits until the server accepts connections and answers
// PING, or exits, or redisStartTimeout passes.
func (r *Redis) redisWaitReady(exited <-chan struct{}) error {
	network, addr := r.redisNetAddr()
	deadline := time.Now().Add(redisStartTimeout)
	for ; ; time.Sleep(10 * time.Millisecond) {
		select {
		case <-exited:
			return errors.New("redis-server exited at start")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server does not answer after %s", redisStartTimeout)
		}
		// Dial first: go-redis would log every refused connection.
		c, err := net.DialTimeout(network, addr, time.Second)
		if err != nil {
			continue
		}
		_ = c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err = r.Client().Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
	}
}

// redisNetAddr returns the network and address clients dial.
func (r *Redis) redisNetAddr() (string, string) {
	if r.Socket != "" {
		return "unix", r.Socket
	}
	return "tcp", r.Addr
}

// URL returns the server's URL for remote_storage: redis://[:PASSWORD@]
// 127.0.0.1:PORT, or redis+unix:PATH (redis+unix://:PASSWORD@/PATH).
func (r *Redis) URL() string {
	u := &url.URL{Scheme: "redis", Host: r.Addr}
	if r.Socket != "" {
		u = &url.URL{Scheme: "redis+unix", Path: r.Socket, OmitHost: true}
	}
	if r.Password != "" {
		u.User, u.OmitHost = url.UserPassword("", r.Password), false
	}
	return u.String()
}

// Client returns a client of the server (database 0), which the test's
// cleanup closes: for tests that inspect or change the server directly.
func (r *Redis) Client() *redis.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil {
		network, addr := r.redisNetAddr()
		r.client = redis.NewClient(&redis.Options{Network: network, Addr: addr,
			Password: r.Password, DialTimeout: time.Second, ReadTimeout: 5 * time.Second,
			MaxRetries: -1, DialerRetries: 1, PoolSize: 2, DisableIdentity: true,
			ContextTimeoutEnabled: true})
	}
	return r.client
}

// Set stores value as the entry of key (under redisstore.KeyPrefix), as
// a redisstore.Store would: for tests that forge entries.
func (r *Redis) Set(ctx context.Context, key string, value []byte) error {
	return r.Client().Set(ctx, redisstore.KeyPrefix+key, value, 0).Err()
}

// Get returns the entry of key (under redisstore.KeyPrefix) as stored.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := r.Client().Get(ctx, redisstore.KeyPrefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	return v, err == nil, err
}

// Pause stops the server (SIGSTOP): the kernel still accepts connections
// and requests, nothing answers them. Resume undoes it.
func (r *Redis) Pause() { r.redisSignal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (r *Redis) Resume() { r.redisSignal(syscall.SIGCONT) }

// redisSignal sends sig to the server, if it runs.
func (r *Redis) redisSignal(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		_ = r.cmd.Process.Signal(sig)
	}
}

// Pid is the server's process id (0 once stopped), for a test that has
// another process kill it.
func (r *Redis) Pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// Kill kills the server at once (SIGKILL), as a crash would, and waits
// until it is gone: connections are then refused.
func (r *Redis) Kill() { r.redisHalt(false) }

// Restart stops the server (SIGTERM, as the cleanup does) if it runs and
// starts it again at the same address, empty (there is no persistence).
func (r *Redis) Restart(tb testing.TB) {
	tb.Helper()
	r.redisHalt(true)
	if err := r.redisStart(); err != nil {
		tb.Fatalf("redis: restart: %v", err)
	}
}

// redisStop is the cleanup: it closes the client and stops the server.
func (r *Redis) redisStop() {
	r.redisCloseClient()
	r.redisHalt(true)
}

// redisCloseClient closes the client, if any; Client makes a new one.
func (r *Redis) redisCloseClient() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		_ = r.client.Close()
		r.client = nil
	}
}

// redisHalt stops the server by its pid and waits until it is gone:
// gently, SIGTERM (then SIGCONT, in case it is paused) and SIGKILL after
// 3 s; or SIGKILL at once.
func (r *Redis) redisHalt(gently bool) {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	if gently {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Process.Signal(syscall.SIGCONT)
		select {
		case <-exited:
			return
		case <-time.After(3 * time.Second):
		}
	}
	_ = cmd.Process.Kill()
	<-exited
}
