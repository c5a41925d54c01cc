package compile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/includescan"
	"github.com/dcc-build/dcc/toolchain"
)

// Depend mode, as ccache's: on a direct-mode miss the original command runs
// once, with dependency output, and the files that output lists (every file
// the compile opened) become the manifest. No preprocessing run, so a miss
// costs little more than the compile; the price is that there is no
// preprocessor-mode key to hit on.

// unknownIncluder marks, in job.includers, a header whose includer is not
// known: a dependency file lists files, not who included them.
const unknownIncluder = "?"

// dependPlan returns how this compile can learn its headers in depend mode:
// ownDeps is the dependency file the command writes itself, or "" when dcc
// adds -MD -MF with a temporary file of its own. ok is false when depend
// mode does not apply: it is off, the compiler is not gcc or clang, the input is
// already preprocessed, the command's own dependency options leave system
// headers out or name headers that do not exist (-MMD, -MG, -Wp,...: the
// -MMD and -Wp,-MD,file forms go to userDependPlan), or the object would
// record the added options.
func (j *job) dependPlan() (ownDeps string, ok bool) {
	if !j.s.opts.DependMode || j.a.PreprocessCommand == nil ||
		(j.a.Family != toolchain.FamilyGCC && j.a.Family != toolchain.FamilyClang) {
		return "", false
	}
	for _, arg := range j.a.Args {
		if strings.Contains(arg, "record-gcc-switches") || strings.Contains(arg, "record-command-line") {
			return "", false
		}
	}
	if len(j.a.DependencyArgs) == 0 {
		return "", true
	}
	own, wanted := j.paths[kindDeps]
	if !wanted {
		return "", false
	}
	flags := depFlags(j.a.DependencyArgs)
	if !slices.Contains(flags, "-MD") {
		return "", false
	}
	for _, f := range flags {
		if f != "-MD" && f != "-MP" {
			return "", false
		}
	}
	return own, true
}

// tryDepend runs the compile in depend mode when it applies (ok true):
// with the command's own -MD list or one of dcc's (dependPlan), or, for a
// command whose own dependency file is not such a list (-MMD, -Wp,-MD,file,
// -Wp,-MMD,file), as userDependPlan says.
func (j *job) tryDepend(ctx context.Context, directKey cache.Key) (res daemon.CompileResult, ok bool, err error) {
	depsPath, ok := j.dependPlan()
	var user *userDepends
	if !ok {
		depsPath, user, ok = j.userDependPlan()
	}
	if !ok || j.needsPreprocessor {
		return res, false, nil
	}
	if why := j.precompiledHeaderRisk(); why != "" {
		j.s.log.Debug("not in depend mode", "source", j.a.Source, "why", why)
		return res, false, nil
	}
	res, err = j.runDepend(ctx, directKey, depsPath, user)
	return res, true, err
}

// dependencyList is where a compile in depend mode wrote its list of files.
type dependencyList struct {
	// path is the file's absolute name, unless capture.
	path string
	// capture, when not nil, is the file itself, open in the daemon.
	capture *os.File
	// own: the list is the command's own dependency file (an output);
	// temporary: a file of dcc's, removed by close.
	own, temporary bool
}

// read returns what the compiler wrote.
func (d dependencyList) read() ([]byte, error) {
	if d.capture != nil {
		return readCapture(d.capture)
	}
	return os.ReadFile(d.path)
}

// close releases the list once read.
func (d dependencyList) close() {
	if d.capture != nil {
		d.capture.Close()
	}
	if d.temporary {
		os.Remove(d.path)
	}
}

// compileForDeps runs the compile with dependency output: into ownDeps, the
// command's own dependency file, or else into a list of dcc's. gcc run
// without its driver (compileWithoutDriver) writes dcc's list to an
// anonymous memory file it opens as /dev/fd/3; a command that goes through
// the driver writes it to a temporary file, since a driver can be a script
// that runs the compiler through other programs, dcc again among them,
// which need not pass descriptors on. args are the command's arguments, or
// for user (-MMD), the command's without its own dependency options.
func (j *job) compileForDeps(ctx context.Context, ownDeps string, user *userDepends) (output, dependencyList, error) {
	args := j.req.Args
	if user != nil {
		args = user.args
	}
	argv := append([]string{j.req.Real}, args...)
	if ownDeps != "" {
		deps := dependencyList{path: resolve(j.req.Dir, ownDeps), own: true}
		out, direct, err := j.compileWithoutDriver(ctx, argv, nil)
		if err == nil && !direct {
			out, err = runProcess(ctx, j.req.Dir, j.req.Env, argv)
		}
		return out, deps, err
	}
	if f, err := newReopenable("deps"); err == nil && f != nil {
		out, direct, err := j.compileWithoutDriver(ctx, append(slices.Clone(argv), "-MD", "-MF", extraName(0)), []*os.File{f})
		if err != nil || direct {
			return out, dependencyList{capture: f}, err
		}
		f.Close()
	}
	tmp, err := os.CreateTemp(j.s.opts.TempDir, "deps-*.d")
	if err != nil {
		return output{}, dependencyList{}, fmt.Errorf("temporary dependency file: %w", err)
	}
	tmp.Close()
	deps := dependencyList{path: tmp.Name(), temporary: true}
	out, err := runProcess(ctx, j.req.Dir, j.req.Env, append(argv, "-MD", "-MF", tmp.Name()))
	return out, deps, err
}

