package compile

import (
	"context"

	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/toolchain"
)

// logDecision appends the decision about req to the DCC_LOG file named in
// its environment (relative to its directory), if any: the classification
// when the compile got that far (a), else "local" with the reason the
// result gives.
func logDecision(ctx context.Context, req daemon.CompileRequest, a *toolchain.Analysis, res daemon.CompileResult) {
	path, ok := lookupEnv(req.Env, daemon.LogEnv)
	if !ok || path == "" {
		return
	}
	d := daemon.Decision{Compiler: req.Compiler, Real: req.Real, Dir: req.Dir,
		Action: string(toolchain.ActionLocal), Reason: res.Reason}
	if a != nil {
		d.Action, d.Reason, d.Source, d.Object = string(a.Action), a.Reason, a.Source, a.Outputs.Object
	}
	daemon.AppendDecision(ctx, resolve(req.Dir, path), d)
}
