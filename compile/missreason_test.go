package compile

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forgetfulStore is a store whose entries can be made to vanish, as
// eviction or "dcc clear" of entries alone would: manifests and the
// sources' history stay.
type forgetfulStore struct {
	cache.Store
	forget atomic.Bool
}

func (s *forgetfulStore) GetEntry(k cache.Key) (cache.Entry, error) {
	if s.forget.Load() {
		return cache.Entry{}, cache.ErrNotFound
	}
	return s.Store.GetEntry(k)
}

// missStep is one compile of a sequence, what is done before it and the
// DCC_LOG line it must leave.
type missStep struct {
	name    string
	before  func(t *testing.T, dir string, store *forgetfulStore)
	args    []string // nil: the sequence's usual arguments
	env     []string // added to the environment
	outcome string
	reason  string // miss_reason ("" for none)
	header  string
}

// write returns a step's before that writes files and lets them settle.
func write(files map[string]string) func(t *testing.T, dir string, _ *forgetfulStore) {
	return func(t *testing.T, dir string, _ *forgetfulStore) {
		writeTree(t, dir, files)
		settle(t, dir)
	}
}

// TestMissReasons compiles one source again and again, changing what a
// miss can come from in between, in preprocessor mode and in depend mode,
// and reads each compile's DCC_LOG line: its outcome, why it missed, the
// header it names, where it compiled; and the misses counted by reason.
func TestMissReasons(t *testing.T) {
	gcc := gccPath(t)
	usual := []string{"-O2", "-Ifirst", "-Iinc", "-MD", "-c", "src/a.c", "-o", "a.o"}
	other := []string{"-O1", "-Ifirst", "-Iinc", "-MD", "-c", "src/a.c", "-o", "a.o"}
	steps := []missStep{
		{name: "first compile", outcome: daemon.OutcomeMiss, reason: cache.MissNewSource},
		{name: "again", outcome: daemon.OutcomeDirectHit},
		{name: "header changed", before: write(map[string]string{"inc/a.h": "#define A 2\n"}),
			outcome: daemon.OutcomeMiss, reason: cache.MissChangedHeader, header: "inc/a.h"},
		{name: "after the header change", outcome: daemon.OutcomeDirectHit},
		{name: "a header appears first in the search path", before: write(map[string]string{"first/a.h": "#define A 3\n"}),
			outcome: daemon.OutcomeMiss, reason: cache.MissNewHeader, header: "first/a.h"},
		{name: "it goes again", before: func(t *testing.T, dir string, _ *forgetfulStore) {
			require.NoError(t, os.Remove(filepath.Join(dir, "first/a.h")))
		}, outcome: daemon.OutcomeDirectHit},
		{name: "source changed", before: write(map[string]string{"src/a.c": "#include <a.h>\nint a(void) { return A + 1; }\n"}),
			outcome: daemon.OutcomeMiss, reason: cache.MissSourceChanged},
		{name: "other arguments", args: other, outcome: daemon.OutcomeMiss, reason: cache.MissNewArguments},
		{name: "the usual arguments again", outcome: daemon.OutcomeDirectHit},
		{name: "source changed, then the other arguments", args: other,
			before:  write(map[string]string{"src/a.c": "#include <a.h>\nint a(void) { return A + 2; }\n"}),
			outcome: daemon.OutcomeMiss, reason: cache.MissSourceChanged},
		{name: "the result is gone", args: other, before: func(t *testing.T, _ string, store *forgetfulStore) {
			store.forget.Store(true)
		}, outcome: daemon.OutcomeMiss, reason: cache.MissNotInCache},
		{name: "recached", env: []string{RecacheEnv + "=1"}, before: func(t *testing.T, _ string, store *forgetfulStore) {
			store.forget.Store(false)
		}, outcome: daemon.OutcomeMiss, reason: cache.MissRecached},
		{name: "read-only", env: []string{ReadOnlyEnv + "=1"},
			before:  write(map[string]string{"src/a.c": "#include <a.h>\nint a(void) { return A + 3; }\n"}),
			outcome: daemon.OutcomeMiss, reason: cache.MissReadOnly},
		{name: "after read-only: the change is still new", outcome: daemon.OutcomeMiss, reason: cache.MissSourceChanged},
		{name: "another object", args: []string{"-O2", "-Ifirst", "-Iinc", "-MD", "-c", "src/a.c", "-o", "b.o"},
			outcome: daemon.OutcomeDirectHit},
		{name: "a compile error", before: write(map[string]string{"src/a.c": "int a(void) { return nope; }\n"}),
			outcome: daemon.OutcomeUncacheable},
		{name: "fixed", before: write(map[string]string{"src/a.c": "#include <a.h>\nint a(void) { return A + 4; }\n"}),
			outcome: daemon.OutcomeMiss, reason: cache.MissSourceChanged},
	}
	for _, depend := range []bool{false, true} {
		t.Run(map[bool]string{false: "preprocessor mode", true: "depend mode"}[depend], func(t *testing.T) {
			var store *forgetfulStore
			s := newTestServiceWith(t, func(o *Options) {
				store = &forgetfulStore{Store: o.Store}
				o.Store, o.DependMode, o.BypassDriver = store, depend, depend
			})
			dir := t.TempDir()
			require.NoError(t, os.Mkdir(filepath.Join(dir, "first"), 0o755))
			writeTree(t, dir, map[string]string{"inc/a.h": "#define A 1\n", "src/a.c": "#include <a.h>\nint a(void) { return A; }\n"})
			settle(t, dir)
			logPath := filepath.Join(dir, "dcc.log")
			want := map[string]int64{}
			for _, step := range steps {
				if step.before != nil {
					step.before(t, dir, store)
				}
				args := step.args
				if args == nil {
					args = usual
				}
				env := append(append(os.Environ(), "DCC_LOG="+logPath), step.env...)
				before := len(readDecisions(t, logPath))
				s.Compile(context.Background(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: args})
				lines := readDecisions(t, logPath)
				require.Len(t, lines, before+1, step.name)
				line := lines[before]
				assert.Equal(t, step.outcome, line["outcome"], "%s: %v", step.name, line)
				assert.Equal(t, step.reason, line["miss_reason"], "%s: %v", step.name, line)
				assert.Equal(t, step.header, line["header"], "%s: %v", step.name, line)
				assert.NotEmpty(t, line["duration_ms"], step.name)
				switch step.outcome {
				case daemon.OutcomeDirectHit:
					assert.Empty(t, line["compiled_on"], step.name)
				default:
					assert.Equal(t, daemon.CompiledHere, line["compiled_on"], step.name)
				}
				if step.reason != "" {
					want[step.reason]++
				}
			}
			st := s.opts.Stats.Snapshot()
			var misses int64
			for _, reason := range cache.MissReasons {
				assert.Equal(t, want[reason], st[cache.StatMissPrefix+reason], reason)
				misses += st[cache.StatMissPrefix+reason]
			}
			assert.Equal(t, st[cache.StatMisses], misses, "each miss counts in one reason")
		})
	}
}

