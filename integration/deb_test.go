package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dcc-build/dcc/server"
)

// What TestDebPackages builds, installs and looks at.
const (
	// debVersion and debVersionNext are the versions of the packages the
	// test builds, below any real version; "~test" marks them as the
	// test's own (requireDebMachine purges them when a killed run left them).
	debVersion     = "0.0.1~test1"
	debVersionNext = "0.0.1~test2"
	// debDummy is a package the test makes to fire dcc's trigger: it
	// ships one compiler driver in /usr/bin, debDummyCompiler.
	debDummy         = "dcc-test-compiler"
	debDummyCompiler = "dcctest-linux-gnu-gcc"
	debLinks         = "/usr/lib/dcc/bin"
	debConf          = "/etc/dcc/server.conf"
	debKey           = "/etc/dcc/server-tls.pem"
	debUnit          = "/usr/lib/systemd/system/dcc-server.service"
	// debGroup is the static group through which the service's dynamic
	// user reads the config and key (root:debGroup 0640).
	debGroup = "dcc-server-conf"
	// debStamp holds, in the snapshot, the environment every build takes.
	debStamp = ".deb-stamp"
)

// TestDebPackages builds the Debian packages with scripts/build-deb.sh
// (twice from one snapshot of the tree: byte-identical), checks them with
// lintian and the unit with systemd-analyze, installs them, builds a small
// project through the packaged dcc and its masquerade links and the
// packaged dcc-server run with a copy of the config postinst made, fires
// dcc's trigger with a package that ships a compiler, upgrades (the config
// stays), removes (the config stays) and purges (it goes). The packages are
// purged at the end whatever happens.
func TestDebPackages(t *testing.T) {
	requireDebMachine(t)
	start := time.Now()
	work := t.TempDir()
	src := snapshotTree(t, filepath.Join(work, "src"))
	a := buildDebs(t, src, filepath.Join(work, "a"), debVersion, "xz")
	b := buildDebs(t, src, filepath.Join(work, "b"), debVersion, "xz")
	for i := range a {
		if !bytes.Equal(readFile(t, a[i]), readFile(t, b[i])) {
			t.Fatalf("%s: a second build is not byte-identical: %s", filepath.Base(a[i]), debDiff(t, a[i], b[i]))
		}
	}
	t.Logf("built twice, identical (%s)", time.Since(start).Round(time.Second))
	checkLintian(t, a...)

	if _, err := user.LookupGroup(debGroup); err != nil {
		// Purge keeps the group: remove the one this test made.
		t.Cleanup(func() {
			if out, err := exec.Command("groupdel", debGroup).CombinedOutput(); err != nil {
				t.Logf("groupdel %s: %v: %s", debGroup, err, out)
			}
		})
	}
	t.Cleanup(func() { debPurge(t, "dcc", "dcc-server", debDummy) })
	out := dpkg(t, append([]string{"-i"}, a...)...)
	assert.NotContains(t, out, "warning", "dpkg -i")
	checkLinks(t, "gcc", "cc", "g++")
	assert.Equal(t, "dcc "+debVersion+"\n", string(runIn(t, "/", "", nil, nil, "/usr/bin/dcc", "version").stdout))
	conf, key := readFile(t, debConf), readFile(t, debKey)
	cfg, err := server.ParseConfig(debConf, "/nonexistent", conf)
	require.NoError(t, err, "the config postinst wrote")
	require.Len(t, cfg.Tokens, 1)
	assert.Equal(t, debKey, cfg.TLSFile, "the key beside the config")
	assert.Equal(t, "/var/cache/dcc-server/server-cache", cfg.CacheDir)
	group, err := user.LookupGroup(debGroup)
	require.NoError(t, err, "postinst made the group %s", debGroup)
	for _, p := range []string{debConf, debKey} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), st.Mode().Perm(), p)
		sys := st.Sys().(*syscall.Stat_t)
		assert.Equal(t, uint32(0), sys.Uid, "%s is root's", p)
		assert.Equal(t, group.Gid, fmt.Sprint(sys.Gid), "%s is in the group %s", p, debGroup)
	}
	if st, err := os.Stat(filepath.Dir(debConf)); assert.NoError(t, err) {
		assert.Equal(t, os.FileMode(0o755), st.Mode().Perm(), "the service's user traverses /etc/dcc")
	}
	verify := exec.Command("systemd-analyze", "verify", debUnit)
	vout, err := verify.CombinedOutput()
	t.Logf("systemd-analyze verify %s: %v %q", debUnit, err, vout)
	assert.NoError(t, err, "systemd-analyze verify: %s", vout)
	assert.Empty(t, strings.TrimSpace(string(vout)), "systemd-analyze verify complains")

	debBuildThroughHost(t, work, conf, key, cfg.Tokens[0])
	debTrigger(t, work)

	next := buildDebs(t, src, filepath.Join(work, "next"), debVersionNext, "gzip")
	out = dpkg(t, append([]string{"-i"}, next...)...)
	assert.NotContains(t, out, "warning", "upgrade")
	assert.Equal(t, conf, readFile(t, debConf), "the upgrade kept the config")
	assert.Equal(t, key, readFile(t, debKey), "the upgrade kept the TLS key")
	checkLinks(t, "gcc", "cc", "g++")
	assert.Equal(t, "dcc "+debVersionNext+"\n", string(runIn(t, "/", "", nil, nil, "/usr/bin/dcc", "version").stdout))

	out = dpkg(t, "-r", "dcc", "dcc-server")
	assert.NotContains(t, out, "warning", "dpkg -r")
	for _, p := range []string{"/usr/lib/dcc", "/usr/bin/dcc", "/usr/bin/dcc-server", debUnit} {
		assert.NoFileExists(t, p, "removed with the package")
		assert.NoDirExists(t, p, "removed with the package")
	}
	assert.Equal(t, conf, readFile(t, debConf), "removal keeps the config")

	dpkg(t, "-P", "dcc", "dcc-server")
	for _, p := range []string{"/etc/dcc", "/etc/systemd/system/dcc-server.service",
		"/etc/systemd/system/multi-user.target.wants/dcc-server.service"} {
		_, err := os.Lstat(p)
		assert.True(t, os.IsNotExist(err), "%s is gone after purge: %v", p, err)
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Second))
}

