package toolchain

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClangTarget(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		want   string
		wantOK bool
	}{
		{[]string{"-c", "a.c"}, "", false},
		{[]string{"--target=aarch64-linux-gnu", "-c", "a.c"}, "aarch64-linux-gnu", true},
		{[]string{"-target", "armv7a-linux-gnueabihf", "-c", "a.c"}, "armv7a-linux-gnueabihf", true},
		{[]string{"--target=x86_64-linux-gnu", "-target", "aarch64-linux-gnu"}, "aarch64-linux-gnu", true},
		{[]string{"-target"}, "", false}, // no value: clang's own error
		{[]string{"-march=armv8.2-a", "-mcpu=cortex-a72"}, "", false},
	} {
		got, ok := ClangTarget(tc.args)
		assert.Equal(t, tc.wantOK, ok, "%v", tc.args)
		assert.Equal(t, tc.want, got, "%v", tc.args)
	}
}

func TestClangDriverArgs(t *testing.T) {
	got := ClangDriverArgs([]string{"-O2", "--sysroot=sr", "-isystem", "inc", "--gcc-toolchain", "/opt/gcc",
		"-gcc-toolchain", "../g", "--sysroot", "/abs/./x", "-c", "a.c"}, "/work/p")
	assert.Equal(t, []string{"--sysroot=/work/p/sr", "--gcc-toolchain=/opt/gcc", "--gcc-toolchain=/work/g", "--sysroot=/abs/x"}, got)
	assert.Empty(t, ClangDriverArgs([]string{"-O2", "--target=aarch64-linux-gnu", "-c", "a.c"}, "/"))
}

func TestSplitQuotedArgs(t *testing.T) {
	got := splitQuotedArgs(` "/usr/lib/llvm-14/bin/clang" "-cc1" "-triple" "aarch64-unknown-linux-gnu" "-D" "X=\"a b\"" "-o" "x\\y.o"`)
	assert.Equal(t, []string{"/usr/lib/llvm-14/bin/clang", "-cc1", "-triple", "aarch64-unknown-linux-gnu", "-D", `X="a b"`, "-o", `x\y.o`}, got)
}

// realClang returns clang's path, skipping the test without it (failing
// when DCC_REQUIRE_REAL is true).
func realClang(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs real compilers")
	}
	clang, err := exec.LookPath("clang")
	if err != nil {
		if on, _ := strconv.ParseBool(os.Getenv("DCC_REQUIRE_REAL")); on {
			t.Fatalf("clang not installed: %v", err)
		}
		t.Skipf("clang not installed: %v", err)
	}
	return clang
}

