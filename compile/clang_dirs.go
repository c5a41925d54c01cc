package compile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// clang's own include directories, for units sent to a host with their
// sources. "-E -v" (builtinDirs) lists them clean and without their kind;
// a host needs them as clang's driver hands them to cc1: spelled as given
// ("/usr/bin/../lib/gcc/..."), since the names of the headers found there
// reach the object's debug information and the dependency file as
// spelled, and each with its kind, since -internal-externc-isystem ones
// give their declarations C linkage in C++.

// clangDirs is what a host needs of clang's own include directories.
type clangDirs struct {
	// dirs are every -internal-isystem and -internal-externc-isystem
	// directory of the cc1 command, in order, as spelled.
	dirs []string
	// externC are the -internal-externc-isystem ones among dirs.
	externC []string
}

// clangDirsMemo remembers clangDirs per compiler, language and options
// (the keys of builtinListing). The zero value is ready.
type clangDirsMemo struct {
	mu    sync.Mutex
	lists map[string]*clangDirsList
}

// clangDirsList is one remembered or running listing.
type clangDirsList struct {
	done chan struct{} // closed when dirs and err are set
	dirs clangDirs
	err  error
}

// clangSystemDirs returns clang's own include directories for j, from the
// cc1 command its driver shows with -###, remembered.
func (s *Service) clangSystemDirs(ctx context.Context, j *job) (clangDirs, error) {
	key, args, env := builtinKey(j)
	s.clangDirs.mu.Lock()
	l, ok := s.clangDirs.lists[key]
	if !ok {
		if s.clangDirs.lists == nil || len(s.clangDirs.lists) >= maxBuiltinMemo {
			s.clangDirs.lists = map[string]*clangDirsList{}
		}
		l = &clangDirsList{done: make(chan struct{})}
		s.clangDirs.lists[key] = l
		argv := append(append([]string{j.req.Real}, args...), "-x", j.a.Language, "-c", "/dev/null", "-o", "/dev/null", "-###")
		go func(dir string) {
			// Not the request's context: other compiles may be waiting.
			ctx, cancel := context.WithTimeout(context.Background(), builtinProbeTimeout)
			defer cancel()
			out, err := runProcess(ctx, dir, env, argv)
			if err == nil {
				l.dirs, err = parseClangCC1Dirs(out.stderr)
				if err != nil {
					err = fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
				}
			}
			l.err = err
			if err != nil {
				s.clangDirs.mu.Lock()
				if s.clangDirs.lists[key] == l {
					delete(s.clangDirs.lists, key) // the next compile tries again
				}
				s.clangDirs.mu.Unlock()
			}
			close(l.done)
		}(j.req.Dir)
	}
	s.clangDirs.mu.Unlock()
	select {
	case <-l.done:
		return l.dirs, l.err
	case <-ctx.Done():
		return clangDirs{}, fmt.Errorf("list clang's include directories: %w", ctx.Err())
	}
}

// parseClangCC1Dirs reads the include directories of the one cc1 command
// in clang's -### output. It fails on anything else in that command that
// adds to the search or includes a file (-include, -iframework,
// -fsystem-include-if-exists, ...): a host could not repeat it.
func parseClangCC1Dirs(shown []byte) (clangDirs, error) {
	cmd, err := oneCC1Command(shown)
	if err != nil {
		return clangDirs{}, err
	}
	var d clangDirs
	for i := 2; i < len(cmd); i++ {
		a := cmd[i]
		switch {
		case a == "-internal-isystem" || a == "-internal-externc-isystem":
			if i+1 == len(cmd) || !strings.HasPrefix(cmd[i+1], "/") {
				return clangDirs{}, fmt.Errorf("%s without an absolute directory", a)
			}
			i++
			d.dirs = append(d.dirs, cmd[i])
			if a == "-internal-externc-isystem" {
				d.externC = append(d.externC, cmd[i])
			}
		case strings.HasPrefix(a, "-i") || strings.HasPrefix(a, "-internal") ||
			strings.HasPrefix(a, "-fsystem-include") || a == "-nostdsysteminc" || a == "-nobuiltininc":
			return clangDirs{}, fmt.Errorf("cc1 option %s: a host cannot repeat it", a)
		}
	}
	return d, nil
}

// oneCC1Command returns the one cc1 command in clang's -### output, split
// into its words.
func oneCC1Command(shown []byte) ([]string, error) {
	var cmd []string
	for _, line := range strings.Split(string(shown), "\n") {
		args, ok := splitDriverLine(strings.TrimLeft(line, " "))
		if !strings.HasPrefix(line, " ") || !ok || len(args) < 2 || args[1] != "-cc1" {
			continue
		}
		if cmd != nil {
			return nil, errors.New("more than one cc1 command")
		}
		cmd = args
	}
	if cmd == nil {
		return nil, errors.New("no cc1 command in the output")
	}
	return cmd, nil
}
