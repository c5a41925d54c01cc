//go:build linux

package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
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

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dcc-build/dcc/teamcache/s3store"
)

// S3 is SeaweedFS's S3 gateway on 127.0.0.1: `weed mini`, its master,
// volume server, filer and gateway in one process, with one bucket and one
// identity whose keys every request must be signed with.
type S3 struct {
	// Endpoint is "http://127.0.0.1:PORT"; Bucket exists; Prefix and Region
	// are those URL names; AccessKey and SecretKey are the identity's.
	Endpoint, Bucket, Prefix, Region, AccessKey, SecretKey string

	dir, log string
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	ports    []int
	client   *minio.Client
}

// seaweedStartTimeout bounds the wait for a gateway that stores objects
// (about 5 s: weed's filer waits 3 s for peers on a fresh store, then 1 s
// for its lock ring); seaweedStopTimeout, the wait after SIGTERM.
const seaweedStartTimeout, seaweedStopTimeout = 30 * time.Second, 5 * time.Second

// StartS3 starts weed mini with its data and log in tb.TempDir(), on free
// ports, creates the bucket and waits until an object can be written (30 s
// at most). tb.Cleanup stops it. The test is skipped when the binary
// (<module root>/.work/seaweedfs/weed) is not built, or fails when
// DCC_REQUIRE_REAL=1.
func StartS3(tb testing.TB) *S3 {
	tb.Helper()
	bin, err := seaweedFindBinary()
	if err != nil {
		if os.Getenv("DCC_REQUIRE_REAL") == "1" {
			tb.Fatalf("SeaweedFS: %v: run scripts/build-seaweedfs.sh", err)
		}
		tb.Skipf("SeaweedFS: %v: run scripts/build-seaweedfs.sh", err)
	}
	s := &S3{Bucket: "dcc-team-cache", Prefix: "dcc", Region: "us-east-1",
		AccessKey: "DCC" + rand.Text()[:16], SecretKey: rand.Text(), dir: tb.TempDir()}
	s.log = filepath.Join(s.dir, "weed.log")
	tb.Cleanup(func() { s.seaweedStop(tb) })
	start := time.Now()
	// A port another process takes between our probe and weed's bind makes
	// weed exit: try again on other ports.
	for attempt := 1; ; attempt++ {
		cmd, err := s.seaweedCommand(bin)
		if err == nil {
			if err = s.seaweedRun(cmd); err == nil {
				break
			}
		}
		s.seaweedStop(tb)
		if attempt == 3 || !errors.Is(err, seaweedExited) {
			b, _ := os.ReadFile(s.log)
			tb.Fatalf("SeaweedFS: %v; its log ends:\n%s", err, b[max(0, len(b)-4000):])
		}
	}
	tb.Logf("SeaweedFS S3 gateway on %s ready in %v", s.Endpoint, time.Since(start).Round(time.Millisecond))
	return s
}

// URL returns the specification of a store on the bucket:
// "s3://BUCKET/PREFIX?endpoint=...&region=...&path-style=true".
func (s *S3) URL() string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&region=%s&path-style=true", s.Bucket, s.Prefix, s.Endpoint, s.Region)
}

// Env returns the environment that gives a store the keys, as
// "NAME=VALUE": AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
func (s *S3) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey}
}

// PutRaw writes data as key's object, named as s3store names it under
// Prefix, bypassing any store: for tests that forge entries.
func (s *S3) PutRaw(ctx context.Context, key string, data []byte) error {
	_, err := s.client.PutObject(ctx, s.Bucket, s3store.ObjectName(s.Prefix, key), bytes.NewReader(data),
		int64(len(data)), minio.PutObjectOptions{DisableMultipart: true})
	if err != nil {
		return fmt.Errorf("SeaweedFS put %s: %w", key, err)
	}
	return nil
}

// Kill kills the server (SIGKILL) and waits for it to exit.
func (s *S3) Kill() { _ = s.seaweedSignal(syscall.SIGKILL) }

// Pause stops the server (SIGSTOP) and waits until all its threads are
// stopped (2 s at most): the kernel accepts connections, and nothing answers.
func (s *S3) Pause() {
	pid := s.seaweedSignal(syscall.SIGSTOP)
	for end := time.Now().Add(2 * time.Second); pid > 0 && time.Now().Before(end); time.Sleep(time.Millisecond) {
		stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(stats) > 0
		for _, f := range stats { // "PID (COMMAND) STATE ..."
			b, _ := os.ReadFile(f)
			i := bytes.LastIndexByte(b, ')')
			stopped = stopped && i > 0 && i+2 < len(b) && b[i+2] == 'T'
		}
		if stopped {
			return
		}
	}
}

// Resume continues a paused server (SIGCONT).
func (s *S3) Resume() { _ = s.seaweedSignal(syscall.SIGCONT) }

