//go:build linux

package servertest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NginxOptions configure the nginx StartNginx starts. At most one of
// BearerToken and BasicUser may be set.
type NginxOptions struct {
	// BearerToken, if set, makes nginx refuse with 401 every request
	// without the header "Authorization: Bearer BearerToken".
	BearerToken string
	// BasicUser and BasicPassword, if BasicUser is set, make nginx
	// refuse with 401 every request without these basic credentials.
	BasicUser, BasicPassword string
}

// Nginx is Debian's nginx serving a directory with WebDAV PUT and DELETE
// on 127.0.0.1, as a team would run for an HTTP cache. Its master and
// workers form one process group, which the test's cleanup stops.
type Nginx struct {
	// URL is the server's address, "http://127.0.0.1:PORT", with no
	// credentials and no trailing slash.
	URL string

	tb     testing.TB
	dir    string
	root   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// nginxBearerToken is what a token may hold (RFC 6750's b64token), so
// that it needs no quoting in nginx's configuration.
var nginxBearerToken = regexp.MustCompile(`^[A-Za-z0-9._~+/-]+=*$`)

// StartNginx starts nginx in the foreground with its configuration, logs,
// pid file and temporary files in tb.TempDir(), serving Root(), and waits
// until it answers (10 s at most). tb.Cleanup stops it. The test is
// skipped when nginx is not installed, or fails when DCC_REQUIRE_REAL=1.
func StartNginx(tb testing.TB, opts NginxOptions) *Nginx {
	tb.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/nginx")
	}
	if err != nil && os.Getenv("DCC_REQUIRE_REAL") == "1" {
		tb.Fatalf("nginx is not installed (DCC_REQUIRE_REAL=1): %v", err)
	} else if err != nil {
		tb.Skipf("nginx is not installed: %v", err)
	}
	switch {
	case opts.BearerToken != "" && opts.BasicUser != "":
		tb.Fatalf("nginx: both a bearer token and basic credentials")
	case opts.BearerToken != "" && !nginxBearerToken.MatchString(opts.BearerToken):
		tb.Fatalf("nginx: the bearer token holds characters a token may not")
	case strings.ContainsAny(opts.BasicUser+opts.BasicPassword, ":\r\n"):
		tb.Fatalf("nginx: the basic user or password holds ':' or a newline, which htpasswd cannot")
	}
	dir := tb.TempDir()
	n := &Nginx{tb: tb, dir: dir, root: filepath.Join(dir, "root")}
	// The basic credentials, used with BasicUser only, are in nginx's
	// {PLAIN} scheme, which needs no hashing tool.
	htpasswd := opts.BasicUser + ":{PLAIN}" + opts.BasicPassword + "\n"
	if err := errors.Join(os.Mkdir(n.root, 0o755),
		os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(htpasswd), 0o600)); err != nil {
		tb.Fatalf("nginx: %v", err)
	}
	// The port is free when chosen but may be taken before nginx binds
	// it: then try another, a few times.
	for attempt := 1; ; attempt++ {
		err := n.nginxStart(bin, opts)
		if err == nil {
			break
		} else if attempt == 5 || !strings.Contains(err.Error(), "Address already in use") {
			tb.Fatalf("nginx: %v", err)
		}
	}
	tb.Cleanup(n.nginxStop)
	return n
}

// Root returns the directory nginx serves: a test forges or inspects
// entries by writing or reading its files.
func (n *Nginx) Root() string { return n.root }

// Path returns the file under Root() that a PUT to URL/rel writes.
func (n *Nginx) Path(rel string) string {
	return filepath.Join(n.root, filepath.FromSlash(strings.TrimPrefix(rel, "/")))
}

// Pause stops nginx's master and workers (SIGSTOP): the kernel still
// accepts connections, nothing answers them. Resume undoes it.
func (n *Nginx) Pause() {
	n.tb.Helper()
	n.nginxSignalGroup(syscall.SIGSTOP)
	if !n.nginxAwait('T') {
		n.tb.Fatalf("nginx: not stopped 3 s after SIGSTOP")
	}
}

// Resume continues a paused nginx (SIGCONT).
func (n *Nginx) Resume() {
	n.nginxSignalGroup(syscall.SIGCONT)
}

// Kill kills nginx's master and workers at once (SIGKILL), as a crash
// would, and waits until they are gone: connections are then refused.
func (n *Nginx) Kill() {
	n.tb.Helper()
	n.nginxSignalGroup(syscall.SIGKILL)
	if !n.nginxAwait(0) {
		n.tb.Fatalf("nginx: processes left 3 s after SIGKILL (pid: state): %v", nginxGroup(n.cmd.Process.Pid))
	}
	<-n.exited
}

