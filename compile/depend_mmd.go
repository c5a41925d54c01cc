package compile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/toolchain"
)

// Depend mode for commands whose own dependency file is not the list of
// every file the compile read: -MMD (and -Wp,-MMD,file) leave out what the
// compiler takes for system headers, and the manifest must still list every
// file, since a changed header in an -isystem directory must be a miss.
//
// The compiler writes one dependency file per run (cc1 takes one -MD or -MMD
// output), so the compile runs with dcc's own -MD list in place of the
// command's dependency options (the anonymous memory file of the driver
// bypass, or a temporary file), and dcc writes the command's file itself
// from that list: depfile.UserDeps for gcc's -MMD choice (clangUserDeps for
// clang's), depfile.FormatGCCTargets (formatClangDeps) for the format, -MP
// and the targets. The other way round, letting the compiler write the
// command's file and learning from something else which files it read,
// would need a second list the compiler does not write (-H prints to
// stderr, mixed with the diagnostics the cache replays).
//
// When the choice cannot be told for sure (the scan of a header cannot be
// followed, a header may be read first as a system header or not, a line
// marker), the command's own preprocessing command writes the file (it reads
// what the compile read, and writes what the compile would have); the
// result is stored all the same. Anything unusual before the compile (an
// option the search model does not know, CPATH and the like, the file's
// directory missing) leaves the command to preprocessor mode, as before.
// -Wp,-MD,file writes the whole list, named after the source for gcc: the
// command runs as it is and its own file is read, as for -MD.

// userDepends is how a command with -MMD (or -Wp,-MMD,file) is compiled in
// depend mode and its dependency file written.
type userDepends struct {
	// args are the command's arguments without its dependency options.
	args []string
	// path is the command's dependency file.
	path string
	// clang: the file is written as clang writes it, else as gcc does.
	clang bool
	// phony: -MP; targets are the rule's targets as the compiler writes
	// them, in its order.
	phony   bool
	targets []string
}

// userDependPlan says how depend mode serves a command whose dependency
// options dependPlan refuses: ownDeps, the command's own file, for -Wp,-MD,file
// (the whole list); user for -MMD and -Wp,-MMD,file. ok is false when depend
// mode does not apply or the command has anything the plan does not follow.
func (j *job) userDependPlan() (ownDeps string, user *userDepends, ok bool) {
	if !j.s.opts.DependMode || j.a.PreprocessCommand == nil || len(j.a.DependencyArgs) == 0 ||
		(j.a.Family != toolchain.FamilyGCC && j.a.Family != toolchain.FamilyClang) {
		return "", nil, false
	}
	for _, arg := range j.a.Args {
		if strings.Contains(arg, "record-gcc-switches") || strings.Contains(arg, "record-command-line") {
			return "", nil, false
		}
	}
	path, wanted := j.paths[kindDeps]
	if !wanted {
		return "", nil, false
	}
	if info, err := os.Lstat(resolve(j.req.Dir, path)); err == nil && !info.Mode().IsRegular() {
		// -MF /dev/null, say: dcc writes a file only where a regular one
		// is or none.
		return "", nil, false
	}
	u := &userDepends{path: path, clang: j.a.Family == toolchain.FamilyClang}
	var mmd bool
	if u.clang {
		opts, err := parseClangDepOptions(j.a.DependencyArgs, j.a.Outputs.Object)
		if err != nil {
			return "", nil, false
		}
		mmd, u.phony, u.targets = opts.User, opts.Phony, opts.Targets
	} else {
		opts, err := depfile.ParseGCCOptions(j.a.DependencyArgs, j.a.Source, j.a.Outputs.Object)
		if err != nil {
			return "", nil, false
		}
		mmd, u.phony, u.targets = opts.User, opts.Phony, opts.Targets
	}
	if !mmd {
		// The compiler's own file lists every file: -Wp,-MD,file.
		return path, nil, true
	}
	if j.a.Language != "c" && j.a.Language != "c++" {
		return "", nil, false
	}
	if _, ok := parseSearchOptions(j.a.PreprocessorArgs, u.clang); !ok {
		return "", nil, false
	}
	for _, name := range includePathEnv {
		if v, set := lookupEnv(j.req.Env, name); set && v != "" {
			return "", nil, false // more directories, of either kind
		}
	}
	if st, err := os.Stat(filepath.Dir(resolve(j.req.Dir, path))); err != nil || !st.IsDir() {
		return "", nil, false // the compiler fails; preprocessor mode lets it say so
	}
	args, ok := withoutDependencyArgs(j.req.Args, j.a.DependencyArgs)
	if !ok {
		return "", nil, false
	}
	u.args = args
	return "", u, true
}