// seaweedSignal sends sig to the server, if it runs, and after SIGKILL
// waits for it to exit. It returns the server's pid, or 0.
func (s *S3) seaweedSignal(sig syscall.Signal) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	_ = s.cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL {
		<-s.exited
	}
	return s.cmd.Process.Pid
}

// seaweedFindBinary returns the weed binary under the module's root, the
// first directory up from the working directory with a go.mod.
func seaweedFindBinary() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil; _, err = os.Stat(filepath.Join(dir, "go.mod")) {
		if filepath.Dir(dir) == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = filepath.Dir(dir)
	}
	bin := filepath.Join(dir, ".work", "seaweedfs", "weed")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s is not built", bin)
	}
	return bin, nil
}

// seaweedCommand writes the identity configuration and returns the
// command that starts weed on ports free now (freed when it returns).
func (s *S3) seaweedCommand(bin string) (*exec.Cmd, error) {
	config := filepath.Join(s.dir, "s3.json")
	identity := map[string]any{"name": "dcc", "actions": []string{"Admin", "Read", "List", "Tagging", "Write"},
		"credentials": []map[string]string{{"accessKey": s.AccessKey, "secretKey": s.SecretKey}}}
	b, err := json.Marshal(map[string]any{"identities": []any{identity}})
	if err == nil {
		err = os.WriteFile(config, b, 0o600)
	}
	if err != nil {
		return nil, err
	}
	// Held together, the ports are distinct: master, volume, filer, s3 and
	// admin, each HTTP then gRPC.
	s.ports = nil
	for range 10 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		s.ports = append(s.ports, l.Addr().(*net.TCPAddr).Port)
	}
	p := s.ports
	args := []string{"-logtostderr", "mini", "-dir=" + filepath.Join(s.dir, "data"), "-ip=127.0.0.1",
		"-ip.bind=127.0.0.1", "-master.telemetry=false", "-volume.preStopSeconds=0", "-webdav=false",
		"-admin.ui=false", "-admin.port.legacy=0", "-s3.config=" + config, "-s3.iam=false",
		"-s3.port.iceberg=0", "-s3.port.lance=0"}
	for i, name := range []string{"master", "volume", "filer", "s3", "admin"} {
		args = append(args, fmt.Sprintf("-%s.port=%d", name, p[2*i]), fmt.Sprintf("-%s.port.grpc=%d", name, p[2*i+1]))
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "SENTRY_DSN=") // no error reports sent away
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", p[6])
	s.client, err = minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds:  credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region: s.Region, BucketLookup: minio.BucketLookupPath, MaxRetries: 1})
	return cmd, err
}

// seaweedExited is a start that failed because weed exited, a port of
// ours taken by another process, say.
var seaweedExited = errors.New("weed exited before it was ready")

// seaweedRun starts cmd once the ports are free, and waits until the
// bucket exists and takes an object.
func (s *S3) seaweedRun(cmd *exec.Cmd) error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	deadline := time.After(seaweedStartTimeout)
	for {
		err := s.seaweedProbe()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%w (%v)", seaweedExited, err)
		case <-deadline:
			return fmt.Errorf("not ready after %v: %w", seaweedStartTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// seaweedProbe creates the bucket if need be, and writes and removes an
// object outside Prefix.
func (s *S3) seaweedProbe() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.client.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: s.Region})
	if err != nil && minio.ToErrorResponse(err).Code != minio.BucketAlreadyOwnedByYou {
		return err
	}
	_, err = s.client.PutObject(ctx, s.Bucket, "servertest-probe", strings.NewReader("ok"), 2, minio.PutObjectOptions{})
	if err == nil {
		err = s.client.RemoveObject(ctx, s.Bucket, "servertest-probe", minio.RemoveObjectOptions{})
	}
	return err
}

// seaweedStop stops the server by pid: SIGTERM, SIGKILL after
// seaweedStopTimeout; and fails the test if a process of its group (a
// child) outlives it.
func (s *S3) seaweedStop(tb testing.TB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pid := s.cmd.Process.Pid
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused server takes SIGTERM once continued
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(seaweedStopTimeout):
			tb.Logf("SeaweedFS: pid %d still runs %v after SIGTERM: SIGKILL", pid, seaweedStopTimeout)
			_ = s.cmd.Process.Signal(syscall.SIGKILL)
			<-s.exited
		}
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		tb.Errorf("SeaweedFS: a process of weed's group %d outlived it: SIGKILL", pid)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	for _, port := range s.ports { // weed's sockets, left in /tmp when killed
		socks, _ := filepath.Glob(fmt.Sprintf("/tmp/seaweedfs-*-%d.sock", port))
		for _, sock := range socks {
			_ = os.Remove(sock)
		}
	}
	s.cmd = nil
}
