package toolchain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	hexDigestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	keyRE       = regexp.MustCompile(`^id3-[0-9a-f]{64}$`)
	versionRE   = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// roles lists the roles of an identity's components.
func roles(id Identity) []string {
	var r []string
	for _, c := range id.Components {
		r = append(r, c.Role)
	}
	return r
}

// linkAs makes dir/name a symlink to the installed program target.
func linkAs(t *testing.T, dir, name, target string) string {
	t.Helper()
	real, err := exec.LookPath(target)
	if err != nil {
		t.Skipf("%s not installed", target)
	}
	p := filepath.Join(dir, name)
	require.NoError(t, os.Symlink(real, p))
	return p
}

func TestProbeRealCompilers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real compilers")
	}
	dir := t.TempDir()
	tests := []struct {
		name   string
		path   func(t *testing.T) string
		family Family
		driver string
		target string // regexp
		roles  []string
	}{
		{"gcc", func(t *testing.T) string { needCompiler(t, "gcc"); return "gcc" },
			FamilyGCC, "gcc", `linux`, []string{"as", "cc1", "cc1plus", "driver"}},
		{"g++", func(t *testing.T) string { needCompiler(t, "g++"); return "g++" },
			FamilyGCC, "g++", `linux`, []string{"as", "cc1", "cc1plus", "driver"}},
		{"clang", func(t *testing.T) string { needCompiler(t, "clang"); return "clang" },
			FamilyClang, "clang", `linux`, []string{"driver"}},
		{"clang++", func(t *testing.T) string { needCompiler(t, "clang++"); return "clang++" },
			FamilyClang, "clang++", `linux`, []string{"driver"}},
		{"clang-cl-14", func(t *testing.T) string { needCompiler(t, "clang-cl-14"); return "clang-cl-14" },
			FamilyMSVC, "clang-cl", `-windows-msvc$`, []string{"driver"}},
		{"cc that is clang", func(t *testing.T) string { return linkAs(t, dir, "cc", "clang") },
			FamilyClang, "clang", `linux`, []string{"driver"}},
		{"c++ that is clang++", func(t *testing.T) string { return linkAs(t, dir, "c++", "clang") },
			FamilyClang, "clang++", `linux`, []string{"driver"}},
		{"gcc that is clang", func(t *testing.T) string { return linkAs(t, dir, "gcc", "clang") },
			FamilyClang, "clang", `linux`, []string{"driver"}},
		{"clang that is gcc", func(t *testing.T) string { return linkAs(t, dir, "clang", "gcc") },
			FamilyGCC, "gcc", `linux`, []string{"as", "cc1", "cc1plus", "driver"}},
		{"cl.exe that is clang-cl", func(t *testing.T) string { return linkAs(t, dir, "cl.exe", "clang-cl-14") },
			FamilyMSVC, "clang-cl", `-windows-msvc$`, []string{"driver"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			id, err := Probe(context.Background(), path)
			require.NoError(t, err)
			assert.Equal(t, tc.family, id.Family)
			assert.Equal(t, tc.driver, id.Driver)
			assert.Regexp(t, versionRE, id.Version)
			assert.Regexp(t, tc.target, id.Target)
			assert.True(t, filepath.IsAbs(id.Path), id.Path)
			real, err := filepath.EvalSymlinks(id.Path)
			require.NoError(t, err)
			assert.Equal(t, real, id.Path, "Path is resolved")
			assert.Equal(t, tc.roles, roles(id))
			assert.Regexp(t, hexDigestRE, id.Hash)
			for _, c := range id.Components {
				// Debian's compilers carry GNU build IDs: no program is read whole.
				assert.Regexp(t, `^elf-build-id:[0-9a-f]{40,}:[0-9]+$`, c.Hash, c.Role)
			}
			assert.Regexp(t, keyRE, id.Key())
		})
	}
}

func TestProbeSameCompilerSameKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real compilers")
	}
	needCompiler(t, "gcc")
	needCompiler(t, "clang")
	dir := t.TempDir()
	ctx := context.Background()
	key := func(path string) string {
		id, err := Probe(ctx, path)
		require.NoError(t, err)
		return id.Key()
	}
	gcc := key("gcc")
	assert.Equal(t, gcc, key(linkAs(t, dir, "cc", "gcc")), "cc -> gcc is interchangeable with gcc")
	assert.NotEqual(t, gcc, key("g++"), "g++ is another driver")
	clang := key("clang")
	assert.NotEqual(t, gcc, clang)
	assert.NotEqual(t, clang, key("clang++"), "same binary, other driver mode")
}

