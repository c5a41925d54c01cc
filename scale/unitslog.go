package scale

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dcc-build/dcc/server"
)

// unitRun is one line of the stand-in's units.log: a unit it compiled.
type unitRun struct {
	start, end time.Time
	ms         int
	cwd, tmp   string
	// host is the index in the farm of the host it ran on, -1 for none
	// (set by placeRuns).
	host int
}

// readUnitRuns reads the units.log lines of compiles that started at or
// after since.
func readUnitRuns(path string, since time.Time) ([]unitRun, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("units log: %w", err)
	}
	defer f.Close()
	var runs []unitRun
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 6 {
			continue
		}
		s, err1 := strconv.ParseInt(fields[0], 10, 64)
		e, err2 := strconv.ParseInt(fields[1], 10, 64)
		ms, err3 := strconv.Atoi(fields[2])
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		r := unitRun{start: time.Unix(0, s), end: time.Unix(0, e), ms: ms, cwd: fields[3], tmp: fields[4]}
		if !r.start.Before(since) {
			runs = append(runs, r)
		}
	}
	return runs, sc.Err()
}

// placeRuns counts where the units ran: on each host (by its index in f)
// and here, on the clients; busy is the slot time the hosts spent on them.
// It sets each run's host (-1: on a client, or on no host known).
func placeRuns(env *Env, f *farm, runs []unitRun) (perHost []int, local int, busy time.Duration) {
	perHost = make([]int, len(f.hosts))
	prefixes := make([][]string, len(f.hosts))
	for i, h := range f.hosts {
		if h.work != "" {
			work, err := filepath.EvalSymlinks(h.work)
			if err != nil {
				work = h.work
			}
			prefixes[i] = []string{work + "/", server.ShmTreeDir(work) + "/"}
		}
	}
	for k := range runs {
		r := &runs[k]
		r.host = -1
		if r.onClient(env) {
			local++
			continue
		}
		busy += r.end.Sub(r.start)
		for i, h := range f.hosts {
			if h.tmp != "" && (r.tmp == h.tmp || strings.HasPrefix(r.cwd+"/", h.tmp+"/")) || hasPrefix(r.cwd+"/", prefixes[i]) {
				perHost[i]++
				r.host = i
				break
			}
		}
	}
	return perHost, local, busy
}

// hostBusyBefore is the slot time the hosts spent on runs before t; the
// runs on the clients are left out.
func hostBusyBefore(env *Env, runs []unitRun, t time.Time) time.Duration {
	var busy time.Duration
	for _, r := range runs {
		if r.onClient(env) || !r.start.Before(t) {
			continue
		}
		end := r.end
		if end.After(t) {
			end = t
		}
		busy += end.Sub(r.start)
	}
	return busy
}

// onClient reports whether the run compiled on a client, not a host.
func (r unitRun) onClient(env *Env) bool {
	return strings.HasPrefix(r.cwd+"/", filepath.Join(env.Work, "clients")+"/")
}

// hasPrefix reports whether s starts with one of prefixes.
func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