// requireDebMachine skips (or, with DCC_REQUIRE_REAL, fails) unless the
// test runs as root with the Debian tools, and refuses to touch packages
// named dcc installed by someone else.
func requireDebMachine(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if requireReal(t) {
			t.Fatal("installing packages needs root")
		}
		t.Skip("installing packages needs root")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "dpkg-query", "lintian", "systemd-analyze", "git", "gcc", "make", "bwrap"} {
		requireTool(t, tool)
	}
	for _, pkg := range []string{"dcc", "dcc-server", debDummy} {
		v, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", pkg).Output()
		if err != nil || strings.HasPrefix(string(v), "not-installed") {
			continue
		}
		if !strings.Contains(string(v), "~test") {
			t.Fatalf("package %s is installed (%s): the test would replace and purge it", pkg, v)
		}
		debPurge(t, pkg) // left by a test run that was killed
	}
}

// snapshotTree copies the repository's files (tracked and new, not
// ignored) to dir, so that every build sees the same sources while others
// edit the tree, and writes there the time and commit the builds take
// (build-deb.sh reads them from git otherwise, and HEAD may move).
func snapshotTree(t *testing.T, dir string) string {
	t.Helper()
	git := func(args ...string) string {
		b, err := exec.Command("git", append([]string{"-C", repoRoot}, args...)...).Output()
		require.NoError(t, err, "git %v", args)
		return strings.TrimSpace(string(b))
	}
	writeFiles(t, dir, map[string]string{debStamp: "SOURCE_DATE_EPOCH=" + git("log", "-1", "--format=%ct") +
		"\nDEB_COMMIT=" + git("rev-parse", "--short=12", "HEAD") + "\n"})
	list, err := exec.Command("git", "-C", repoRoot, "ls-files", "-co", "--exclude-standard", "-z").Output()
	require.NoError(t, err, "git ls-files")
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(repoRoot, name))
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		}
		require.NoError(t, err)
		st, err := os.Stat(filepath.Join(repoRoot, name))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, st.Mode().Perm()))
	}
	return dir
}

// buildDebs runs scripts/build-deb.sh in src and returns the two packages.
func buildDebs(t *testing.T, src, out, version, compress string) []string {
	t.Helper()
	cmd := exec.Command("sh", "scripts/build-deb.sh")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "DEB_OUT="+out, "DEB_VERSION="+version, "DEB_COMPRESS="+compress)
	cmd.Env = append(cmd.Env, strings.Fields(string(readFile(t, filepath.Join(src, debStamp))))...)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "build-deb.sh: %s", b)
	debs := strings.Fields(string(b))
	require.Len(t, debs, 2, "build-deb.sh printed %s", b)
	return debs
}