// runDepend compiles after a direct-mode miss in depend mode and stores the
// result under a key made of the direct-mode key and the digests of the
// files the compile read. With user, the compile writes dcc's list instead of
// the command's own dependency file, which is then written from that list
// (writeUserDeps).
func (j *job) runDepend(ctx context.Context, directKey cache.Key, ownDeps string, user *userDepends) (daemon.CompileResult, error) {
	release, err := j.localSlot(ctx)
	if err != nil {
		return daemon.CompileResult{}, err
	}
	defer release()
	out, deps, err := j.compileForDeps(ctx, ownDeps, user)
	defer deps.close()
	if err == nil && out.exit != 0 && user != nil {
		// A failed compile is not cached: the original command runs, so that
		// its dependency file is left as the compiler leaves it on failure.
		out, err = runProcess(ctx, j.req.Dir, j.req.Env, append([]string{j.req.Real}, j.req.Args...))
	}
	if err != nil {
		return daemon.CompileResult{}, err
	}
	res := daemon.CompileResult{Handled: true, Reason: j.missReason(), Stdout: out.stdout, Stderr: out.stderr, ExitCode: out.exit}
	if out.exit != 0 {
		j.count(cache.StatUncacheable)
		res.Reason = "compile failed: not cached"
		return res, nil
	}
	included, timeMacros, why := j.dependedFiles(deps)
	if user != nil {
		written, err := j.writeUserDeps(ctx, user, included)
		if err != nil {
			return daemon.CompileResult{}, err
		}
		if target, known := depTarget(j.a); why == "" && (!known || !bytes.HasPrefix(written, []byte(target+":"))) {
			// A hit could not put another command's target in it.
			why = "the dependency file does not start with the expected target"
		}
	}
	if timeMacros {
		// Only preprocessor mode can serve this compile: say so in the
		// manifest, so the next one preprocesses instead of compiling.
		j.markPreprocessorMode(directKey, included)
	}
	if why != "" && j.assemblerReads {
		j.count(cache.StatUncacheable)
		res.Reason = "not cached: " + why
		return res, nil
	}
	if why != "" {
		// The outputs are in place; the compile just is not recorded.
		j.count(cache.StatMisses)
		j.s.log.Debug("miss not stored", "source", j.a.Source, "why", why)
		res.Reason = "cache miss, not stored: " + why
		return res, nil
	}
	key := j.dependKey(directKey, included)
	if _, err := j.store(key, out, false); err != nil {
		j.count(cache.StatErrors)
		j.s.log.Warn("store result", "source", j.a.Source, "err", err)
		return res, nil
	}
	j.count(cache.StatMisses)
	j.remember(ctx, true, directKey, key, included)
	j.s.log.Debug("miss in depend mode", "source", j.a.Source, "key", key.String())
	return res, nil
}

// dependedFiles reads the dependency file the compile wrote and hashes every
// file it lists. why says, when not empty, why the compile cannot be
// recorded: a file that cannot be hashed, that uses the time macros, that
// changed while the compile ran, or that is a precompiled header.
func (j *job) dependedFiles(deps dependencyList) (included []cache.FileDigest, timeMacros bool, why string) {
	data, err := deps.read()
	if err != nil {
		return nil, false, fmt.Sprintf("read dependency file: %v", err)
	}
	if target, known := depTarget(j.a); known && deps.own && !bytes.HasPrefix(data, []byte(target+":")) {
		return nil, false, "the dependency file does not start with the expected target"
	}
	files, ok := depfile.Parse(data)
	if !ok || len(files) == 0 {
		return nil, false, "unreadable dependency file"
	}
	if len(files) > maxManifestFiles {
		return nil, false, "too many included files"
	}
	j.listedFiles(files)
	included = make([]cache.FileDigest, 0, len(files))
	for _, f := range files {
		if strings.HasSuffix(f, ".gch") || strings.HasSuffix(f, ".pch") {
			return nil, false, "a precompiled header was used"
		}
		info, err := j.s.opts.Memo.Hash(resolve(j.req.Dir, f))
		switch {
		case err != nil:
			return nil, false, fmt.Sprintf("hash %s: %v", f, err)
		case j.changedTooRecently(info):
			return nil, false, f + " changed while the compile ran"
		case info.AssemblerReads:
			j.assemblerReads = true
			return nil, false, f + " " + errAssemblerReads.Error()
		case info.TimeMacros:
			timeMacros = true
			why = f + " uses __DATE__, __TIME__ or __TIMESTAMP__"
		}
		included = append(included, cache.FileDigest{Path: f, Digest: info.Digest})
	}
	// Hashed after the compile, and none changed since it started: remember
	// need not check them again.
	j.verified = why == ""
	return included, timeMacros, why
}

