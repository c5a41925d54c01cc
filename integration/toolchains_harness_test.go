package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The toolchain tests (toolchains_*_test.go) compile single units with
// cross compilers, clang targets and several gcc versions, through hosts
// that serve some of them, and compare every object with the one the
// compiler writes itself.

// xsourceText is a unit whose object shows the target and the options: an
// atomic (a call into libgcc's outline helpers, an LL/SC loop or an LSE
// instruction on aarch64, by -march, -mcpu and the GCC installation), a
// loop the vectorizer works on, and calls into the C library. salt keeps
// each test's text its own, so that no test is answered from the entries
// another left in a host's caches.
func xsourceText(salt string) string {
	return fmt.Sprintf(`#include <stdio.h>
#include <string.h>
#include "xunit.h"
int counter_%[1]s;
int bump_%[1]s(int n) { return __atomic_fetch_add(&counter_%[1]s, n, __ATOMIC_SEQ_CST); }
double mix_%[1]s(double *a, const double *b, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) { a[i] = a[i] * b[i] + XUNIT_SCALE; s += a[i]; }
  return s;
}
int say_%[1]s(const char *w) { char buf[64]; snprintf(buf, sizeof buf, "%%s:%%d", w, (int)strlen(w)); return puts(buf); }
`, salt)
}

// xproject writes the units named in salts (NAME.c) and their header into
// dir.
func xproject(tb testing.TB, dir string, salts ...string) {
	tb.Helper()
	files := map[string]string{"xunit.h": "#define XUNIT_SCALE 3.0\n"}
	for _, s := range salts {
		files[s+".c"] = xsourceText(s)
	}
	writeFiles(tb, dir, files)
}

// xclient is a client with a daemon of its own whose compiles go to hosts,
// every unit remote whatever its size.
type xclient struct {
	d   *projectDaemon
	env []string
	dir string
}

// newXClient starts a client for the project in dir that sends compiles
// to hosts, plus extra environment.
func newXClient(t *testing.T, dir string, hosts []*compileHost, extra ...string) *xclient {
	t.Helper()
	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	// Compilers are matched by identity with those the hosts have
	// installed: none is shipped (a test of shipping asks for it in extra).
	env := append(append(append([]string{}, d.env...), hostsEnv(2, hosts...)...), "DCC_LOCAL_THRESHOLD=0", "DCC_SHIP_TOOLCHAINS=0")
	return &xclient{d: d, env: append(env, extra...), dir: dir}
}

// compile runs "dcc COMPILER ARGS -c SRC -o OUT" and returns the object.
func (c *xclient) compile(t *testing.T, out string, compiler string, args ...string) []byte {
	t.Helper()
	argv := append(append([]string{dccBin, compiler}, args...), "-o", out)
	r := runIn(t, c.dir, "", c.env, nil, argv...)
	require.Zero(t, r.exit, "%s: %s\ndaemon.log:\n%s", strings.Join(argv[1:], " "), r.stderr, c.d.logTail(20))
	return readFile(t, filepath.Join(c.dir, out))
}

// localObject runs "COMPILER ARGS -c SRC -o OUT" in dir, the compiler by
// itself, and returns the object.
func localObject(t *testing.T, dir, out string, compiler string, args ...string) []byte {
	t.Helper()
	argv := append(append([]string{compiler}, args...), "-o", out)
	r := runIn(t, dir, "", nil, nil, argv...)
	require.Zero(t, r.exit, "%s: %s", strings.Join(argv, " "), r.stderr)
	b := readFile(t, filepath.Join(dir, out))
	require.NoError(t, os.Remove(filepath.Join(dir, out)))
	return b
}

// requireRoot skips a test that makes mount namespaces (a host that lacks
// a compiler the machine has) unless it runs as root.
func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s", why)
	}
}

// hiding is the wrap of a host that cannot see dirs: it runs in a mount
// namespace of its own with an empty tmpfs over each, as on a machine
// without what they hold.
func hiding(dirs ...string) []string {
	script := ""
	for _, d := range dirs {
		script += fmt.Sprintf("mount -t tmpfs none %q && ", d)
	}
	return []string{"unshare", "-m", "--propagation", "private", "sh", "-c", script + `exec "$@"`, "sh"}
}

// sameObject checks that got is byte for byte want, saying where they part
// rather than printing both.
func sameObject(t *testing.T, want, got []byte, msgAndArgs ...any) bool {
	t.Helper()
	if bytes.Equal(want, got) {
		return true
	}
	at := 0
	for at < min(len(want), len(got)) && want[at] == got[at] {
		at++
	}
	msg := ""
	if len(msgAndArgs) > 0 {
		msg = fmt.Sprintf(msgAndArgs[0].(string), msgAndArgs[1:]...) + ": "
	}
	t.Errorf("%sobjects differ: %d bytes wanted, %d got, first difference at byte %d", msg, len(want), len(got), at)
	return false
}
