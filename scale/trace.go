package scale

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Unit is one compile of a recorded build.
type Unit struct {
	// Name is the source file, relative to the project's tree.
	Name string
	// Duration is what compiling it took (the compiler's CPU time, which on
	// an idle machine is its wall time).
	Duration time.Duration
}

// Trace is a recorded build: its units in the order the build compiled them.
type Trace struct {
	// Project names the project the trace was recorded from.
	Project string
	Units   []Unit
}

// Total is the sum of the units' durations.
func (t *Trace) Total() time.Duration {
	var sum time.Duration
	for _, u := range t.Units {
		sum += u.Duration
	}
	return sum
}

// Take returns n units drawn from the trace in order, starting over from its
// first unit when n is larger than the trace.
func (t *Trace) Take(n int) []Unit {
	out := make([]Unit, n)
	for i := range out {
		out[i] = t.Units[i%len(t.Units)]
	}
	return out
}

// WriteTSV writes the trace as lines "name<TAB>milliseconds", after a
// comment line naming the project.
func (t *Trace) WriteTSV(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "# project\t%s\n# unit\tms\n", t.Project); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	for _, u := range t.Units {
		if _, err := fmt.Fprintf(w, "%s\t%d\n", u.Name, u.Duration.Milliseconds()); err != nil {
			return fmt.Errorf("write trace: %w", err)
		}
	}
	return nil
}

// ReadTrace reads a trace written by WriteTSV. A malformed line is an error
// naming the file and line.
func ReadTrace(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	defer f.Close()
	t := &Trace{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if p, ok := strings.CutPrefix(text, "# project\t"); ok {
			t.Project = p
			continue
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, ms, ok := strings.Cut(text, "\t")
		n, err := strconv.Atoi(ms)
		if !ok || err != nil || n < 0 || name == "" {
			return nil, fmt.Errorf("%s:%d: want \"unit<TAB>milliseconds\", got %q", path, line, text)
		}
		t.Units = append(t.Units, Unit{Name: name, Duration: time.Duration(n) * time.Millisecond})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read trace %s: %w", path, err)
	}
	if len(t.Units) == 0 {
		return nil, fmt.Errorf("%s: no units in the trace", path)
	}
	return t, nil
}