// listedFiles records, for the manifest, the files a compile read as a
// dependency list gives them: the source, and headers whose includer is
// not known.
func (j *job) listedFiles(files []string) {
	j.manifestOK = true
	// The source is not always listed first: clang lists the headers of an
	// -include's precompiled form before it.
	j.mainFile = j.a.Source
	j.includers = make(map[string]string, len(files))
	for _, f := range files {
		j.includers[f] = unknownIncluder
	}
	if _, listed := j.includers[j.a.Source]; listed {
		j.includers[j.a.Source] = ""
	}
}

// preprocessorModeMarker is the result a manifest names for "these files
// need preprocessor mode" (a header uses the time macros): there is never an
// entry under it.
var preprocessorModeMarker = newKey("preprocessor-mode").sum()

// markPreprocessorMode records under the direct-mode key that, while the
// included files keep their digests, the compile goes through preprocessor
// mode. A marker matched wrongly only costs a preprocessing run.
func (j *job) markPreprocessorMode(directKey cache.Key, included []cache.FileDigest) {
	j.addManifestResult(directKey, cache.ManifestResult{Files: included, Result: preprocessorModeMarker})
}

// precompiledHeaderRisk says why gcc might use a precompiled header for this
// compile, or "". gcc leaves a header it took from its precompiled form out
// of the dependency file, so depend mode would not see it; preprocessor
// mode would. A precompiled header can stand in only for a header that the
// source or an -include option names directly: each such name is looked for,
// with .gch and .pch appended, in the source's directory, the working
// directory and every include directory outside the compiler's own.
func (j *job) precompiledHeaderRisk() string {
	src, err := os.ReadFile(resolve(j.req.Dir, j.a.Source))
	if err != nil {
		return fmt.Sprintf("read source: %v", err)
	}
	names, ok := directIncludes(src)
	if !ok {
		return "an #include names a macro, or the scan cannot follow the source"
	}
	names = append(names, optionDirs(j.a.PreprocessorArgs, []string{"-include", "-imacros"})...)
	if len(names) == 0 {
		return ""
	}
	// The compiler's own directories are left out when known. A new daemon's
	// first compiles do not wait for the listing (a compiler run of its
	// own): they look in every directory the command names, which can only
	// find more.
	builtin, _ := j.s.builtinDirsIfKnown(j)
	dirs := []string{filepath.Dir(j.a.Source)}
	for _, d := range append([]string{"."}, j.searchDirs(nil)...) {
		if !slices.Contains(builtin, d) && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, name := range names {
		for _, d := range dirs {
			for _, suffix := range pchSuffixes {
				p := name + suffix
				if !filepath.IsAbs(p) {
					p = filepath.Join(d, p)
				}
				if _, err := os.Stat(resolve(j.req.Dir, p)); err == nil {
					return p + " exists"
				}
			}
		}
	}
	return ""
}

// directIncludes returns the names the #include, #include_next and #import
// lines of a source give (includescan's, without __has_include probes). ok
// is false when one names its file through a macro, or the source does
// something the scan does not follow.
func directIncludes(src []byte) (names []string, ok bool) {
	directives, err := includescan.Scan(src)
	if err != nil {
		return nil, false
	}
	for _, d := range directives {
		if !d.Probe {
			names = append(names, d.Name)
		}
	}
	return names, true
}

// dependKey is the key of a depend-mode result: the direct-mode key and the
// name and digest of every file the compile read.
func (j *job) dependKey(directKey cache.Key, included []cache.FileDigest) cache.Key {
	k := newKey("depend").bytes(directKey[:])
	for _, f := range included {
		k.str(f.Path).digest(f.Digest)
	}
	return k.sum()
}

// possibleIncluderDirs lists, for a header whose includer is unknown, every
// directory a quoted #include could have been searched from first: the
// directory of each file the compile read outside the compiler's own
// directories, and the working directory when -include or -imacros is given.
func (j *job) possibleIncluderDirs(isSystem func(abs string) bool) []string {
	seen := map[string]bool{}
	var dirs []string
	add := func(d string) {
		if !seen[d] && !isSystem(resolve(j.req.Dir, d)) {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	for path := range j.includers {
		add(filepath.Dir(filepath.Clean(path)))
	}
	for _, arg := range j.a.PreprocessorArgs {
		if strings.HasPrefix(arg, "-include") || strings.HasPrefix(arg, "-imacros") {
			add(".")
		}
	}
	slices.Sort(dirs)
	return dirs
}
