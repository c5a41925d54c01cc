package daemon

import (
	"encoding/binary"
	"fmt"
	"time"
)

// The payload encoding: integers as varints (encoding/binary), strings and
// byte slices as a uvarint length and the bytes, lists as a uvarint count and
// the elements. A decoder checks every length and count against the bytes
// that remain before it allocates, so a payload of n bytes never makes it
// allocate more than a small multiple of n.

// encoder appends to a payload.
type encoder struct {
	b []byte
}

func (e *encoder) byte(v byte)     { e.b = append(e.b, v) }
func (e *encoder) uint(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bytes(v []byte)  { e.uint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) string(v string) { e.uint(uint64(len(v))); e.b = append(e.b, v...) }

func (e *encoder) bool(v bool) {
	if v {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

func (e *encoder) strings(v []string) {
	e.uint(uint64(len(v)))
	for _, s := range v {
		e.string(s)
	}
}

// decoder reads a payload; the first error sticks and zeroes what follows.
type decoder struct {
	b   []byte
	err error
}

// fail records the first error.
func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("message ends early")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad unsigned integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length or a count of items at least minSize bytes each,
// which must fit in what remains.
func (d *decoder) count(minSize int) int {
	n := d.uint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minSize) {
		d.fail("length %d exceeds the %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

// bytes returns a slice of the payload itself (no copy).
func (d *decoder) bytes() []byte {
	n := d.count(1)
	if d.err != nil || n == 0 {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	return string(d.bytes())
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad boolean")
	return false
}

func (d *decoder) strings() []string {
	n := d.count(1) // each string takes at least its length byte
	if d.err != nil || n == 0 {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.string()
	}
	return v
}

func (d *decoder) intField() int { return int(d.int()) }

// The bodies of each message kind.

func (e *encoder) hello(h *hello) {
	e.string(h.Magic)
	e.int(int64(h.Protocol))
	e.string(h.BuildID)
	e.int(int64(h.PID))
}

func (d *decoder) hello() *hello {
	return &hello{Magic: d.string(), Protocol: d.intField(), BuildID: d.string(), PID: d.intField()}
}

func (e *encoder) compileRequest(r *CompileRequest) {
	e.string(r.Compiler)
	e.string(r.Real)
	e.strings(r.Args)
	e.string(r.Dir)
	e.strings(r.Env)
}

func (d *decoder) compileRequest() *CompileRequest {
	return &CompileRequest{Compiler: d.string(), Real: d.string(), Args: d.strings(), Dir: d.string(), Env: d.strings()}
}

func (e *encoder) compileResult(r *CompileResult) {
	e.bool(r.Handled)
	e.string(r.Reason)
	e.bytes(r.Stdout)
	e.bytes(r.Stderr)
	e.int(int64(r.ExitCode))
}

func (d *decoder) compileResult() *CompileResult {
	return &CompileResult{Handled: d.bool(), Reason: d.string(), Stdout: d.bytes(), Stderr: d.bytes(), ExitCode: d.intField()}
}

func (e *encoder) stats(r *StatsReport) {
	e.uint(uint64(len(r.Counters)))
	for _, name := range sortedKeys(r.Counters) {
		e.string(name)
		e.int(r.Counters[name])
	}
	e.int(r.CacheSize)
	e.int(r.MaxSize)
	e.int(r.Entries)
	e.string(r.StatsSince)
}

func (d *decoder) stats() *StatsReport {
	n := d.count(2) // a name's length byte and a value byte
	r := &StatsReport{Counters: make(map[string]int64, n)}
	for range n {
		name := d.string()
		r.Counters[name] = d.int()
	}
	r.CacheSize, r.MaxSize, r.Entries, r.StatsSince = d.int(), d.int(), d.int(), d.string()
	return r
}

func (e *encoder) status(s *StatusReport) {
	e.int(int64(s.PID))
	e.int(int64(s.Protocol))
	e.string(s.BuildID)
	e.string(s.Socket)
	e.int(s.Started.UnixNano())
	e.int(int64(s.IdleTimeout))
	e.int(int64(s.Connections))
	e.int(int64(s.InFlight))
	e.int(s.Requests)
}

func (d *decoder) status() *StatusReport {
	return &StatusReport{PID: d.intField(), Protocol: d.intField(), BuildID: d.string(), Socket: d.string(),
		Started: time.Unix(0, d.int()), IdleTimeout: time.Duration(d.int()),
		Connections: d.intField(), InFlight: d.intField(), Requests: d.int()}
}

// Minimum encoded sizes of list elements, for count: every field takes at
// least one byte.
const (
	minHostReportSize  = 25
	minToolchainSize   = 6
	minInFlightSize    = 2
	minCleanReportSize = 3
)

func (e *encoder) hostReports(hosts []HostReport) {
	e.uint(uint64(len(hosts)))
	for i := range hosts {
		h := &hosts[i]
		e.string(h.Host)
		e.int(int64(h.Jobs))
		e.bool(h.Contacted)
		e.bool(h.Reachable)
		e.bool(h.Authenticated)
		e.string(h.Error)
		e.string(h.Server)
		e.uint(uint64(len(h.Toolchains)))
		for _, tc := range h.Toolchains {
			e.string(tc.Key)
			e.string(tc.Family)
			e.string(tc.Driver)
			e.string(tc.Version)
			e.string(tc.Target)
			e.bool(tc.Shipped)
		}
		e.int(int64(h.Slots))
		e.int(int64(h.Running))
		e.int(int64(h.Queued))
		e.int(int64(h.InFlight))
		e.int(int64(h.Backoff))
		e.int(h.Sent)
		e.int(h.OK)
		e.int(h.Failed)
		e.bool(h.Sandboxed)
		e.bool(h.Ships)
		e.int(h.Shipped)
		e.int(h.ShipBytes)
		e.uint(uint64(len(h.InFlightJobs)))
		for _, j := range h.InFlightJobs {
			e.string(j.Source)
			e.int(int64(j.Elapsed))
		}
		e.bool(h.ClockKnown)
		e.int(int64(h.ClockSkew))
		e.int(int64(h.ClockUncertainty))
	}
}

func (d *decoder) hostReports() []HostReport {
	n := d.count(minHostReportSize)
	if d.err != nil || n == 0 {
		return nil
	}
	hosts := make([]HostReport, n)
	for i := range hosts {
		h := &hosts[i]
		h.Host, h.Jobs = d.string(), d.intField()
		h.Contacted, h.Reachable, h.Authenticated = d.bool(), d.bool(), d.bool()
		h.Error, h.Server = d.string(), d.string()
		if m := d.count(minToolchainSize); m > 0 {
			h.Toolchains = make([]HostToolchain, m)
			for j := range h.Toolchains {
				h.Toolchains[j] = HostToolchain{Key: d.string(), Family: d.string(), Driver: d.string(),
					Version: d.string(), Target: d.string(), Shipped: d.bool()}
			}
		}
		h.Slots, h.Running, h.Queued, h.InFlight = d.intField(), d.intField(), d.intField(), d.intField()
		h.Backoff = time.Duration(d.int())
		h.Sent, h.OK, h.Failed = d.int(), d.int(), d.int()
		h.Sandboxed = d.bool()
		h.Ships, h.Shipped, h.ShipBytes = d.bool(), d.int(), d.int()
		if m := d.count(minInFlightSize); m > 0 {
			h.InFlightJobs = make([]InFlightJob, m)
			for j := range h.InFlightJobs {
				h.InFlightJobs[j] = InFlightJob{Source: d.string(), Elapsed: time.Duration(d.int())}
			}
		}
		h.ClockKnown, h.ClockSkew, h.ClockUncertainty = d.bool(), time.Duration(d.int()), time.Duration(d.int())
	}
	if d.err != nil {
		return nil
	}
	return hosts
}

func (e *encoder) cleanReports(reports []CleanReport) {
	e.uint(uint64(len(reports)))
	for _, r := range reports {
		e.string(r.Host)
		e.int(r.Removed)
		e.string(r.Error)
	}
}

func (d *decoder) cleanReports() []CleanReport {
	n := d.count(minCleanReportSize)
	if d.err != nil || n == 0 {
		return nil
	}
	reports := make([]CleanReport, n)
	for i := range reports {
		reports[i] = CleanReport{Host: d.string(), Removed: d.int(), Error: d.string()}
	}
	if d.err != nil {
		return nil
	}
	return reports
}
