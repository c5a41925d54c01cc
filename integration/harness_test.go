// Package integration runs dcc end to end: the real binary in front of real gcc,
// g++, clang, clang++ and clang-cl, and real projects from Debian's sources.
package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// dccBin is the dcc binary built once for this test run.
var dccBin string

// serverBin is the dcc-server binary built next to it.
var serverBin string

// repoRoot is the repository's top directory.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds dcc into a temporary directory and runs the tests.
func run(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Dir(filepath.Dir(file))
	tmp, err := os.MkdirTemp("", "dcc-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	dccBin = filepath.Join(tmp, "dcc")
	// dcc and its daemon, dccd, side by side as an installation has them.
	serverBin = filepath.Join(tmp, "dcc-server")
	build := exec.Command("go", "build", "-o", tmp+"/", "./cmd/dcc", "./cmd/dccd", "./cmd/dcc-server")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build does
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: go build: %v\n%s", err, out)
		return 1
	}
	// Tests that do not set their own DCC_DIR share this one; its daemon is
	// stopped when the tests are done.
	shared := filepath.Join(tmp, "d")
	os.Setenv("DCC_DIR", shared)
	os.Setenv("DCC_IDLE_TIMEOUT", "60s")
	defer stopDaemon(shared)
	return m.Run()
}

// stopDaemon stops the daemon of a DCC_DIR, if one runs, by its own pid.
func stopDaemon(dir string) {
	stop := exec.Command(dccBin, "daemon", "stop")
	stop.Env = append(os.Environ(), "DCC_DIR="+dir)
	_ = stop.Run()
	b, err := os.ReadFile(filepath.Join(dir, "daemon.pid"))
	if err != nil {
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 {
		if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil {
			_ = p.Kill()
		}
	}
}

// requireReal reports whether DCC_REQUIRE_REAL holds a true value as
// strconv.ParseBool reads it ("1", "t", "true", ...; `make test` and CI set
// 1): then a missing compiler, tool or project fails the test instead of
// skipping it. Unset or empty is false; a value ParseBool does not take
// fails the test, so that a misspelt setting cannot quietly skip what it
// was meant to require. server/helpers_test.go reads it the same way.
func requireReal(tb testing.TB) bool {
	tb.Helper()
	v := os.Getenv("DCC_REQUIRE_REAL")
	if v == "" {
		return false
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		tb.Fatalf("DCC_REQUIRE_REAL=%q: want a boolean (1, true, 0, false, ...)", v)
	}
	return on
}

// requireTool returns the path of a tool, skipping the test when it is absent,
// or failing it when DCC_REQUIRE_REAL is true (see requireReal).
func requireTool(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if requireReal(tb) {
			tb.Fatalf("%s is required (run scripts/install-deps.sh): %v", name, err)
		}
		tb.Skipf("%s not installed", name)
	}
	return path
}

// masqueradeDir makes a directory of links to dcc named like the given
// compilers and returns it; it goes first in PATH.
func masqueradeDir(tb testing.TB, names ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, n := range names {
		require.NoError(tb, os.Symlink(dccBin, filepath.Join(dir, n)))
	}
	return dir
}

// result is what one process did.
type result struct {
	stdout, stderr []byte
	exit           int
	signal         string
}

// runIn runs argv in dir with PATH set to path (empty: inherit), extra
// environment, and optional stdin.
func runIn(tb testing.TB, dir, path string, env []string, stdin []byte, argv ...string) result {
	tb.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if path != "" && !strings.ContainsRune(argv[0], '/') {
		// Resolve the program in the PATH the command will run with, as a shell would.
		cmd.Path = lookPathIn(tb, argv[0], path)
		cmd.Err = nil
	}
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if path != "" {
		cmd.Env = append(cmd.Env, "PATH="+path)
	}
	cmd.Env = append(cmd.Env, env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
		if ws := ee.ProcessState.String(); strings.HasPrefix(ws, "signal: ") {
			r.signal = strings.TrimPrefix(ws, "signal: ")
		}
	case err != nil:
		tb.Fatalf("run %v: %v", argv, err)
	}
	return r
}

// lookPathIn finds an executable named name in path (PATH syntax).
func lookPathIn(tb testing.TB, name, path string) string {
	tb.Helper()
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	tb.Fatalf("%s not found in %s", name, path)
	return ""
}

// withPath returns dirs followed by the current PATH.
func withPath(dirs ...string) string {
	return strings.Join(append(dirs, os.Getenv("PATH")), string(os.PathListSeparator))
}

// writeFiles writes name->content pairs under dir.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(tb, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(tb, os.WriteFile(p, []byte(content), 0o644))
	}
}

// readFile returns a file's bytes, failing the test when it is missing.
func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	require.NoError(tb, err)
	return b
}
