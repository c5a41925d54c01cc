package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// timeRun runs argv in dir with env and returns how long it took.
func timeRun(b *testing.B, dir string, env []string, argv ...string) time.Duration {
	b.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	require.NoError(b, err, "%v: %s", argv, out)
	return d
}

// median of durations.
func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// interleave runs each variant once per iteration, in turn, and returns each
// variant's median; interleaving spreads machine noise evenly over variants.
func interleave(b *testing.B, variants [][]string, dir string, env []string) []time.Duration {
	b.Helper()
	times := make([][]time.Duration, len(variants))
	for i := 0; i < b.N; i++ {
		for v, argv := range variants {
			times[v] = append(times[v], timeRun(b, dir, env, argv...))
		}
	}
	meds := make([]time.Duration, len(variants))
	for v := range times {
		meds[v] = median(times[v])
	}
	return meds
}

// BenchmarkPassThroughGCC measures what dcc adds in front of `gcc -c` on a
// small file, in prefix and masquerade use, as ratios of medians of
// interleaved runs.
func BenchmarkPassThroughGCC(b *testing.B) {
	gcc := requireTool(b, "gcc")
	dir := b.TempDir()
	writeFiles(b, dir, map[string]string{"small.c": "static int sq(int x) { return x * x; }\nint f(int a) { return sq(a) + 1; }\n"})
	masq := masqueradeDir(b, "gcc")
	env := append(os.Environ(), "PATH="+withPath(masq))
	meds := interleave(b, [][]string{
		{gcc, "-O2", "-c", "small.c", "-o", "plain.o"},
		{dccBin, "gcc", "-O2", "-c", "small.c", "-o", "prefix.o"},
		{filepath.Join(masq, "gcc"), "-O2", "-c", "small.c", "-o", "masq.o"},
	}, dir, env)
	b.ReportMetric(float64(meds[0].Microseconds())/1000, "gcc-ms")
	b.ReportMetric(float64(meds[1])/float64(meds[0]), "prefix/gcc")
	b.ReportMetric(float64(meds[2])/float64(meds[0]), "masquerade/gcc")
	b.Logf("gcc -c small.c: plain %v, dcc gcc %v (%.3fx), masquerade %v (%.3fx); medians of %d interleaved runs",
		meds[0], meds[1], float64(meds[1])/float64(meds[0]), meds[2], float64(meds[2])/float64(meds[0]), b.N)
}

// BenchmarkWrapperOverhead isolates dcc's own cost: a "compiler" that does
// nothing (/bin/true named cc), run directly and through a masquerade link.
func BenchmarkWrapperOverhead(b *testing.B) {
	trueBin := requireTool(b, "true")
	real := b.TempDir()
	require.NoError(b, os.Symlink(trueBin, filepath.Join(real, "cc")))
	masq := masqueradeDir(b, "cc")
	env := append(os.Environ(), "PATH="+withPath(masq, real))
	meds := interleave(b, [][]string{
		{filepath.Join(real, "cc"), "-c", "a.c"},
		{filepath.Join(masq, "cc"), "-c", "a.c"},
	}, b.TempDir(), env)
	b.ReportMetric(float64((meds[1] - meds[0]).Microseconds()), "added-µs")
	b.Logf("no-op compiler: direct %v, through dcc %v: dcc adds %v per compile (medians of %d interleaved runs)",
		meds[0], meds[1], meds[1]-meds[0], b.N)
}