// writeScript writes an executable shell script.
func writeScript(t *testing.T, path, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755))
}

// fakeGCC writes a gcc look-alike that logs each run to dir/runs and names
// dir/cc1 as its compiler proper.
func fakeGCC(t *testing.T, dir string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cc1"), []byte("cc1 v1"), 0o755))
	p := filepath.Join(dir, "x86_64-fake-linux-gnu-gcc-9")
	writeScript(t, p, fmt.Sprintf(`echo "$1" >> %[1]s/runs
case "$1" in
--version) printf 'x86_64-fake-linux-gnu-gcc-9 (Fake 9.9.9-1) 9.9.9\nCopyright (C) 2020 Free Software Foundation, Inc.\n' ;;
-dumpfullversion) echo 9.9.9 ;;
-dumpmachine) echo x86_64-fake-linux-gnu ;;
-print-prog-name=cc1) echo %[1]s/cc1 ;;
-print-prog-name=*) echo "${1#-print-prog-name=}" ;;
*) exit 1 ;;
esac
`, dir))
	return p
}

// runs counts the --version runs logged by a fake compiler.
func runs(t *testing.T, dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, "runs"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	require.NoError(t, err)
	return strings.Count(string(data), "--version\n")
}

func TestProbeFakeCompilers(t *testing.T) {
	dir := t.TempDir()
	gcc := fakeGCC(t, dir)
	cl := filepath.Join(dir, "cl.exe")
	writeScript(t, cl, `cat >&2 <<'EOF'
Microsoft (R) C/C++ Optimizing Compiler Version 19.29.30133 for x64
Copyright (C) Microsoft Corporation.  All rights reserved.

cl : Command line warning D9002 : ignoring unknown option '--version'
cl : Command line error D8003 : missing source filename
EOF
exit 2
`)
	apple := filepath.Join(dir, "gcc")
	writeScript(t, apple, `printf 'Apple clang version 15.0.0 (clang-1500.0.40.1)\nTarget: arm64-apple-darwin23.1.0\nThread model: posix\n'`)
	tests := []struct {
		name string
		path string
		want Identity
	}{
		{"gcc look-alike", gcc, Identity{Family: FamilyGCC, Driver: "gcc", Version: "9.9.9", Target: "x86_64-fake-linux-gnu"}},
		{"cl.exe banner on stderr, failing exit", cl, Identity{Family: FamilyMSVC, Driver: "cl", Version: "19.29.30133", Target: "x64"}},
		{"gcc that is Apple clang", apple, Identity{Family: FamilyClang, Driver: "clang", Version: "15.0.0", Target: "arm64-apple-darwin23.1.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := Probe(context.Background(), tc.path)
			require.NoError(t, err)
			assert.Equal(t, tc.want.Family, id.Family)
			assert.Equal(t, tc.want.Driver, id.Driver)
			assert.Equal(t, tc.want.Version, id.Version)
			assert.Equal(t, tc.want.Target, id.Target)
			real, err := filepath.EvalSymlinks(tc.path)
			require.NoError(t, err)
			assert.Equal(t, real, id.Path)
		})
	}
	id, err := Probe(context.Background(), gcc)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(id.Components), 2)
	assert.Equal(t, "cc1", id.Components[len(id.Components)-2].Role, "components sorted by role")
	cc1, err := filepath.EvalSymlinks(filepath.Join(dir, "cc1"))
	require.NoError(t, err)
	assert.Equal(t, cc1, id.Components[len(id.Components)-2].Path)
}