// checkLintian runs lintian on the packages: no error or warning that is
// not overridden (with a reason) in packaging/*/lintian-overrides.
func checkLintian(t *testing.T, debs ...string) {
	t.Helper()
	cmd := exec.Command("lintian", append([]string{"--fail-on", "error,warning", "--info"}, debs...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	t.Logf("lintian: %v\n%s", err, out.String())
	assert.NoError(t, err, "lintian")
	for _, line := range strings.Split(out.String(), "\n") {
		assert.False(t, strings.HasPrefix(line, "E:") || strings.HasPrefix(line, "W:"), "lintian: %s", line)
	}
}

// dpkg runs dpkg with args, waiting while another dpkg or apt holds its
// lock, and returns its output.
func dpkg(t *testing.T, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err != nil && strings.Contains(string(out), "lock") && time.Now().Before(deadline) {
			time.Sleep(time.Second)
			continue
		}
		require.NoError(t, err, "dpkg %v: %s", args, out)
		return string(out)
	}
}

// debPurge purges packages, reporting (not failing on) what dpkg says.
func debPurge(t *testing.T, pkgs ...string) {
	out, err := exec.Command("dpkg", append([]string{"-P"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Logf("dpkg -P %v: %v: %s", pkgs, err, out)
	}
}

// checkLinks checks that the masquerade directory holds the given compilers
// and only links to the packaged dcc.
func checkLinks(t *testing.T, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(debLinks)
	require.NoError(t, err, "postinst made the links")
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(debLinks, e.Name()))
		assert.NoError(t, err, "%s is a link", e.Name())
		assert.Equal(t, "/usr/bin/dcc", target, e.Name())
	}
	for _, n := range names {
		assert.FileExists(t, filepath.Join(debLinks, n))
	}
}

// debTrigger installs and purges a package that ships a compiler in
// /usr/bin: dcc's trigger adds its link, then removes it.
func debTrigger(t *testing.T, work string) {
	t.Helper()
	tree := filepath.Join(work, debDummy)
	writeFiles(t, tree, map[string]string{
		"DEBIAN/control": "Package: " + debDummy + "\nVersion: 1.0~test\nArchitecture: all\nMaintainer: dcc tests <tests@dcc-build.invalid>\n" +
			"Description: a compiler for dcc's trigger test\n made by TestDebPackages\n",
		"usr/bin/" + debDummyCompiler: "#!/bin/sh\nexec gcc \"$@\"\n",
	})
	require.NoError(t, os.Chmod(filepath.Join(tree, "usr/bin", debDummyCompiler), 0o755))
	deb := filepath.Join(work, debDummy+".deb")
	b, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tree, deb).CombinedOutput()
	require.NoError(t, err, "dpkg-deb: %s", b)
	link := filepath.Join(debLinks, debDummyCompiler)
	out := dpkg(t, "-i", deb)
	assert.Contains(t, out, "Processing triggers for dcc")
	assert.FileExists(t, link, "the trigger linked the new compiler")
	checkLinks(t, "gcc")
	dpkg(t, "-P", debDummy)
	_, err = os.Lstat(link)
	assert.True(t, os.IsNotExist(err), "the trigger removed the link of the compiler gone: %v", err)
	checkLinks(t, "gcc")
}

