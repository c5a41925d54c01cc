package compile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dcc-build/dcc/toolchain"
)

// builtinProbeTimeout bounds one run that lists a compiler's built-in
// include directories.
const builtinProbeTimeout = 10 * time.Second

// maxBuiltinMemo bounds the remembered lists; past it the memo starts afresh.
const maxBuiltinMemo = 256

// builtinMemo remembers the built-in include directories of each compiler,
// language and set of options that move them, and the runs under way, so
// that the first compiles of a build share one run. The zero value is ready.
type builtinMemo struct {
	mu    sync.Mutex
	lists map[string]*builtinList
}

// builtinList is one remembered or running listing.
type builtinList struct {
	done chan struct{} // closed when dirs and err are set
	dirs []string
	err  error
}

// includePathEnv are the variables that add include directories; the probe
// runs without them, so that it lists only the compiler's own.
var includePathEnv = []string{"CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH", "OBJCPLUS_INCLUDE_PATH"}

// builtinDirs returns the directories the compiler searches after the ones
// the command and the environment name (/usr/include and the like), in
// order, from "-E -v" on an empty input, remembered per compiler, language
// and options. cl-style compilers have none beyond INCLUDE.
func (s *Service) builtinDirs(ctx context.Context, j *job) ([]string, error) {
	l := s.builtinListing(j)
	if l == nil {
		return nil, nil
	}
	select {
	case <-l.done:
		return l.dirs, l.err
	case <-ctx.Done():
		return nil, fmt.Errorf("list built-in include directories: %w", ctx.Err())
	}
}

// builtinDirsIfKnown is builtinDirs without waiting: ok is false while the
// listing still runs (it is started if need be, so that a compile can run
// meanwhile), or when it failed.
func (s *Service) builtinDirsIfKnown(j *job) (dirs []string, ok bool) {
	l := s.builtinListing(j)
	if l == nil {
		return nil, true
	}
	select {
	case <-l.done:
		return l.dirs, l.err == nil
	default:
		return nil, false
	}
}

// builtinListing returns the listing for j's compiler, language and options,
// starting it when there is none; nil when there is nothing to list.
func (s *Service) builtinListing(j *job) *builtinList {
	if j.a.Family == toolchain.FamilyMSVC || j.a.PreprocessCommand == nil {
		// cl has INCLUDE only; preprocessed input searches no directory.
		return nil
	}
	key, args, env := builtinKey(j)
	s.builtin.mu.Lock()
	defer s.builtin.mu.Unlock()
	if l, ok := s.builtin.lists[key]; ok {
		return l
	}
	if s.builtin.lists == nil || len(s.builtin.lists) >= maxBuiltinMemo {
		s.builtin.lists = map[string]*builtinList{}
	}
	l := &builtinList{done: make(chan struct{})}
	s.builtin.lists[key] = l
	argv := append(append([]string{j.req.Real}, args...), "-x", j.a.Language, "-E", "-v", "/dev/null")
	dir := j.req.Dir
	go func() {
		// Not the request's context: other compiles may be waiting for it.
		ctx, cancel := context.WithTimeout(context.Background(), builtinProbeTimeout)
		defer cancel()
		l.dirs, l.err = listBuiltinDirs(ctx, dir, env, argv)
		if l.err != nil {
			// Not remembered: the next compile tries again.
			s.builtin.mu.Lock()
			if s.builtin.lists[key] == l {
				delete(s.builtin.lists, key)
			}
			s.builtin.mu.Unlock()
		}
		close(l.done)
	}()
	return l
}

// builtinKey returns what a listing of j's compiler's own include
// directories depends on, as a memo key, and the options and environment
// of the run that lists them: the options that can move them (probeArgs),
// and the compile's environment without the variables that add to them.
func builtinKey(j *job) (key string, args, env []string) {
	args = probeArgs(j.a)
	for _, kv := range j.req.Env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(includePathEnv, name) {
			env = append(env, kv)
		}
	}
	keyParts := []string{j.req.Real, j.id.Key(), j.a.Language}
	keyParts = append(keyParts, args...)
	keyParts = append(keyParts, envValues(env, keyEnv)...)
	if len(args) > 0 {
		// Options such as --sysroot may name relative paths.
		keyParts = append(keyParts, j.req.Dir)
	}
	return strings.Join(keyParts, "\x00"), args, env
}

// listBuiltinDirs runs argv (the compiler with "-E -v /dev/null") and reads
// the include search list it prints.
func listBuiltinDirs(ctx context.Context, dir string, env, argv []string) ([]string, error) {
	out, err := runProcess(ctx, dir, env, argv)
	if err != nil {
		return nil, fmt.Errorf("list built-in include directories: %w", err)
	}
	dirs, err := parseSearchList(out.stderr)
	if err != nil {
		return nil, fmt.Errorf("list built-in include directories (%s, exit %d): %w", strings.Join(argv, " "), out.exit, err)
	}
	return dirs, nil
}

// probeArgs returns the options of a command that can move the compiler's
// built-in include directories (--sysroot, -nostdinc, -target, -m32,
// -stdlib=, ...): the code-generation options other than optimization,
// debug, warning and -f options, which move none (so that -O2 and -O3
// -fPIC share one listing), and the preprocessor options other than those
// naming macros, include files and include directories, which would add to
// the list or read files.
func probeArgs(a *toolchain.Analysis) []string {
	skipWithValue := []string{"-D", "-U", "-I", "-iquote", "-isystem", "-idirafter", "-include", "-imacros"}
	var out []string
	args := a.PreprocessorArgs
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case slices.Contains(skipWithValue, arg):
			i++
		case strings.HasPrefix(arg, "-Wp,"):
		case hasAnyPrefix(arg, skipWithValue):
		default:
			out = append(out, arg)
		}
	}
	for _, arg := range a.CodegenArgs {
		switch {
		case arg == "-w", arg == "-pipe", arg == "-pedantic", arg == "-pedantic-errors":
		case hasAnyPrefix(arg, []string{"-O", "-g", "-W"}), arg == "-O", arg == "-g":
		case strings.HasPrefix(arg, "-f") && !strings.HasPrefix(arg, "-fopenmp"):
			// (clang may search OpenMP's headers with -fopenmp.)
		default:
			out = append(out, arg)
		}
	}
	return out
}

// parseSearchList reads the include search list gcc and clang print with -v:
// the lines after `#include "..." search starts here:` and `#include <...>
// search starts here:`, up to `End of search list.`.
func parseSearchList(out []byte) ([]string, error) {
	var dirs []string
	in, ended := false, false
	for _, line := range bytes.Split(out, []byte("\n")) {
		text := strings.TrimRight(string(line), "\r")
		switch {
		case strings.HasPrefix(text, "#include ") && strings.HasSuffix(text, "search starts here:"):
			in = true
		case text == "End of search list.":
			in, ended = false, true
		case in && strings.HasPrefix(text, " "):
			d := strings.TrimSpace(text)
			d = strings.TrimSuffix(d, " (framework directory)")
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	if !ended {
		return nil, errors.New("no include search list in the output")
	}
	return dirs, nil
}

// hasAnyPrefix reports whether s starts with one of prefixes (and is longer).
func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) && len(s) > len(p) {
			return true
		}
	}
	return false
}