// withoutDependencyArgs returns args without the dependency options deps
// (the classifier's DependencyArgs, as given). ok is false unless what it
// takes out is exactly deps, in order, and nothing could hand an option
// taken out to another program (-Xpreprocessor -MMD, say).
func withoutDependencyArgs(args, deps []string) ([]string, bool) {
	var kept, removed []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-X") || strings.HasPrefix(a, "@"):
			return nil, false
		case a == "-MD" || a == "-MMD" || a == "-MP":
			removed = append(removed, a)
		case a == "-MF" || a == "-MT" || a == "-MQ":
			if i+1 == len(args) {
				return nil, false
			}
			removed = append(removed, a, args[i+1])
			i++
		case strings.HasPrefix(a, "-MF") || strings.HasPrefix(a, "-MT") || strings.HasPrefix(a, "-MQ"),
			strings.HasPrefix(a, "-Wp,-MD,") || strings.HasPrefix(a, "-Wp,-MMD,"):
			removed = append(removed, a)
		default:
			kept = append(kept, a)
		}
	}
	return kept, slices.Equal(removed, deps)
}

// writeUserDeps writes the command's dependency file after a compile that
// wrote dcc's list, whose files are included (nil when the list could not
// be read in full), and returns what it wrote. When which headers the
// compiler would leave out cannot be told, the command's preprocessing
// command writes the file.
func (j *job) writeUserDeps(ctx context.Context, u *userDepends, included []cache.FileDigest) ([]byte, error) {
	path := resolve(j.req.Dir, u.path)
	listed, err := j.userListed(ctx, u, included)
	if err == nil {
		var text []byte
		if u.clang {
			text = formatClangDeps(u.targets, listed, u.phony)
		} else {
			text = depfile.FormatGCCTargets(u.targets, listed, u.phony)
		}
		// Written in place, as the compiler writes it (through a link,
		// say), not replaced as a hit's outputs are.
		if err := os.WriteFile(path, text, 0o666); err != nil {
			return nil, fmt.Errorf("write dependency file: %w", err)
		}
		return text, nil
	}
	j.s.log.Debug("dependency file from the preprocessor", "source", j.a.Source, "why", err)
	if _, _, err := j.preprocess(ctx); err != nil {
		return nil, err
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read dependency file: %w", err)
	}
	return text, nil
}

// userListed returns the files of included (a compile's -MD list) that the
// command's -MMD file lists.
func (j *job) userListed(ctx context.Context, u *userDepends, included []cache.FileDigest) ([]string, error) {
	if included == nil {
		return nil, errors.New("the list of files read is not complete")
	}
	builtin, err := j.s.builtinDirs(ctx, j)
	if err != nil {
		return nil, err
	}
	search, ok := parseSearchOptions(j.a.PreprocessorArgs, u.clang)
	if !ok {
		return nil, errors.New("options the search model does not follow")
	}
	g, err := j.includeGraph(search, builtin, included, u.clang)
	if err != nil {
		return nil, err
	}
	list := make([]string, len(included))
	for i, f := range included {
		list[i] = f.Path
	}
	if u.clang {
		return clangUserDeps(list, g.abs, g.inclusions, g.probes, g.facts)
	}
	return depfile.UserDeps(list, g.abs, g.inclusions, g.facts)
}
