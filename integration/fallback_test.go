package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fallbackUnits is how many units the -j64-style builds compile at once.
const fallbackUnits = 64

// countingCompilerDir makes a directory holding a "gcc" that runs the real
// gcc and, when $DCC_TEST_COMPILES names a directory and the command
// compiles one of the test's units (u*.o, not -E), records there when it
// started and ended, so that the test can tell how many compiles ran here
// at once. The same script on a host's PATH serves the same toolchain (its
// contents are part of the key); hosts do not pass the variable on.
func countingCompilerDir(tb testing.TB) string {
	tb.Helper()
	real := requireTool(tb, "gcc")
	dir := sharedTempDir(tb)
	script := `#!/bin/sh
log=
case " $* " in *" -E "*) ;; *u[0-9][0-9].o*) log=$DCC_TEST_COMPILES ;; esac
[ -n "$log" ] && [ -d "$log" ] && date +%s%N > "$log/$$.start"
` + real + ` "$@"
rc=$?
[ -n "$log" ] && [ -d "$log" ] && date +%s%N > "$log/$$.end"
exit $rc
`
	require.NoError(tb, writeExecutable(filepath.Join(dir, "gcc"), script))
	return dir
}

// writeFallbackUnits writes fallbackUnits sources, each about a tenth of a
// second of gcc -O2.
func writeFallbackUnits(tb testing.TB, dir string) {
	tb.Helper()
	for u := range fallbackUnits {
		var b strings.Builder
		for f := range 3 {
			fmt.Fprintf(&b, "int u%d_f%d(int *a, int n) { int s = %d; for (int i = 0; i < n; i++) { s += a[i] * %d ^ (s >> 3);"+
				" if (s & 1) a[i] = s; else a[i] -= i * %d; } for (int j = n - 1; j > 0; j--) s += a[j] / (a[j-1] | 1); return s; }\n",
				u, f, u, f+3, f)
		}
		require.NoError(tb, os.WriteFile(filepath.Join(dir, fmt.Sprintf("u%02d.c", u)), []byte(b.String()), 0o644))
	}
}

// peakConcurrent reads the start and end times the counting compiler
// recorded in dir and returns how many compiles ran at once at most, and
// how many ran.
func peakConcurrent(tb testing.TB, dir string) (peak, n int) {
	tb.Helper()
	starts, err := filepath.Glob(filepath.Join(dir, "*.start"))
	require.NoError(tb, err)
	type event struct {
		at    int64
		delta int
	}
	var events []event
	for _, s := range starts {
		read := func(p string) int64 {
			b, err := os.ReadFile(p)
			require.NoError(tb, err)
			v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			require.NoError(tb, err)
			return v
		}
		events = append(events, event{read(s), 1}, event{read(strings.TrimSuffix(s, ".start") + ".end"), -1})
	}
	// Ends before starts at the same instant: touching is not overlapping.
	sort.Slice(events, func(i, j int) bool {
		return events[i].at < events[j].at || events[i].at == events[j].at && events[i].delta < events[j].delta
	})
	cur := 0
	for _, e := range events {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak, len(starts)
}

// machineSample is the peak, over a build, of the compilers (cc1) running
// on this machine, their summed resident memory, and the runnable threads
// (/proc/loadavg's instant count).
type machineSample struct {
	cc1, runnable int
	rss           int64
}

// sampleMachine samples every 10 ms until stop is closed, counting the
// compilers working below dir (the machine is shared with other tests).
func sampleMachine(dir string, stop <-chan struct{}) <-chan machineSample {
	ch := make(chan machineSample, 1)
	go func() {
		var peak machineSample
		page := int64(os.Getpagesize())
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				ch <- peak
				return
			case <-t.C:
			}
			if b, err := os.ReadFile("/proc/loadavg"); err == nil {
				if f := strings.Fields(string(b)); len(f) > 3 {
					if r, _, ok := strings.Cut(f[3], "/"); ok {
						n, _ := strconv.Atoi(r)
						peak.runnable = max(peak.runnable, n)
					}
				}
			}
			entries, _ := os.ReadDir("/proc")
			cc1, rss := 0, int64(0)
			for _, e := range entries {
				if _, err := strconv.Atoi(e.Name()); err != nil {
					continue
				}
				comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
				if err != nil || strings.TrimSpace(string(comm)) != "cc1" {
					continue
				}
				if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err != nil || !strings.HasPrefix(cwd+"/", dir+"/") {
					continue
				}
				cc1++
				if statm, err := os.ReadFile("/proc/" + e.Name() + "/statm"); err == nil {
					if f := strings.Fields(string(statm)); len(f) > 1 {
						pages, _ := strconv.ParseInt(f[1], 10, 64)
						rss += pages * page
					}
				}
			}
			peak.cc1 = max(peak.cc1, cc1)
			peak.rss = max(peak.rss, rss)
		}
	}()
	return ch
}