func TestProbeErrors(t *testing.T) {
	dir := t.TempDir()
	notCC := filepath.Join(dir, "cc")
	writeScript(t, notCC, "echo hello world\n")
	failing := filepath.Join(dir, "gcc-9")
	writeScript(t, failing, "echo 'gcc: fatal error: no' >&2; exit 4\n")
	slow := filepath.Join(dir, "clang")
	writeScript(t, slow, "exec sleep 30\n")
	gnuTool := filepath.Join(dir, "gcc")
	writeScript(t, gnuTool, "case $1 in --version) echo 'true (GNU coreutils) 9.1'; echo 'Copyright (C) 2022 Free Software Foundation, Inc.';; esac\n")
	tests := []struct {
		name    string
		path    string
		timeout time.Duration
		is      error
		msg     string
	}{
		{"missing file", filepath.Join(dir, "nope"), time.Minute, os.ErrNotExist, "probe " + filepath.Join(dir, "nope") + ": "},
		{"not in PATH", "dcc-no-such-compiler", time.Minute, exec.ErrNotFound, "probe dcc-no-such-compiler: "},
		{"not a compiler", notCC, time.Minute, ErrUnknownCompiler, `not a compiler dcc recognises: --version printed "hello world"`},
		{"failing", failing, time.Minute, ErrUnknownCompiler, `--version: exit status 4: "gcc: fatal error: no"`},
		{"a GNU tool that is not gcc", gnuTool, time.Minute, ErrUnknownCompiler, "no version or target"},
		{"hangs", slow, 300 * time.Millisecond, context.DeadlineExceeded, "probe " + slow + ": --version: context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			start := time.Now()
			_, err := Probe(ctx, tc.path)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "probe "+tc.path+": "), err.Error())
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

func TestKey(t *testing.T) {
	base := Identity{Family: FamilyGCC, Driver: "gcc", Version: "12.2.0", Target: "x86_64-linux-gnu",
		Path: "/usr/bin/gcc-12", Hash: strings.Repeat("ab", 32),
		Components: []Component{{Role: "driver", Path: "/usr/bin/gcc-12", Hash: strings.Repeat("cd", 32)}}}
	// A golden value: Key must not change without a new version prefix.
	assert.Equal(t, "id3-a81bbc5d11908ff22557023145d19ee1a05be058c425d93ac0da03405c2c5f62", base.Key())

	moved := base
	moved.Path = "/opt/gcc/bin/gcc"
	moved.Components = []Component{{Role: "driver", Path: "/opt/gcc/bin/gcc", Hash: strings.Repeat("cd", 32)}}
	assert.Equal(t, base.Key(), moved.Key(), "the same compiler elsewhere is interchangeable")

	for name, change := range map[string]func(*Identity){
		"family":  func(id *Identity) { id.Family = FamilyClang },
		"driver":  func(id *Identity) { id.Driver = "g++" },
		"version": func(id *Identity) { id.Version = "12.3.0" },
		"target":  func(id *Identity) { id.Target = "aarch64-linux-gnu" },
		"hash":    func(id *Identity) { id.Hash = strings.Repeat("ef", 32) },
		"fields do not run together": func(id *Identity) {
			id.Version, id.Target = "12.2.0x86_64-linux-gnu", ""
		},
	} {
		changed := base
		change(&changed)
		assert.NotEqual(t, base.Key(), changed.Key(), name)
	}
}

func TestProberMemoizes(t *testing.T) {
	dir := t.TempDir()
	gcc := fakeGCC(t, dir)
	ctx := context.Background()
	var p Prober

	first, err := p.Probe(ctx, gcc)
	require.NoError(t, err)
	assert.Equal(t, 1, runs(t, dir))
	again, err := p.Probe(ctx, gcc)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, 1, runs(t, dir), "a repeated probe only stats")

	// Upgrading the backend alone changes the identity.
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cc1"), []byte("cc1 v2"), 0o755))
	require.NoError(t, os.Chtimes(filepath.Join(dir, "cc1"), later, later))
	upgraded, err := p.Probe(ctx, gcc)
	require.NoError(t, err)
	assert.Equal(t, 2, runs(t, dir))
	assert.NotEqual(t, first.Hash, upgraded.Hash)
	assert.NotEqual(t, first.Key(), upgraded.Key())

	// So does touching the driver.
	require.NoError(t, os.Chtimes(gcc, later, later))
	_, err = p.Probe(ctx, gcc)
	require.NoError(t, err)
	assert.Equal(t, 3, runs(t, dir))

	// Replacing a symlink's target shows through the link.
	link := filepath.Join(dir, "cc")
	require.NoError(t, os.Symlink(gcc, link))
	_, err = p.Probe(ctx, link)
	require.NoError(t, err)
	assert.Equal(t, 4, runs(t, dir))
	other := fakeGCC(t, t.TempDir())
	require.NoError(t, os.Remove(link))
	require.NoError(t, os.Symlink(other, link))
	id, err := p.Probe(ctx, link)
	require.NoError(t, err)
	otherReal, err := filepath.EvalSymlinks(other)
	require.NoError(t, err)
	assert.Equal(t, otherReal, id.Path)
}