// nginxStart writes the configuration for a free port, starts nginx and
// waits until it answers.
func (n *Nginx) nginxStart(bin string, opts NginxOptions) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(n.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(port, opts)), 0o644); err != nil {
		return err
	}
	errorLog := filepath.Join(n.dir, "error.log")
	_ = os.Remove(errorLog) // of an attempt before
	out, err := os.Create(filepath.Join(n.dir, "nginx.out"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(bin, "-p", n.dir+"/", "-c", conf, "-e", errorLog)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	n.cmd, n.exited = cmd, exited
	n.URL = "http://127.0.0.1:" + strconv.Itoa(port)

	client := &http.Client{Timeout: 500 * time.Millisecond}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		select {
		case <-exited:
			return fmt.Errorf("exited at start (%v): %s", cmd.ProcessState, n.nginxLogs())
		default:
		}
		resp, err := client.Get(n.URL + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			n.nginxStop()
			return fmt.Errorf("no answer 10 s after start: %w; %s", err, n.nginxLogs())
		}
	}
}

// nginxConf is the configuration, the user line, port and authentication
// to fill in. Its paths are relative to the prefix (-p), the temporary
// directory, so need no quoting whatever the test's name put in it. PUTs
// land whole: nginx writes the body to a temporary file, then renames it.
const nginxConf = `daemon off; master_process on; worker_processes 2;
pid nginx.pid; error_log error.log warn;
%s
events { worker_connections 256; }
http {
  access_log access.log; default_type application/octet-stream;
  client_body_temp_path client_body_temp; proxy_temp_path proxy_temp;
  fastcgi_temp_path fastcgi_temp; uwsgi_temp_path uwsgi_temp; scgi_temp_path scgi_temp;
  server {
    listen 127.0.0.1:%d;
    root root;
    location / {
      %s
      dav_methods PUT DELETE; create_full_put_path on;
      dav_access user:rw group:r all:r; client_max_body_size 0;
    }
  }
}
`

// nginxConfig returns the configuration for port.
func nginxConfig(port int, opts NginxOptions) string {
	userLine := ""
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who may not write
		// in a temporary directory of root's.
		if u, err := user.Current(); err == nil {
			if g, err := user.LookupGroupId(u.Gid); err == nil {
				userLine = fmt.Sprintf("user %s %s;", u.Username, g.Name)
			}
		}
	}
	auth := ""
	switch {
	case opts.BearerToken != "":
		auth = fmt.Sprintf(`if ($http_authorization != "Bearer %s") { return 401; }`, opts.BearerToken)
	case opts.BasicUser != "":
		auth = `auth_basic "dcc"; auth_basic_user_file htpasswd;`
	}
	return fmt.Sprintf(nginxConf, userLine, port, auth)
}

// nginxStop is the cleanup: SIGCONT and SIGTERM, SIGKILL after 3 s, then
// a check that no worker is left.
func (n *Nginx) nginxStop() {
	select {
	case <-n.exited:
	default:
		n.nginxSignalGroup(syscall.SIGCONT)
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(3 * time.Second):
			n.nginxSignalGroup(syscall.SIGKILL)
			<-n.exited
		}
	}
	if !n.nginxAwait(0) {
		n.tb.Errorf("nginx: processes left after the master stopped (pid: state): %v", nginxGroup(n.cmd.Process.Pid))
		n.nginxSignalGroup(syscall.SIGKILL)
	}
}

// nginxSignalGroup sends sig to the master and its workers.
func (n *Nginx) nginxSignalGroup(sig syscall.Signal) {
	if err := syscall.Kill(-n.cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		n.tb.Errorf("nginx: %v to process group %d: %v", sig, n.cmd.Process.Pid, err)
	}
}

// nginxAwait waits, 3 s at most, until the group's live processes are
// all in state ('T': stopped), or, for state 0, until none is left, and
// tells whether they are.
func (n *Nginx) nginxAwait(state byte) bool {
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		procs := nginxGroup(n.cmd.Process.Pid)
		done := (len(procs) == 0) == (state == 0)
		for _, s := range procs {
			done = done && s == state
		}
		if done || time.Now().After(deadline) {
			return done
		}
	}
}

// nginxGroup returns the state of each live (not zombie) process of group
// pgid, from /proc/PID/stat ("pid (comm) state ppid pgrp ...").
func nginxGroup(pgid int) map[int]byte {
	out := map[int]byte{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, perr := strconv.Atoi(e.Name())
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if perr != nil || err != nil {
			continue
		}
		i := strings.LastIndex(string(stat), ") ")
		fields := strings.Fields(string(stat)[i+1:])
		if i < 0 || len(fields) < 3 || fields[2] != strconv.Itoa(pgid) || fields[0] == "Z" {
			continue
		}
		out[pid] = fields[0][0]
	}
	return out
}

// nginxLogs returns what nginx wrote at start, for a failure message.
func (n *Nginx) nginxLogs() string {
	out, _ := os.ReadFile(filepath.Join(n.dir, "nginx.out"))
	errLog, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
	return fmt.Sprintf("output: %q; error.log: %q", out, errLog)
}
