package compile

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/toolchain"
)

// raceMargin is how close to the compile's start a file's change may be before
// dcc keeps it out of a manifest. A file changed after the preprocessor read it
// would be recorded with content the object was not built from; Linux stamps
// file times from a clock that lags the real time by at most one timer tick
// (10 ms at the slowest kernel timer, 100 Hz), so a change after the start
// carries a time later than start - raceMargin. File systems that keep whole
// seconds only (a time with no nanoseconds) get coarseRaceMargin.
const (
	raceMargin       = 10 * time.Millisecond
	coarseRaceMargin = 2 * time.Second
)

// maxManifestFiles bounds the files one manifest result may list.
const maxManifestFiles = 20000

// baseKey adds what every key of this compile shares: the compiler, the
// language, the code-generation arguments, the environment that changes
// results, and the working directory when the object records it.
func (j *job) baseKey(kind string) *keyBuilder {
	k := newKey(kind).str(j.id.Key()).str(string(j.a.Family)).str(j.a.Language).str(string(j.a.Action))
	k.strs(j.a.CodegenArgs).strs(envValues(j.req.Env, keyEnv)).strs(j.readDigests)
	if j.a.RecordsWorkingDir {
		k.str(j.req.Dir)
	} else {
		k.str("")
	}
	return k.strs(j.recordedInOutputs())
}

// Options after which the outputs record more than the code-generation
// arguments and the working directory of debug information.
var (
	// profileOptions make the object record the absolute path of its .gcda
	// file (from the object's name and the working directory), and the
	// .gcno notes record the working directory.
	profileOptions = []string{"--coverage", "-coverage", "-fprofile-arcs", "-ftest-coverage", "-fprofile-generate",
		"-fprofile-dir", "-fprofile-prefix-path", "-fprofile-abs-path", "-fcs-profile-generate"}
	// clangCommandLineOptions make clang record its whole command line, its
	// own path included, in the object.
	clangCommandLineOptions = map[string]bool{"-frecord-command-line": true, "-frecord-gcc-switches": true,
		"-grecord-command-line": true, "-grecord-gcc-switches": true, "-fno-record-command-line": false,
		"-fno-record-gcc-switches": false, "-gno-record-command-line": false, "-gno-record-gcc-switches": false}
)

// recordedInOutputs returns what, beyond the code-generation arguments, this
// command's outputs record of the command: the .dwo's name (the object of
// -gsplit-dwarf names it, and clang's .dwo itself), the working directory and
// the object's name for coverage and profiling instrumentation, and the
// whole command line for clang's -frecord-command-line.
func (j *job) recordedInOutputs() []string {
	var out []string
	if dwo, ok := j.paths[kindSplitDwarf]; ok {
		out = append(out, "dwo", dwo)
	}
	_, notes := j.paths[kindCoverage]
	recordsCommand := false
	for _, arg := range j.a.Args {
		if hasAnyPrefix(arg, profileOptions) || slices.Contains(profileOptions, arg) {
			notes = true
		}
		if on, ok := clangCommandLineOptions[arg]; ok && j.a.Family == toolchain.FamilyClang {
			recordsCommand = on
		}
	}
	if notes {
		out = append(out, "profile", j.req.Dir, j.paths[kindObject])
	}
	if recordsCommand {
		out = append(append(out, "command", j.id.Path), j.a.Args...)
	}
	return out
}

// directKey is the direct-mode key: the base, the preprocessor arguments, and
// the source's name (it is __FILE__) and content. Which headers it read is
// checked through the manifest stored under this key.
func (j *job) directKey(source cache.Digest) cache.Key {
	return j.baseKey("direct").strs(j.a.PreprocessorArgs).strs(depFlags(j.a.DependencyArgs)).
		str(j.a.Source).digest(source).sum()
}

// depFlags returns the dependency options that shape the dependency file's
// content (-MD or -MMD, -MP, -MG, ...), without the file name and targets,
// which a hit rewrites. A direct hit restores the stored dependency file, so
// it must have been made with the same flags.
func depFlags(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-MF" || a == "-MT" || a == "-MQ":
			i++
		case strings.HasPrefix(a, "-MF") || strings.HasPrefix(a, "-MT") || strings.HasPrefix(a, "-MQ"):
		case strings.HasPrefix(a, "-Wp,"):
			// -Wp,-MD,file: keep the option, not the file.
			out = append(out, strings.SplitN(a, ",", 3)[:2]...)
		default:
			out = append(out, a)
		}
	}
	return out
}

// cppKey is the preprocessor-mode key: the base and the preprocessed text. For
// commands compiled from the original source (ActionCache), the object can
// depend on more than the preprocessed text (debug information records source
// columns, which comments shift), so the source's name and every included
// file's content count too.
func (j *job) cppKey(text []byte, included []cache.FileDigest) cache.Key {
	k := j.baseKey("cpp").bytes(text)
	if j.a.Action != "remote" {
		k.str(j.a.Source)
		for _, f := range included {
			k.str(f.Path).digest(f.Digest)
		}
	}
	return k.sum()
}

