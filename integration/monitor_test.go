package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// monitorUnits is how many units the monitored build compiles.
const monitorUnits = 10

// writeMonitorProject writes monitorUnits C units, each different and
// taking a fraction of a second to compile at -O2 (well over the local
// threshold, so they go to the hosts), and a Makefile building them.
func writeMonitorProject(tb testing.TB, dir string) {
	tb.Helper()
	files := map[string]string{}
	var objs []string
	for u := range monitorUnits {
		var b strings.Builder
		b.WriteString("#include <stddef.h>\n")
		for f := range 40 {
			fmt.Fprintf(&b, "static unsigned f%d(unsigned *a, size_t n) {\n  unsigned s = %du;\n"+
				"  for (size_t i = 0; i < n; i++) { s = s * 31u + a[i] * %du; if (s & 1u) s ^= a[(i * 7u) %% n]; else s += (unsigned)i << 3; }\n"+
				"  for (size_t i = 1; i < n; i++) a[i] ^= a[i - 1] + s;\n  return s;\n}\n", f, f+u, f+3)
		}
		fmt.Fprintf(&b, "unsigned unit%d(unsigned *a, size_t n) {\n  unsigned s = 0;\n", u)
		for f := range 40 {
			fmt.Fprintf(&b, "  s += f%d(a, n);\n", f)
		}
		b.WriteString("  return s;\n}\n")
		files[fmt.Sprintf("unit%d.c", u)] = b.String()
		objs = append(objs, fmt.Sprintf("unit%d.o", u))
	}
	files["Makefile"] = "all: " + strings.Join(objs, " ") + "\n%.o: %.c\n\t$(CC) -O2 -c $< -o $@\n"
	writeFiles(tb, dir, files)
}

