package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dcc-build/dcc/config"
)

// Limits of the text frame.
const (
	// maxBarWidth is the widest busy bar, in characters: a host with more
	// slots gets a bar scaled down to it.
	maxBarWidth = 16
	// maxJobLines is the most jobs listed under a host.
	maxJobLines = 8
	// maxSourceWidth is the most characters of a source name shown; a
	// longer one keeps its end.
	maxSourceWidth = 60
)

// renderFrame prints f as text: a header, the local figures, the farm's
// totals, and a table of the hosts with each host's jobs in flight below
// its row.
func renderFrame(w io.Writer, f farmFrame) error {
	var b strings.Builder
	t, err := time.Parse(time.RFC3339, f.Time)
	when := f.Time
	if err == nil {
		when = t.Format("15:04:05")
	}
	remote := "off"
	if f.Remote {
		remote = "on"
	}
	daemonText := "no daemon"
	if f.DaemonPID > 0 {
		daemonText = fmt.Sprintf("daemon pid %d", f.DaemonPID)
	}
	fmt.Fprintf(&b, "dcc monitor  %s  every %s  %s  remote compiling %s\n", when,
		time.Duration(f.IntervalSeconds*float64(time.Second)), daemonText, remote)
	if f.Note != "" {
		fmt.Fprintf(&b, "note: %s\n", f.Note)
	}
	if f.DaemonPID > 0 {
		l := f.Local
		fmt.Fprintf(&b, "local  hits %d (%s)  misses %d (%s)  on hosts %d (%s)  fallbacks %d  errors %d  hit rate %s  cache %s / %s, %d entries\n",
			l.Hits, perSecond(l.HitsPerSecond), l.Misses, perSecond(l.MissesPerSecond), l.Remote, perSecond(l.RemotePerSecond),
			l.Fallbacks, l.Errors, percent(l.Hits, l.Hits+l.Misses), config.FormatSize(l.CacheSize), config.FormatSize(l.MaxSize), l.Entries)
	}
	if len(f.Hosts) > 0 {
		fm := f.Farm
		fmt.Fprintf(&b, "farm   %d of %d hosts up  slots %d  busy %d  queued %d  this client's jobs in flight %d\n\n",
			fm.HostsUp, len(f.Hosts), fm.Slots, fm.Busy, fm.Queued, fm.InFlight)
		hostTable(&b, f.Hosts)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// hostTable writes the hosts' table.
func hostTable(b *strings.Builder, hosts []hostFrame) {
	rows := [][]string{{"HOST", "STATE", "BUSY", "QUEUED", "MINE", "RATE", "SENT/OK/FAILED", "BACKOFF", "SERVER / ERROR"}}
	for _, h := range hosts {
		busy, queued := "-", "-"
		if h.Slots > 0 {
			busy = fmt.Sprintf("%s %d/%d", busyBar(h.Busy, h.Slots, maxBarWidth), h.Busy, h.Slots)
			queued = strconv.Itoa(h.Queued)
		}
		backoff := "-"
		if h.BackoffSeconds > 0 {
			backoff = time.Duration(h.BackoffSeconds * float64(time.Second)).Round(100 * time.Millisecond).String()
		}
		last := h.Server
		if h.Error != "" {
			last = h.Error
		}
		rows = append(rows, []string{h.Host, h.State, busy, queued, strconv.Itoa(h.InFlight), perSecond(h.CompilesPerSecond),
			fmt.Sprintf("%d/%d/%d", h.Sent, h.OK, h.Failed), backoff, last})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for i, r := range rows {
		for j, c := range r {
			if j == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c + strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)+2))
		}
		b.WriteString("\n")
		if i > 0 {
			jobLines(b, hosts[i-1].Jobs)
		}
	}
}

// jobLines lists a host's jobs in flight, indented under its row.
func jobLines(b *strings.Builder, jobs []jobFrame) {
	for i, j := range jobs {
		if i == maxJobLines {
			fmt.Fprintf(b, "    ... and %d more\n", len(jobs)-i)
			return
		}
		fmt.Fprintf(b, "    > %s  %.1fs\n", shortSource(j.Source), j.ElapsedSeconds)
	}
}

// busyBar draws busy of slots as "[###-----]", at most width characters
// inside the brackets; a busy host never shows an empty bar, nor a host
// with a free slot a full one.
func busyBar(busy, slots, width int) string {
	if slots <= 0 {
		return "[]"
	}
	n := min(slots, width)
	full := min(busy, slots) * n / slots
	if busy > 0 && full == 0 {
		full = 1
	}
	if busy < slots && full == n && n > 1 {
		full = n - 1
	}
	return "[" + strings.Repeat("#", full) + strings.Repeat("-", n-full) + "]"
}

// shortSource keeps the end of a long source name.
func shortSource(s string) string {
	if s == "" {
		return "?"
	}
	if n := utf8.RuneCountInString(s); n > maxSourceWidth {
		r := []rune(s)
		return "..." + string(r[n-maxSourceWidth+3:])
	}
	return s
}

// perSecond formats a rate: "2.5/s", or "-" when unknown.
func perSecond(r *float64) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatFloat(*r, 'f', 1, 64) + "/s"
}

// percent is n of total as "12.5%", or "-" when total is 0.
func percent(n, total int64) string {
	if total == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64) + "%"
}