// hashIncluded returns the digest of every file the preprocessed text names,
// and notes who included each one (for shadowCandidates). A file that cannot
// be hashed (a #line directive naming a file that does not exist, say) is
// left out, and so are files past maxManifestFiles: the compile is then not
// recorded for direct mode, whose manifest must list every file it read.
func (j *job) hashIncluded(text []byte) []cache.FileDigest {
	files := includedFiles(text)
	j.manifestOK = len(files) <= maxManifestFiles
	if !j.manifestOK {
		files = files[:maxManifestFiles]
	}
	j.includers = make(map[string]string, len(files))
	if len(files) > 0 && files[0].includer == "" {
		j.mainFile = files[0].path
	}
	j.textSafe = j.manifestOK
	out := make([]cache.FileDigest, 0, len(files))
	for _, f := range files {
		info, err := j.s.opts.Memo.Hash(resolve(j.req.Dir, f.path))
		if err == nil && (info.TimeMacros || j.changedTooRecently(info)) {
			j.textSafe = false
		}
		if err != nil {
			j.manifestOK, j.textSafe = false, false
			j.s.log.Debug("not recorded for direct mode", "source", j.a.Source, "file", f.path, "err", err)
			continue
		}
		j.includers[f.path] = f.includer
		out = append(out, cache.FileDigest{Path: f.path, Digest: info.Digest})
	}
	return out
}

// lookupDirect tries each result of the manifest under key: the first whose
// files all still have their recorded digests is a hit. A hit restores every
// output, the dependency file with this command's target.
func (j *job) lookupDirect(key cache.Key) (res daemon.CompileResult, hit bool, err error) {
	m, err := j.s.opts.Store.GetManifest(key)
	if err != nil {
		return res, false, nil // not found or damaged (removed and counted by the store): a miss
	}
	for _, r := range m.Results {
		if !j.unchanged(r) {
			continue
		}
		if r.Result == preprocessorModeMarker {
			j.needsPreprocessor = true
			continue
		}
		e, err := j.s.opts.Store.GetEntry(r.Result)
		if err != nil {
			continue
		}
		files, ok := j.withDepTarget(e.Files)
		if !ok {
			continue
		}
		if err := restoreOutputs(j.req.Dir, files, j.paths, j.kinds(true)); err != nil {
			return res, false, err
		}
		return replay(e, "direct hit"), true, nil
	}
	j.sawManifest(m) // for whyMissed
	return res, false, nil
}

// lookupPreprocessed looks up the preprocessor-mode key. The dependency file
// was written by the preprocessing run; every other output is restored.
func (j *job) lookupPreprocessed(key cache.Key) (res daemon.CompileResult, e cache.Entry, hit bool, err error) {
	e, err = j.s.opts.Store.GetEntry(key)
	if err != nil {
		return res, e, false, nil
	}
	if !hasAll(e.Files, j.kinds(false)) {
		return res, e, false, nil
	}
	if err := restoreOutputs(j.req.Dir, e.Files, j.paths, j.kinds(false)); err != nil {
		return res, e, false, err
	}
	return replay(e, "preprocessed hit"), e, true, nil
}

// resultForManifest returns the key a direct-mode manifest may name after a
// preprocessed hit on the entry under key. A direct hit restores the entry's
// dependency file, so when this command writes one made with other options
// than the stored one (-MMD against -MD, say), a copy of the entry with the
// dependency file just written is stored under a key of its own.
func (j *job) resultForManifest(key cache.Key, e cache.Entry) (cache.Key, bool) {
	if j.readOnly {
		return key, false // nothing may be stored for the manifest to name
	}
	if _, wantDeps := j.paths[kindDeps]; !wantDeps || j.sameDepFlags(e.Files) {
		return key, true
	}
	deps, err := os.ReadFile(resolve(j.req.Dir, j.paths[kindDeps]))
	if err != nil {
		return key, false
	}
	files := make(map[string][]byte, len(e.Files))
	for k, v := range e.Files {
		files[k] = v
	}
	files[kindDeps] = deps
	j.describeDeps(files)
	own := newKey("deps").bytes(key[:]).strs(depFlags(j.a.DependencyArgs)).sum()
	copied := cache.Entry{Files: files, Stdout: e.Stdout, Stderr: e.Stderr}
	err = j.s.checkRoom(entrySize(copied))
	if err == nil {
		err = j.s.opts.Store.PutEntry(own, copied)
	}
	if err != nil {
		// The compile is counted (a hit); this only costs later direct hits.
		j.s.log.Warn("store dependency file", "source", j.a.Source, "err", err)
		return key, false
	}
	return own, true
}

// sameDepFlags reports whether a stored dependency file was made with this
// command's dependency options.
func (j *job) sameDepFlags(files map[string][]byte) bool {
	stored, ok := files[kindDepsFlags]
	return ok && string(stored) == strings.Join(depFlags(j.a.DependencyArgs), "\x00")
}