// TestMonitorShowsFarm runs a build through two real dcc-servers and, while
// one of this client's compiles is held on each host (stopped with
// SIGSTOP), checks that "dcc monitor --once" shows both hosts up with busy
// slots and the held units' sources in flight, and that the page of
// "dcc monitor --http" rendered by headless chromium names both hosts and a
// source in flight. It keeps a screenshot of the page (also copied to
// $DCC_MONITOR_SCREENSHOT when set). The build then goes on and succeeds.
func TestMonitorShowsFarm(t *testing.T) {
	t.Parallel()
	chromium := requireTool(t, "chromium")
	requireTool(t, "make")
	requireTool(t, "gcc")
	// The monitors and chromium get 3 minutes; the build its own 4, so
	// that a slow chromium on a loaded machine does not use up its time.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancelBuild()
	start := time.Now()
	h1, h2 := startHost(t, "127.0.0.2", 2), startHost(t, "127.0.0.3", 2)
	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	env := append(append([]string{"PATH=" + withPath(masqueradeDir(t, compilerLinks...))}, d.env...), hostsEnv(2, h1, h2)...)
	proj := t.TempDir()
	writeMonitorProject(t, proj)

	build := exec.CommandContext(buildCtx, "make", "-j6", "CC=gcc")
	build.Dir = proj
	build.Env = append(os.Environ(), env...)
	var buildOut bytes.Buffer
	build.Stdout, build.Stderr = &buildOut, &buildOut
	require.NoError(t, build.Start())
	built := make(chan struct{})
	var buildErr error
	go func() { buildErr = build.Wait(); close(built) }()
	t.Cleanup(func() {
		_ = build.Process.Kill() // when the test failed before the build ended
		<-built
	})

	// One compile is held on each host until the monitors have looked.
	frozen := []int{h1.freezeCompile(t, built), h2.freezeCompile(t, built)}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			for _, pgid := range frozen {
				_ = syscall.Kill(-pgid, syscall.SIGCONT)
			}
		}
	}
	t.Cleanup(thaw)

	// dcc monitor --once: both hosts up, busy, with units in flight.
	once := exec.CommandContext(ctx, dccBin, "monitor", "--once", "--interval", "200ms")
	once.Env = append(os.Environ(), env...)
	out, err := once.CombinedOutput()
	require.NoError(t, err, "dcc monitor --once: %s", out)
	t.Logf("dcc monitor --once:\n%s", out)
	for _, h := range []*compileHost{h1, h2} {
		row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(h.addr) + `\s+up\s+\[[#-]+\] (\d+)/2\s.*\n((?:    > .*\n)*)`).FindSubmatch(out)
		require.NotNil(t, row, "a row for %s, up", h.addr)
		assert.NotEqual(t, "0", string(row[1]), "%s has busy slots", h.addr)
		assert.Regexp(t, `    > unit\d+\.c  \d+\.\ds\n`, string(row[2]), "%s lists a unit in flight", h.addr)
	}

	// dcc monitor --http: /farm.json and the page as chromium renders it.
	url := startMonitorHTTP(t, env)
	resp, err := http.Get(url + "farm.json")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	var farm struct {
		Hosts []struct {
			Host string `json:"host"`
			Busy int    `json:"busy"`
			Jobs []struct {
				Source string `json:"source"`
			} `json:"jobs"`
		} `json:"hosts"`
	}
	require.NoError(t, json.Unmarshal(body, &farm), "%s", body)
	require.Len(t, farm.Hosts, 2, "%s", body)
	for _, h := range farm.Hosts {
		assert.Positive(t, h.Busy, "%s busy in /farm.json", h.Host)
		assert.NotEmpty(t, h.Jobs, "%s has jobs in flight in /farm.json", h.Host)
	}
	dom := runChromium(t, ctx, chromium, "--dump-dom", url)
	for _, h := range []*compileHost{h1, h2} {
		assert.Contains(t, dom, `data-host="`+h.addr+`"`, "the page shows %s", h.addr)
	}
	assert.Regexp(t, `<td class="src">unit\d+\.c</td>`, dom, "the page shows a unit in flight")
	shot := filepath.Join(t.TempDir(), "monitor.png")
	runChromium(t, ctx, chromium, "--screenshot="+shot, url)
	png, err := os.ReadFile(shot)
	require.NoError(t, err, "chromium wrote the screenshot")
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "a PNG")
	if dst := os.Getenv("DCC_MONITOR_SCREENSHOT"); dst != "" {
		require.NoError(t, os.WriteFile(dst, png, 0o644))
		t.Logf("screenshot copied to %s", dst)
	}

	t.Logf("monitors and chromium done after %s; the held compiles go on", time.Since(start).Round(time.Millisecond))
	thaw()
	<-built
	t.Logf("build ended after %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, buildErr, "the build:\n%s", buildOut.String())
	assert.Equal(t, monitorUnits, countObjects(t, proj, []string{".o"}))
	st := d.stats(t)
	assert.Zero(t, st["errors"])
	assert.Positive(t, st["remote"], "units were compiled on the hosts")
}

// startMonitorHTTP starts "dcc monitor --http 127.0.0.1:0" with env and
// returns the page's address; the test's cleanup stops it by its pid
// (SIGTERM, which it must obey within 10 s).
func startMonitorHTTP(t *testing.T, env []string) string {
	t.Helper()
	cmd := exec.Command(dccBin, "monitor", "--http", "127.0.0.1:0", "--interval", "250ms")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			assert.NoError(t, err, "dcc monitor --http stops on SIGTERM: %s", stderr.String())
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("dcc monitor --http did not stop on SIGTERM")
		}
	})
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		first <- line
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	select {
	case line := <-first:
		url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(line)
		require.NotEmpty(t, url, "dcc monitor --http printed %q; stderr: %s", line, stderr.String())
		return url
	case <-time.After(15 * time.Second):
		require.FailNow(t, "dcc monitor --http printed no address", "stderr: %s", stderr.String())
	}
	return ""
}

// lockedBuffer is a bytes.Buffer a process writes into while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runChromium runs headless chromium on url with action (--dump-dom,
// --screenshot=PATH) after the page's script ran, and returns its stdout.
func runChromium(t *testing.T, ctx context.Context, chromium, action, url string) string {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), "--window-size=1200,800", "--virtual-time-budget=3000", action, url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium %s: %s", action, stderr.String())
	return stdout.String()
}
