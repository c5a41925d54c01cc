package server

import (
	"os"
	"testing"

	"github.com/dcc-build/dcc/server/sandboxworker"
)

// TestMain lets the test binary serve as the sandbox worker: the servers
// the tests start run it in their slots' sandboxes, as dcc-server runs
// itself.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandboxworker.Arg {
		os.Exit(sandboxworker.Main(os.Args[2:]))
	}
	os.Exit(m.Run())
}