// kinds lists the output kinds to restore, with or without the dependency file.
func (j *job) kinds(withDeps bool) []string {
	var out []string
	for kind := range j.paths {
		if kind != kindDeps || withDeps {
			out = append(out, kind)
		}
	}
	return out
}

// hasAll reports whether files holds every kind.
func hasAll(files map[string][]byte, kinds []string) bool {
	for _, k := range kinds {
		if _, ok := files[k]; !ok {
			return false
		}
	}
	return true
}

// withDepTarget returns the files to restore, the dependency file rewritten
// to name this command's target. ok is false when an output is missing or
// the target cannot be rewritten.
func (j *job) withDepTarget(files map[string][]byte) (map[string][]byte, bool) {
	if !hasAll(files, j.kinds(true)) {
		return nil, false
	}
	deps, wanted := files[kindDeps]
	if _, inPaths := j.paths[kindDeps]; !wanted || !inPaths {
		return files, true
	}
	newTarget, known := depTarget(j.a)
	oldTarget, stored := files[kindDepsTarget]
	if !known || !stored || !j.sameDepFlags(files) {
		return nil, false
	}
	rewritten, ok := rewriteDepTarget(deps, string(oldTarget), newTarget)
	if !ok {
		return nil, false
	}
	out := make(map[string][]byte, len(files))
	for k, v := range files {
		out[k] = v
	}
	out[kindDeps] = rewritten
	return out, true
}

// unchanged reports whether every file of a manifest result still has its
// recorded digest and no path that must be absent exists.
func (j *job) unchanged(r cache.ManifestResult) bool {
	for _, f := range r.Files {
		info, err := j.s.opts.Memo.Hash(resolve(j.req.Dir, f.Path))
		if err != nil || info.Digest != f.Digest {
			return false
		}
	}
	for _, p := range r.Absent {
		if _, err := os.Stat(resolve(j.req.Dir, p)); !errors.Is(err, os.ErrNotExist) {
			return false
		}
	}
	return true
}

// remember records, under the direct-mode key, that the included files with
// these digests give the entry under result. Not done when a file uses the
// time macros or changed so recently that the compile may have read other
// content than the digest says.
func (j *job) remember(ctx context.Context, direct bool, key cache.Key, result cache.Key, included []cache.FileDigest) {
	if !direct || !j.manifestOK || j.readOnly {
		return
	}
	for _, f := range included {
		if j.verified {
			break
		}
		info, err := j.s.opts.Memo.Hash(resolve(j.req.Dir, f.Path))
		if err != nil || info.TimeMacros || info.Digest != f.Digest || j.changedTooRecently(info) {
			return
		}
	}
	builtin, err := j.s.builtinDirs(ctx, j)
	if err != nil {
		j.s.log.Debug("not recorded for direct mode", "source", j.a.Source, "err", err)
		return
	}
	absent, ok := j.shadowCandidates(included, builtin)
	if !ok {
		return
	}
	probes, err := j.probeCandidates(included, builtin, j.inDirs(builtin))
	if err != nil {
		j.s.log.Debug("not recorded for direct mode", "source", j.a.Source, "err", err)
		return
	}
	files := append(slices.Clip(included), probes.files...)
	r := cache.ManifestResult{Files: files, Absent: append(absent, probes.absent...), Result: result}
	j.shareTeamManifest(r)
	j.addManifestResult(key, r)
}

// addManifestResult adds r to the manifest under key. A failure is only
// logged: the compile is counted already (each compile counts once), and it
// only costs later direct hits.
func (j *job) addManifestResult(key cache.Key, r cache.ManifestResult) {
	if j.readOnly {
		return
	}
	err := j.s.checkRoom(int64(len(r.Files)+len(r.Absent)) * 128)
	if err == nil {
		err = j.s.opts.Store.AddManifestResult(key, r)
	}
	if err != nil {
		j.s.log.Warn("store manifest", "source", j.a.Source, "err", err)
	}
}

// changedTooRecently reports whether a file, as hashed, changed within
// raceMargin of the compile's start, or later.
func (j *job) changedTooRecently(info filehash.Info) bool {
	return info.Changed > j.start.Add(-marginFor(info)).UnixNano()
}

// marginFor is the race margin for a file's time stamps.
func marginFor(info filehash.Info) time.Duration {
	if info.Changed%int64(time.Second) == 0 {
		return coarseRaceMargin
	}
	return raceMargin
}

// settle lets a source written just before its compile (a configure test's
// conftest.c, a generated file) age past the race margin before the compile
// starts, so that the result can be stored: a change after the new start is
// then seen, and the entry is never recorded under content the compiler did
// not read. It waits at most raceMargin, and never for a file system with
// coarse time stamps (those compiles are just not stored).
func (j *job) settle(src filehash.Info) {
	margin := marginFor(src)
	if margin != raceMargin {
		return
	}
	if wait := time.Until(time.Unix(0, src.Changed).Add(margin + time.Millisecond)); wait > 0 {
		time.Sleep(min(wait, margin+time.Millisecond))
		j.start = time.Now()
	}
}