func TestProberForgetsFailures(t *testing.T) {
	dir := t.TempDir()
	cc := filepath.Join(dir, "gcc")
	writeScript(t, cc, fmt.Sprintf("echo \"$1\" >> %s/runs; exit 1\n", dir))
	var p Prober
	for i := 1; i <= 3; i++ {
		_, err := p.Probe(context.Background(), cc)
		require.ErrorIs(t, err, ErrUnknownCompiler)
		assert.Equal(t, i, runs(t, dir))
	}
}

func TestProberConcurrent(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "gcc")
	require.NoError(t, os.WriteFile(exe, []byte("x"), 0o755))
	var calls atomic.Int32
	release := make(chan struct{})
	p := &Prober{run: func(ctx context.Context, path string) (Identity, []fileStamp, error) {
		calls.Add(1)
		<-release
		st, err := stampOf(path)
		return Identity{Family: FamilyGCC, Path: path}, []fileStamp{st}, err
	}}
	const n = 16
	var wg sync.WaitGroup
	results := make([]Identity, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.Probe(context.Background(), exe)
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load(), "concurrent probes of one compiler share one run")
	for i := 0; i < n; i++ {
		require.NoError(t, errs[i])
		assert.Equal(t, exe, results[i].Path)
	}

	// A waiter gives up when its own context ends.
	p2 := &Prober{run: func(ctx context.Context, path string) (Identity, []fileStamp, error) {
		<-release
		<-ctx.Done()
		return Identity{}, nil, ctx.Err()
	}}
	leaderCtx, stopLeader := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := p2.Probe(leaderCtx, exe); done <- err }()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := p2.Probe(ctx, exe)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	stopLeader()
	assert.ErrorIs(t, <-done, context.Canceled)
}

// hashFile answers from its memo only while the file's stat signature holds.
func TestHashFileMemo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cc1")
	require.NoError(t, os.WriteFile(p, []byte("one"), 0o755))
	first, _, err := hashFile(p)
	require.NoError(t, err)
	again, _, err := hashFile(p)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	require.NoError(t, os.WriteFile(p, []byte("two"), 0o755))
	changed, _, err := hashFile(p)
	require.NoError(t, err)
	assert.NotEqual(t, first, changed, "a rewritten file is hashed again")
}

// A program is identified by its ELF build ID where it has one, as readelf
// reads it, and otherwise by the SHA-256 of its contents; a damaged ELF file
// falls back to the contents.
func TestHashFileBuildID(t *testing.T) {
	needCompiler(t, "gcc")
	gcc, err := exec.LookPath("gcc")
	require.NoError(t, err)
	real, err := filepath.EvalSymlinks(gcc)
	require.NoError(t, err)
	elfData, err := os.ReadFile(real)
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o755))
		return p
	}
	sha := func(data []byte) string {
		sum := sha256.Sum256(data)
		return hex.EncodeToString(sum[:])
	}
	readelf, err := exec.Command("readelf", "-n", real).Output()
	require.NoError(t, err, "readelf -n %s", real)
	m := regexp.MustCompile(`Build ID: ([0-9a-f]+)`).FindSubmatch(readelf)
	require.NotNil(t, m, "readelf finds no build ID in %s:\n%s", real, readelf)

	truncated := elfData[:64]
	noNote := bytes.ReplaceAll(elfData, []byte(".note.gnu.build-id"), []byte(".note.gnu.build-xx"))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"an ELF program with a build ID", elfData, fmt.Sprintf("elf-build-id:%s:%d", m[1], len(elfData))},
		{"a script", []byte("#!/bin/sh\nexit 0\n"), sha([]byte("#!/bin/sh\nexit 0\n"))},
		{"an ELF header cut short", truncated, sha(truncated)},
		{"an ELF program whose note section is renamed", noNote, sha(noNote)},
		{"an empty file", nil, sha(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := readAndHashFile(write(strings.ReplaceAll(tc.name, " ", "-"), tc.data))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
