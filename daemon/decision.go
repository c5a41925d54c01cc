package daemon

import (
	"context"
	"log/slog"
	"os"
)

// LogEnv names a file to which dcc appends one JSON line per compile with
// what it decided. The daemon writes the line of every compile it is asked
// about; the wrapper writes it only when it runs the compiler without asking.
const LogEnv = "DCC_LOG"

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
}

// AppendDecision appends d to the file at path as one JSON line. It never
// fails a compile: a log that cannot be written is skipped.
func AppendDecision(ctx context.Context, path string, d Decision) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	slog.New(slog.NewJSONHandler(f, nil)).LogAttrs(ctx, slog.LevelInfo, "compile",
		slog.String("compiler", d.Compiler), slog.String("real", d.Real), slog.String("dir", d.Dir),
		slog.String("action", d.Action), slog.String("reason", d.Reason),
		slog.String("source", d.Source), slog.String("object", d.Object))
}