// debBuildThroughHost starts the packaged dcc-server outside systemd with
// a copy of the installed config and key (its paths moved into the test's
// directory) and builds three units with /usr/lib/dcc/bin first in PATH:
// every unit goes to the host, and the objects are plain gcc's.
func debBuildThroughHost(t *testing.T, work string, conf, key []byte, token string) {
	t.Helper()
	hostDir := filepath.Join(work, "host")
	require.NoError(t, os.MkdirAll(hostDir, 0o700))
	moved := strings.ReplaceAll(string(conf), "/var/cache/dcc-server", filepath.Join(hostDir, "cache"))
	require.NoError(t, os.WriteFile(filepath.Join(hostDir, "server.conf"), []byte(moved), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(hostDir, "server-tls.pem"), key, 0o600))
	hostKey, err := server.LoadHostKey(filepath.Join(hostDir, "server-tls.pem"), "")
	require.NoError(t, err)

	addr := freeAddr(t, "127.0.0.7")
	log, err := os.Create(filepath.Join(hostDir, "log"))
	require.NoError(t, err)
	host := exec.Command("/usr/bin/dcc-server", "--config", filepath.Join(hostDir, "server.conf"), "--listen", addr, "-v")
	host.Env = append(os.Environ(), "DCC_DIR="+filepath.Join(hostDir, "cache"))
	host.Stdout, host.Stderr = log, log
	require.NoError(t, host.Start())
	defer func() { // by its pid, before the packages change
		_ = host.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = host.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = host.Process.Kill()
			<-done
		}
		log.Close()
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if acceptsTCP(addr) {
			break
		}
		require.True(t, time.Now().Before(deadline), "dcc-server did not start: %s", readFile(t, log.Name()))
	}

	files := map[string]string{"Makefile": "all: u1.o u2.o u3.o\n%.o: %.c\n\tgcc -O2 -c $< -o $@\n"}
	for i := 1; i <= 3; i++ {
		files[fmt.Sprintf("u%d.c", i)] = fmt.Sprintf("#include <stdio.h>\nint f%d(int x) { printf(\"%%d\\n\", x); return x * %d; }\n", i, i)
	}
	plain, viaDcc := filepath.Join(work, "plain"), filepath.Join(work, "viadcc")
	writeFiles(t, plain, files)
	writeFiles(t, viaDcc, files)
	shell(t, plain, nil, "make -s")
	client := filepath.Join(work, "client")
	env := []string{"DCC_DIR=" + client, "PATH=" + withPath(debLinks), "DCC_TOKEN=" + token,
		"DCC_HOSTS=" + addr + "/2,fingerprint=" + hostKey.Fingerprint}
	defer stopPackagedDaemon(t, client)
	shell(t, viaDcc, env, "make -s")
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("u%d.o", i)
		assert.Equal(t, readFile(t, filepath.Join(plain, name)), readFile(t, filepath.Join(viaDcc, name)), "%s differs from gcc's", name)
	}
	st := runIn(t, "/", "", []string{"DCC_DIR=" + client}, nil, "/usr/bin/dcc", "stats", "--json")
	require.Zero(t, st.exit, "dcc stats: %s", st.stderr)
	var stats struct {
		Misses int64            `json:"misses"`
		Hosts  map[string]int64 `json:"remote_hosts"`
	}
	require.NoError(t, json.Unmarshal(st.stdout, &stats), "%s", st.stdout)
	assert.Equal(t, int64(3), stats.Misses, "three compiles went through dcc: %s", st.stdout)
	assert.Equal(t, map[string]int64{addr: 3}, stats.Hosts, "the host compiled them; its log:\n%s", readFile(t, log.Name()))
}

// stopPackagedDaemon stops the daemon the packaged dcc started in dir, and
// kills it by its pid if it is still there.
func stopPackagedDaemon(t *testing.T, dir string) {
	_ = runIn(t, "/", "", []string{"DCC_DIR=" + dir}, nil, "/usr/bin/dcc", "daemon", "stop")
	b, err := os.ReadFile(filepath.Join(dir, "daemon.pid"))
	if err != nil {
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil || pid <= 0 {
		return
	}
	for deadline := time.Now().Add(5 * time.Second); processRuns(pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if processRuns(pid) {
		t.Errorf("the packaged daemon (pid %d) still runs after dcc daemon stop: killed", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// debDiff names the files that differ between two packages.
func debDiff(t *testing.T, a, b string) string {
	t.Helper()
	dirs := [2]string{t.TempDir(), t.TempDir()}
	for i, deb := range []string{a, b} {
		out, err := exec.Command("dpkg-deb", "-R", deb, dirs[i]).CombinedOutput()
		require.NoError(t, err, "dpkg-deb -R: %s", out)
	}
	var differ []string
	require.NoError(t, filepath.Walk(dirs[0], func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dirs[0], p)
		other, err := os.ReadFile(filepath.Join(dirs[1], rel))
		if mine, _ := os.ReadFile(p); err != nil || !bytes.Equal(mine, other) {
			differ = append(differ, rel)
		}
		return nil
	}))
	if len(differ) == 0 {
		return "the same files: the archives differ (times, order, compression)"
	}
	return "these files differ: " + strings.Join(differ, ", ")
}
