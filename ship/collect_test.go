package ship

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
)

// layOut copies a bundle's files into root at their paths.
func layOut(t *testing.T, b *Bundle, root string) {
	t.Helper()
	for _, f := range b.Offer.Files {
		dst := root + f.Path
		require.NoError(t, os.MkdirAll(path.Dir(dst), 0o755))
		switch f.Kind {
		case protocol.BundleSymlink:
			require.NoError(t, os.Symlink(f.Link, dst))
		case protocol.BundleRegular, protocol.BundleExec:
			src, _, err := b.Open(f.Digest)
			require.NoError(t, err)
			out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
			require.NoError(t, err)
			_, err = io.Copy(out, src)
			require.NoError(t, err)
			src.Close()
			require.NoError(t, out.Close())
		}
	}
}

// alone runs argv in a sandbox whose file system is root's tree alone (and
// dir, bound at its path), as a host runs a shipped toolchain, and returns
// what it printed.
func alone(t *testing.T, root, dir string, argv ...string) string {
	t.Helper()
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		t.Skip("bubblewrap is not installed")
	}
	args := []string{"--unshare-all", "--die-with-parent"}
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if e.Type()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			require.NoError(t, err)
			args = append(args, "--symlink", target, "/"+e.Name())
		} else {
			args = append(args, "--ro-bind", p, "/"+e.Name())
		}
	}
	args = append(args, "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--bind", dir, dir, "--chdir", dir, "--")
	cmd := exec.Command(bwrap, append(args, argv...)...)
	cmd.Env = []string{"PATH=/usr/bin", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s in the bundle alone: %s", strings.Join(argv, " "), out)
	return string(out)
}

// commands are the commands of a driver's -### output, its temporary
// files' random names made equal.
func commands(out string) []string {
	var cmds []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, " ") {
			cmds = append(cmds, tempName().ReplaceAllString(line, "/tmp/ccTEMP"))
		}
	}
	return cmds
}

var tempName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`/tmp/cc[A-Za-z0-9]{6}`) })

// TestBundleRunsAlone collects gcc, g++, clang++ and the aarch64 cross gcc
// and runs each, with nothing but its bundle as the file system: its
// driver must plan the same commands (-###) as here, and compile a unit to
// the same object.
func TestBundleRunsAlone(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "unit.c")
	require.NoError(t, os.WriteFile(src, []byte("int twice(int x) { return 2 * x; }\n"), 0o644))
	for _, exe := range []string{"/usr/bin/gcc", "/usr/bin/g++", "/usr/bin/clang++", "/usr/bin/aarch64-linux-gnu-gcc"} {
		t.Run(path.Base(exe), func(t *testing.T) {
			if _, err := os.Stat(exe); err != nil {
				t.Skipf("%s is not installed", exe)
			}
			ctx := context.Background()
			id, err := toolchain.Probe(ctx, exe)
			require.NoError(t, err)
			b, err := Collect(ctx, exe, id)
			require.NoError(t, err)
			assert.Equal(t, b.Offer.BundleDigest(), b.Digest)
			assert.True(t, b.Current())
			root := t.TempDir()
			layOut(t, b, root)

			lang := []string{"-x", "c"}
			plan := append([]string{exe, "-###", "-c"}, append(lang, "unit.c", "-o", "unit.o")...)
			cmd := exec.Command(plan[0], plan[1:]...)
			cmd.Dir, cmd.Env = dir, []string{"PATH=/usr/bin", "LC_ALL=C"}
			here, err := cmd.CombinedOutput()
			require.NoError(t, err)
			assert.Equal(t, commands(string(here)), commands(alone(t, root, dir, plan...)), "the driver plans otherwise with its bundle alone")

			// No headers: they go with each job, not in the bundle.
			compile := append([]string{exe, "-O2", "-g", "-nostdinc", "-c"}, append(lang, "unit.c", "-o", "alone.o")...)
			alone(t, root, dir, compile...)
			cmd = exec.Command(exe, append(compile[1:len(compile)-1], "here.o")...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			want, err := os.ReadFile(filepath.Join(dir, "here.o"))
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(dir, "alone.o"))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got), "the object compiled with the bundle alone differs")
		})
	}
}

// TestCollectRecordsLinksOnTheWay checks that a path through symlinks is
// sent as each link and the file it leads to, never below a link.
func TestCollectRecordsLinksOnTheWay(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "real", "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "real", "bin", "tool"), []byte("x"), 0o755))
	require.NoError(t, os.Symlink("real", filepath.Join(dir, "alias")))
	require.NoError(t, os.Symlink("../alias/bin/tool", filepath.Join(dir, "real", "link")))
	e := newEntries()
	got, err := e.add(filepath.Join(dir, "real", "link"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "real", "bin", "tool"), got)
	assert.Equal(t, protocol.BundleSymlink, int(e.files[filepath.Join(dir, "real", "link")].Kind))
	assert.Equal(t, protocol.BundleSymlink, int(e.files[filepath.Join(dir, "alias")].Kind))
	assert.Equal(t, protocol.BundleExec, int(e.files[got].Kind))
	for p := range e.files {
		for q := path.Dir(p); q != "/"; q = path.Dir(q) {
			f, ok := e.files[q]
			assert.False(t, ok && f.Kind == protocol.BundleSymlink, "%s is below the link %s", p, q)
		}
	}
}
