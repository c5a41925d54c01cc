package daemon

import (
	"context"
	"log/slog"
	"os"
	"time"
)

// LogEnv names a file to which dcc appends one JSON line per compile with
// what it decided. The daemon writes the line of every compile it is asked
// about; the wrapper writes it only when it runs the compiler without asking.
const LogEnv = "DCC_LOG"

// What happened to a compile: the outcome of a Decision. Each is the
// statistics counter the compile counted in ("dcc stats").
const (
	// OutcomeDirectHit: found in direct mode (hits, direct_hits).
	OutcomeDirectHit = "direct_hit"
	// OutcomePreprocessedHit: found after preprocessing (hits,
	// preprocessed_hits).
	OutcomePreprocessedHit = "preprocessed_hit"
	// OutcomeSharedHit: found in the team's shared cache on a host (hits,
	// remote_cache_hits).
	OutcomeSharedHit = "shared_cache_hit"
	// OutcomeMiss: compiled, here or on a host, and stored (misses).
	OutcomeMiss = "miss"
	// OutcomeUncacheable: cacheable in principle, but not this time: the
	// compile failed, the preprocessor rejected it, ... (uncacheable).
	OutcomeUncacheable = "uncacheable"
	// OutcomeLocal: run unchanged by the wrapper (local).
	OutcomeLocal = "local"
	// OutcomeError: something inside dcc failed; the compiler ran anyway
	// (errors).
	OutcomeError = "error"
)

// CompiledHere is a Decision's CompiledOn for a compile run on this machine.
const CompiledHere = "here"

// Decision is one line of the LogEnv file.
type Decision struct {
	// Compiler is the compiler as named; Real the one run; Dir the working
	// directory.
	Compiler, Real, Dir string
	// Action is the classification ("cache", "remote", "local") and Reason
	// why.
	Action, Reason string
	// Source and Object are the compile's input and object, when known.
	Source, Object string
	// Outcome is what happened (Outcome...; "" is OutcomeLocal, as in the
	// wrapper's own lines).
	Outcome string
	// MissReason says why a miss missed (cache.Miss...), and MissHeader
	// names the header that changed or appeared, for those reasons.
	MissReason, MissHeader string
	// CompiledOn is where a compile the daemon ran ran: CompiledHere or a
	// host's address. Fallback says why a compile that could have gone to
	// a host ran here.
	CompiledOn, Fallback string
	// SharedHost is the host whose shared cache answered a shared-cache
	// hit, when known.
	SharedHost string
	// Duration is the time the compile took in the daemon (0: not asked).
	Duration time.Duration
}

// AppendDecision appends d to the file at path as one JSON line: the
// decision, the outcome, and those of the other fields that are set. It
// never fails a compile: a log that cannot be written is skipped.
func AppendDecision(ctx context.Context, path string, d Decision) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	outcome := d.Outcome
	if outcome == "" {
		outcome = OutcomeLocal
	}
	attrs := []slog.Attr{
		slog.String("compiler", d.Compiler), slog.String("real", d.Real), slog.String("dir", d.Dir),
		slog.String("action", d.Action), slog.String("reason", d.Reason),
		slog.String("source", d.Source), slog.String("object", d.Object),
		slog.String("outcome", outcome),
	}
	for _, a := range []slog.Attr{
		slog.String("miss_reason", d.MissReason), slog.String("header", d.MissHeader),
		slog.String("compiled_on", d.CompiledOn), slog.String("fallback", d.Fallback),
		slog.String("shared_host", d.SharedHost),
	} {
		if a.Value.String() != "" {
			attrs = append(attrs, a)
		}
	}
	if d.Duration > 0 {
		// Milliseconds to the microsecond.
		attrs = append(attrs, slog.Float64("duration_ms", float64(d.Duration.Microseconds())/1000))
	}
	slog.New(slog.NewJSONHandler(f, nil)).LogAttrs(ctx, slog.LevelInfo, "compile", attrs...)
}
