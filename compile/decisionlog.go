package compile

import (
	"context"
	"log/slog"
	"os"

	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/toolchain"
)

// decisionLogEnv names a file to which every compile appends one JSON line
// with what dcc decided: the wrapper's DCC_LOG, set in the compile's
// environment.
const decisionLogEnv = "DCC_LOG"

// logDecision appends the decision about req to the DCC_LOG file named in
// its environment, if any: the classification when the compile got that
// far (a), else "local" with the reason the result gives. It never fails a
// compile: a log that cannot be written is skipped.
func logDecision(ctx context.Context, req daemon.CompileRequest, a *toolchain.Analysis, res daemon.CompileResult) {
	path, ok := lookupEnv(req.Env, decisionLogEnv)
	if !ok || path == "" {
		return
	}
	f, err := os.OpenFile(resolve(req.Dir, path), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	action, reason, source, object := string(toolchain.ActionLocal), res.Reason, "", ""
	if a != nil {
		action, reason, source, object = string(a.Action), a.Reason, a.Source, a.Outputs.Object
	}
	slog.New(slog.NewJSONHandler(f, nil)).LogAttrs(ctx, slog.LevelInfo, "compile",
		slog.String("compiler", req.Compiler), slog.String("real", req.Real), slog.String("dir", req.Dir),
		slog.String("action", action), slog.String("reason", reason),
		slog.String("source", source), slog.String("object", object))
}
