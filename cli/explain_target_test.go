package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExplainClangTarget: dcc explain shows, for clang with --target, the
// identity the daemon keys and sends the compile under: the target's
// triple, a plan, and a key apart from clang's own.
func TestExplainClangTarget(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		if on, _ := strconv.ParseBool(os.Getenv("DCC_REQUIRE_REAL")); on {
			t.Fatalf("clang not installed: %v", err)
		}
		t.Skipf("clang not installed: %v", err)
	}
	explain := func(args ...string) explanation {
		code, out, errOut := runDcc(t, append([]string{"explain", "clang"}, args...)...)
		require.Zero(t, code, errOut)
		var e explanation
		require.NoError(t, json.Unmarshal([]byte(out), &e), out)
		require.Empty(t, e.IdentityError)
		require.NotNil(t, e.Identity)
		return e
	}
	own := explain("-c", "a.c")
	a64 := explain("--target=aarch64-linux-gnu", "-c", "a.c")
	assert.Empty(t, own.Identity.Plan)
	assert.Equal(t, "aarch64-unknown-linux-gnu", a64.Identity.Target)
	assert.NotEmpty(t, a64.Identity.Plan)
	assert.NotEqual(t, own.IdentityKey, a64.IdentityKey)
	assert.Equal(t, a64.Identity.Key(), a64.IdentityKey)
}
