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

// mean returns the average of ds.
func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(max(1, len(ds)))
}

// median returns the middle of ds (the upper one of an even count).
func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// variant is one command line to time, with extra environment.
type variant struct {
	argv []string
	env  []string
}

// interleave runs each variant once per iteration, in turn, and returns each
// variant's median; interleaving spreads machine noise evenly over variants.
func interleave(b *testing.B, variants []variant, dir string, env []string) []time.Duration {
	b.Helper()
	times := make([][]time.Duration, len(variants))
	for i := 0; i < b.N; i++ {
		for v, va := range variants {
			times[v] = append(times[v], timeRun(b, dir, append(append([]string(nil), env...), va.env...), va.argv...))
		}
	}
	meds := make([]time.Duration, len(variants))
	for v := range times {
		meds[v] = median(times[v])
	}
	return meds
}

// passThrough is the environment that makes dcc run every compile unchanged.
var passThrough = []string{"DCC_DISABLE=1"}

// BenchmarkPassThroughGCC measures dcc in front of `gcc -c` on a small file,
// as ratios of medians of interleaved runs: pass-through (DCC_DISABLE=1, what
// dcc adds to a compile it does not cache) in prefix and masquerade use, and
// a warm cache hit.
func BenchmarkPassThroughGCC(b *testing.B) {
	gcc := requireTool(b, "gcc")
	dir := b.TempDir()
	writeFiles(b, dir, map[string]string{"small.c": "static int sq(int x) { return x * x; }\nint f(int a) { return sq(a) + 1; }\n"})
	masq := masqueradeDir(b, "gcc")
	env := append(os.Environ(), "PATH="+withPath(masq))
	meds := interleave(b, []variant{
		{argv: []string{gcc, "-O2", "-c", "small.c", "-o", "plain.o"}},
		{argv: []string{dccBin, "gcc", "-O2", "-c", "small.c", "-o", "prefix.o"}, env: passThrough},
		{argv: []string{filepath.Join(masq, "gcc"), "-O2", "-c", "small.c", "-o", "masq.o"}, env: passThrough},
		{argv: []string{dccBin, "gcc", "-O2", "-c", "small.c", "-o", "hit.o"}},
	}, dir, env)
	ratio := func(i int) float64 { return float64(meds[i]) / float64(meds[0]) }
	b.ReportMetric(float64(meds[0].Microseconds())/1000, "gcc-ms")
	b.ReportMetric(ratio(1), "prefix/gcc")
	b.ReportMetric(ratio(2), "masquerade/gcc")
	b.ReportMetric(ratio(3), "hit/gcc")
	b.Logf("gcc -c small.c: plain %v; pass-through dcc gcc %v (%.3fx), masquerade %v (%.3fx); cache hit %v (%.3fx); medians of %d interleaved runs",
		meds[0], meds[1], ratio(1), meds[2], ratio(2), meds[3], ratio(3), b.N)
}

// BenchmarkWrapperOverhead isolates the wrapper's own cost: a "compiler" that
// does nothing (/bin/true named cc), run directly and through a masquerade
// link with dcc passing it through.
func BenchmarkWrapperOverhead(b *testing.B) {
	trueBin := requireTool(b, "true")
	real := b.TempDir()
	require.NoError(b, os.Symlink(trueBin, filepath.Join(real, "cc")))
	masq := masqueradeDir(b, "cc")
	env := append(os.Environ(), "PATH="+withPath(masq, real))
	meds := interleave(b, []variant{
		{argv: []string{filepath.Join(real, "cc"), "-c", "a.c"}},
		{argv: []string{filepath.Join(masq, "cc"), "-c", "a.c"}, env: passThrough},
	}, b.TempDir(), env)
	b.ReportMetric(float64((meds[1] - meds[0]).Microseconds()), "added-µs")
	b.Logf("no-op compiler: direct %v, through dcc %v: dcc adds %v per compile (medians of %d interleaved runs)",
		meds[0], meds[1], meds[1]-meds[0], b.N)
}
