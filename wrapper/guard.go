package wrapper

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ChainEnv is the environment marker dcc leaves for the compiler it starts: the
// real programs dcc has started so far in this chain, in PATH-list syntax. A dcc
// started again below them (a compiler script that calls "gcc", another wrapper
// that finds dcc's links) skips those programs, and a chain that grows past
// MaxChain is stopped with ErrLoop.
const ChainEnv = "DCC_CHAIN"

// MaxChain is how many times dcc may start a compiler within one process chain.
const MaxChain = 8

// ErrLoop is returned when dcc keeps being started by the compilers it starts.
var ErrLoop = errors.New("dcc keeps calling itself")

// ParseChain reads the ChainEnv marker.
func ParseChain(v string) []string {
	var chain []string
	for _, p := range filepath.SplitList(v) {
		if p != "" {
			chain = append(chain, p)
		}
	}
	return chain
}

// ExtendChain returns the marker value for a chain that now also runs real,
// or ErrLoop when the chain is already MaxChain long.
func ExtendChain(chain []string, real string) (string, error) {
	if len(chain) >= MaxChain {
		return "", fmt.Errorf("%w: %d compilers started in one chain (%s); check PATH and masquerade links",
			ErrLoop, len(chain), strings.Join(chain, " -> "))
	}
	abs, err := filepath.Abs(real)
	if err != nil {
		return "", fmt.Errorf("absolute path of %s: %w", real, err)
	}
	return strings.Join(append(chain, abs), string(os.PathListSeparator)), nil
}

// withEnv returns env with key set to value, replacing any earlier setting.
func withEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}