// compileAll runs every unit's compile at once (as make -j64 would), argv
// before the unit's arguments, and returns the first failure.
func compileAll(dir string, env []string, argv ...string) error {
	var wg sync.WaitGroup
	errs := make(chan error, fallbackUnits)
	for u := range fallbackUnits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append(append([]string{}, argv[1:]...), "-O2", "-c", fmt.Sprintf("u%02d.c", u), "-o", fmt.Sprintf("u%02d.o", u))
			cmd := exec.Command(argv[0], args...)
			cmd.Dir, cmd.Env = dir, env
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				errs <- fmt.Errorf("u%02d: %v: %s", u, err, out.String())
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// TestFallbacksHeldToCapacity: a client compiles 64 units at once (a -j64
// build) through two hosts, and both hosts die (SIGKILL) once they have
// compiles in flight: every unit falls back to this machine, but no more
// than local_jobs (2 here) compile at once; the rest wait. Every object is
// identical to a plain compile's. The test also runs the plain -j64 build
// and logs the peak of compilers running, their memory and the runnable
// threads of both, for docs/faults.md.
func TestFallbacksHeldToCapacity(t *testing.T) {
	t.Parallel()
	const localJobs = 2
	cc := countingCompilerDir(t)
	path := "PATH=" + cc + ":" + os.Getenv("PATH")
	h1 := launchHostEnv(t, freeAddr(t, "127.0.0.2"), 2, testToken, path)
	h2 := launchHostEnv(t, freeAddr(t, "127.0.0.3"), 2, testToken, path)

	plainDir, dccDir := t.TempDir(), t.TempDir()
	writeFallbackUnits(t, plainDir)
	writeFallbackUnits(t, dccDir)
	plainLog, dccLog := t.TempDir(), t.TempDir()
	gcc := filepath.Join(cc, "gcc")

	stop := make(chan struct{})
	sample := sampleMachine(plainDir, stop)
	start := time.Now()
	require.NoError(t, compileAll(plainDir, append(os.Environ(), "DCC_TEST_COMPILES="+plainLog), gcc))
	plainTook := time.Since(start)
	close(stop)
	plainPeak := <-sample

	d := newProjectDaemon(t, "60s")
	t.Cleanup(func() { d.stop(t) })
	env := append(append(os.Environ(), d.env...), hostsEnv(32, h1, h2)...)
	env = append(env, path, "DCC_TEST_COMPILES="+dccLog, "DCC_BYPASS_DRIVER=false",
		fmt.Sprintf("DCC_LOCAL_JOBS=%d", localJobs))
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for deadline := time.Now().Add(time.Minute); len(h1.compiles(t)) == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		h1.kill(syscall.SIGKILL)
		h2.kill(syscall.SIGKILL)
	}()
	stop = make(chan struct{})
	sample = sampleMachine(dccDir, stop)
	start = time.Now()
	err := compileAll(dccDir, env, dccBin, gcc)
	dccTook := time.Since(start)
	close(stop)
	dccPeak := <-sample
	<-killed
	require.NoError(t, err)

	peak, n := peakConcurrent(t, dccLog)
	plainConc, plainN := peakConcurrent(t, plainLog)
	st := d.stats(t)
	t.Logf("plain -j%d: %s, %d compiles, at most %d at once; peak cc1 %d, cc1 RSS %.0f MiB, runnable %d",
		fallbackUnits, plainTook.Round(time.Millisecond), plainN, plainConc, plainPeak.cc1, float64(plainPeak.rss)/(1<<20), plainPeak.runnable)
	t.Logf("dcc, both hosts killed: %s, %d compiles here, at most %d at once; peak cc1 %d, cc1 RSS %.0f MiB, runnable %d; stats %v",
		dccTook.Round(time.Millisecond), n, peak, dccPeak.cc1, float64(dccPeak.rss)/(1<<20), dccPeak.runnable, st)
	assert.Positive(t, n, "units fell back to this machine")
	assert.LessOrEqual(t, peak, localJobs, "no more than local_jobs compiles run here at once")
	assert.LessOrEqual(t, dccPeak.cc1, localJobs, "no more than local_jobs compilers seen running here at once")
	for u := range fallbackUnits {
		name := fmt.Sprintf("u%02d.o", u)
		assert.Equal(t, readFile(t, filepath.Join(plainDir, name)), readFile(t, filepath.Join(dccDir, name)), name)
	}
}