// TestMissReasonsWithoutDirectMode: with direct mode off there is no
// manifest to name a header, but the history still tells a new source, new
// arguments and a changed source apart; the rest is "not in cache".
func TestMissReasonsWithoutDirectMode(t *testing.T) {
	gcc := gccPath(t)
	s := newTestServiceWith(t, func(o *Options) { o.DirectMode = false })
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.h": "#define A 1\n", "a.c": "#include \"a.h\"\nint a(void) { return A; }\n"})
	settle(t, dir)
	logPath := filepath.Join(dir, "dcc.log")
	tests := []struct {
		name            string
		files           map[string]string
		args            []string
		outcome, reason string
	}{
		{"first", nil, []string{"-c", "a.c"}, daemon.OutcomeMiss, cache.MissNewSource},
		{"again", nil, []string{"-c", "a.c"}, daemon.OutcomePreprocessedHit, ""},
		{"other arguments", nil, []string{"-O1", "-c", "a.c"}, daemon.OutcomeMiss, cache.MissNewArguments},
		{"source changed", map[string]string{"a.c": "#include \"a.h\"\nint a(void) { return A + 1; }\n"}, []string{"-c", "a.c"},
			daemon.OutcomeMiss, cache.MissSourceChanged},
		{"header changed", map[string]string{"a.h": "#define A 2\n"}, []string{"-c", "a.c"}, daemon.OutcomeMiss, cache.MissNotInCache},
	}
	for _, tt := range tests {
		if tt.files != nil {
			writeTree(t, dir, tt.files)
			settle(t, dir)
		}
		env := append(os.Environ(), "DCC_LOG="+logPath)
		s.Compile(context.Background(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: env, Args: tt.args})
		lines := readDecisions(t, logPath)
		line := lines[len(lines)-1]
		assert.Equal(t, tt.outcome, line["outcome"], "%s: %v", tt.name, line)
		assert.Equal(t, tt.reason, line["miss_reason"], "%s: %v", tt.name, line)
	}
}
