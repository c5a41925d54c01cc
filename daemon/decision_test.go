package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each DCC_LOG line holds the decision, the outcome ("local" when the
// wrapper writes it), the fields about a miss and where it compiled only
// when set, and the daemon's time when there was one.
func TestAppendDecision(t *testing.T) {
	base := Decision{Compiler: "gcc", Real: "/usr/bin/gcc", Dir: "/w", Action: "remote", Reason: "compiles c source a.c to a.o",
		Source: "a.c", Object: "a.o"}
	with := func(f func(d *Decision)) Decision {
		d := base
		f(&d)
		return d
	}
	tests := []struct {
		name string
		d    Decision
		want map[string]any
	}{
		{"the wrapper's own line", Decision{Compiler: "gcc", Real: "/usr/bin/gcc", Dir: "/w", Action: "local", Reason: "DCC_DISABLE is set"},
			map[string]any{"compiler": "gcc", "real": "/usr/bin/gcc", "dir": "/w", "action": "local", "reason": "DCC_DISABLE is set",
				"source": "", "object": "", "outcome": OutcomeLocal}},
		{"a direct hit", with(func(d *Decision) { d.Outcome, d.Duration = OutcomeDirectHit, 1500*time.Microsecond }),
			map[string]any{"outcome": OutcomeDirectHit, "duration_ms": 1.5}},
		{"a miss compiled here", with(func(d *Decision) {
			d.Outcome, d.MissReason, d.MissHeader, d.CompiledOn, d.Duration = OutcomeMiss, "changed_header", "inc/a.h", CompiledHere, 42*time.Millisecond
		}), map[string]any{"outcome": OutcomeMiss, "miss_reason": "changed_header", "header": "inc/a.h", "compiled_on": "here", "duration_ms": 42.0}},
		{"a miss that fell back", with(func(d *Decision) {
			d.Outcome, d.MissReason, d.CompiledOn, d.Fallback, d.Duration = OutcomeMiss, "new_source", CompiledHere, "no free host", time.Millisecond
		}), map[string]any{"miss_reason": "new_source", "compiled_on": "here", "fallback": "no free host", "duration_ms": 1.0}},
		{"a shared-cache hit", with(func(d *Decision) {
			d.Outcome, d.SharedHost, d.Duration = OutcomeSharedHit, "10.0.0.5:9693", time.Millisecond
		}), map[string]any{"outcome": OutcomeSharedHit, "shared_host": "10.0.0.5:9693", "duration_ms": 1.0}},
	}
	optional := []string{"miss_reason", "header", "compiled_on", "fallback", "shared_host", "duration_ms"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dcc.log")
			AppendDecision(context.Background(), path, tt.d)
			AppendDecision(context.Background(), path, tt.d)
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			var lines []map[string]any
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var m map[string]any
				require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
				lines = append(lines, m)
			}
			require.Len(t, lines, 2, "appended, one line each")
			line := lines[0]
			assert.Equal(t, "compile", line["msg"])
			for k, v := range tt.want {
				assert.Equal(t, v, line[k], k)
			}
			for _, k := range optional {
				if _, wanted := tt.want[k]; !wanted {
					assert.NotContains(t, line, k, "left out when not set")
				}
			}
		})
	}
}

// A log that cannot be written is skipped.
func TestAppendDecisionUnwritable(t *testing.T) {
	AppendDecision(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir", "dcc.log"), Decision{})
}