// TestProbeTargetReal probes clang for aarch64 under two spellings of the
// target and for its own target: the target's identity has the target's
// triple and a Plan, so a Key of its own, the same for both spellings; a
// target clang cannot compile by itself is refused.
func TestProbeTargetReal(t *testing.T) {
	clang := realClang(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var p Prober
	base, err := p.Probe(ctx, clang)
	require.NoError(t, err)
	a64, err := p.ProbeTarget(ctx, clang, "aarch64-linux-gnu")
	require.NoError(t, err)
	assert.Equal(t, "aarch64-unknown-linux-gnu", a64.Target)
	assert.NotEmpty(t, a64.Plan)
	assert.Empty(t, base.Plan)
	assert.Equal(t, base.Hash, a64.Hash, "the same programs")
	assert.NotEqual(t, base.Key(), a64.Key())
	again, err := p.ProbeTarget(ctx, clang, "aarch64-unknown-linux-gnu")
	require.NoError(t, err)
	assert.Equal(t, a64.Key(), again.Key(), "two spellings of one triple")
	own, err := p.ProbeTarget(ctx, clang, base.Target)
	require.NoError(t, err)
	assert.NotEqual(t, base.Key(), own.Key(), "a named target has a key of its own even when it is clang's own")
	_, err = p.ProbeTarget(ctx, clang, "bogus-none-nothing")
	assert.Error(t, err)
	gcc, err := exec.LookPath("gcc")
	if err == nil {
		_, err = p.ProbeTarget(ctx, gcc, "aarch64-linux-gnu")
		assert.ErrorContains(t, err, "only clang takes --target")
	}
}

// TestTargetPlanSeesGCCInstallation: the Plan changes with the GCC
// installation clang selects. A fake clang (a script) answers -### as
// clang 14 does with and without Debian's aarch64 gcc-cross.
func TestTargetPlanSeesGCCInstallation(t *testing.T) {
	dir := t.TempDir()
	n := 0
	fake := func(extra, install string) string {
		n++
		out := "Debian clang version 14.0.6\nTarget: aarch64-unknown-linux-gnu\n"
		if install != "" {
			out += "Selected GCC installation: " + install + "\n"
		}
		out += ` "/usr/lib/llvm-14/bin/clang" "-cc1" "-triple" "aarch64-unknown-linux-gnu" "-emit-obj" ` +
			`"-resource-dir" "/usr/lib/llvm-14/lib/clang/14.0.6" "-fdebug-compilation-dir=/" "-target-cpu" "generic"` +
			extra + ` "-o" "dcc-target-probe.o" "-x" "cpp-output" "/dev/null"` + "\n"
		text := filepath.Join(dir, fmt.Sprintf("out%d", n))
		require.NoError(t, os.WriteFile(text, []byte(out), 0o644))
		exe := filepath.Join(dir, fmt.Sprintf("clang%d", n))
		require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\ncat "+text+" >&2\n"), 0o755))
		return exe
	}
	ctx := context.Background()
	atomics := ` "-target-feature" "+outline-atomics"`
	with, _, _, err := clangTargetPlanTriple(ctx, fake(atomics, "/usr/bin/../lib/gcc-cross/aarch64-linux-gnu/12"))
	require.NoError(t, err)
	without, _, _, err := clangTargetPlanTriple(ctx, fake("", ""))
	require.NoError(t, err)
	noAtomics, _, _, err := clangTargetPlanTriple(ctx, fake("", "/usr/bin/../lib/gcc-cross/aarch64-linux-gnu/12"))
	require.NoError(t, err)
	elsewhere, triple, gccDir, err := clangTargetPlanTriple(ctx, fake(atomics, "/opt/x/bin/../lib/gcc-cross/aarch64-linux-gnu/12"))
	require.NoError(t, err)
	older, _, _, err := clangTargetPlanTriple(ctx, fake(atomics, "/usr/bin/../lib/gcc-cross/aarch64-linux-gnu/11"))
	require.NoError(t, err)
	assert.Equal(t, "aarch64-unknown-linux-gnu", triple)
	assert.Equal(t, "/opt/x/bin/../lib/gcc-cross/aarch64-linux-gnu/12", gccDir)
	assert.NotEqual(t, with, without, "no installation")
	assert.NotEqual(t, with, noAtomics, "the cc1 command line")
	assert.NotEqual(t, with, older, "the installation's version")
	assert.Equal(t, with, elsewhere, "where the installation is does not count, its triple and version do")
}

// clangTargetPlanTriple runs clangTargetPlan for aarch64-linux-gnu and
// returns the plan first.
func clangTargetPlanTriple(ctx context.Context, exe string) (plan, triple, gccDir string, err error) {
	triple, plan, gccDir, err = clangTargetPlan(ctx, exe, "aarch64-linux-gnu", nil)
	return plan, triple, gccDir, err
}

// TestProbeTargetMemo: a target is probed once (clang's --version, then
// -###), answered from memory after, and probed again when clang changes.
func TestProbeTargetMemo(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "runs")
	out := "Debian clang version 14.0.6\nTarget: aarch64-unknown-linux-gnu\n" +
		` "/usr/lib/llvm-14/bin/clang" "-cc1" "-triple" "aarch64-unknown-linux-gnu" "-emit-obj" "-target-cpu" "generic"` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "out"), []byte(out), 0o644))
	exe := filepath.Join(dir, "clang")
	script := "#!/bin/sh\necho run >> " + count + "\ncat " + filepath.Join(dir, "out") + " >&2\n"
	require.NoError(t, os.WriteFile(exe, []byte(script), 0o755))
	runs := func() int {
		b, _ := os.ReadFile(count)
		return len(b) / len("run\n")
	}
	ctx := context.Background()
	var p Prober
	first, err := p.ProbeTarget(ctx, exe, "aarch64-linux-gnu")
	require.NoError(t, err)
	assert.Equal(t, 2, runs(), "--version and -###")
	again, err := p.ProbeTarget(ctx, exe, "aarch64-linux-gnu")
	require.NoError(t, err)
	assert.Equal(t, 2, runs(), "from memory")
	assert.Equal(t, first.Key(), again.Key())
	_, err = p.ProbeTarget(ctx, exe, "aarch64-linux-gnu", "--sysroot=/x")
	require.NoError(t, err)
	assert.Equal(t, 3, runs(), "other driver options: -### again, clang's identity from memory")
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, os.WriteFile(exe, []byte(script+"# changed\n"), 0o755))
	_, err = p.ProbeTarget(ctx, exe, "aarch64-linux-gnu")
	require.NoError(t, err)
	assert.Equal(t, 5, runs(), "clang changed: probed again")
}
