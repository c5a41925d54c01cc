package compile

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/toolchain"
)

// compileNote is what one compile's DCC_LOG line says beyond the request:
// the classification, what happened and how long it took. The outcome is
// read from the counters the compile counts in (count), so the log and
// "dcc stats" agree.
type compileNote struct {
	start time.Time
	// a is the classification, once the compile got that far.
	a *toolchain.Analysis
	// outcome is a daemon.Outcome...; missReason and missHeader say why a
	// miss missed (whyMissed).
	outcome, missReason, missHeader string
	// host is the host that compiled the unit, or whose shared cache
	// answered; fallback why a unit that could have gone to a host
	// compiled here (the last reason given wins).
	host, fallback string
	// manifest is what the direct-mode lookup found under the direct key
	// and did not hit on: what missReason compares with.
	manifest []cache.ManifestResult
}

// count adds one to each named counter and notes the outcome they say.
func (n *compileNote) count(s *Service, names ...string) {
	s.count(names...)
	if n == nil {
		return
	}
	outcome := ""
	for _, name := range names {
		switch name {
		case cache.StatRemoteCacheHits:
			outcome = daemon.OutcomeSharedHit
		case cache.StatDirectHits:
			outcome = daemon.OutcomeDirectHit
		case cache.StatPreprocessedHits:
			if outcome == "" {
				outcome = daemon.OutcomePreprocessedHit
			}
		case cache.StatMisses:
			outcome = daemon.OutcomeMiss
		case cache.StatUncacheable:
			outcome = daemon.OutcomeUncacheable
		case cache.StatLocal:
			outcome = daemon.OutcomeLocal
		case cache.StatErrors:
			outcome = daemon.OutcomeError
		default:
			if host, ok := strings.CutPrefix(name, cache.StatHostPrefix); ok {
				n.host = host
			}
		}
	}
	if outcome != "" {
		n.outcome = outcome
	}
}

// count adds one to each named counter, notes the outcome for the DCC_LOG
// line, and counts a miss in its reason too (whyMissed).
func (j *job) count(names ...string) {
	for _, name := range names {
		if name == cache.StatMisses {
			names = append(names[:len(names):len(names)], cache.StatMissPrefix+j.whyMissed())
			break
		}
	}
	j.note.count(j.s, names...)
}

// onHost notes the host that compiled the unit, or whose shared cache
// answered ("" when not known).
func (j *job) onHost(host string) {
	if j.note != nil {
		j.note.host = host
	}
}

// fellBack notes why a unit that could have gone to a host is compiled
// here (format and args as fmt.Sprintf's); a later reason replaces an
// earlier one.
func (j *job) fellBack(format string, args ...any) {
	if j.note != nil {
		j.note.fallback = fmt.Sprintf(format, args...)
	}
}

// sawManifest notes the manifest a direct-mode lookup missed on.
func (j *job) sawManifest(m cache.Manifest) {
	if j.note != nil {
		j.note.manifest = m.Results
	}
}

// logDecision appends the decision about req to the DCC_LOG file named in
// its environment (relative to its directory), if any: the classification
// when the compile got that far, else "local" with the reason the result
// gives; what happened, why a miss missed, where the compile ran and how
// long the daemon took.
func logDecision(ctx context.Context, req daemon.CompileRequest, n *compileNote, res daemon.CompileResult) {
	path, ok := lookupEnv(req.Env, daemon.LogEnv)
	if !ok || path == "" {
		return
	}
	d := daemon.Decision{Compiler: req.Compiler, Real: req.Real, Dir: req.Dir,
		Action: string(toolchain.ActionLocal), Reason: res.Reason,
		Outcome: n.outcome, MissReason: n.missReason, MissHeader: n.missHeader, Duration: time.Since(n.start)}
	if a := n.a; a != nil {
		d.Action, d.Reason, d.Source, d.Object = string(a.Action), a.Reason, a.Source, a.Outputs.Object
	}
	switch d.Outcome {
	case "":
		// Nothing counted: dcc is disabled, the wrapper runs the compiler.
		d.Outcome = daemon.OutcomeLocal
	case daemon.OutcomeSharedHit:
		d.SharedHost = n.host
	}
	hit := d.Outcome == daemon.OutcomeDirectHit || d.Outcome == daemon.OutcomePreprocessedHit || d.Outcome == daemon.OutcomeSharedHit
	if res.Handled && !hit {
		// The daemon ran the compile (stored or not).
		d.CompiledOn = daemon.CompiledHere
		if n.host != "" {
			d.CompiledOn = n.host
		} else {
			d.Fallback = n.fallback
		}
	}
	daemon.AppendDecision(ctx, resolve(req.Dir, path), d)
}
