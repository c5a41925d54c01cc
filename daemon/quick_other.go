//go:build !unix

package daemon

import (
	"fmt"
	"time"
)

// QuickCompile has no fast path here: it reports the daemon as not
// running, and the caller goes the long way (Ensure, then Compile).
func QuickCompile(socketPath, _ string, _ CompileRequest, _ time.Duration) (CompileResult, error) {
	return CompileResult{}, fmt.Errorf("%w: %s: no quick path on this system", ErrNotRunning, socketPath)
}
