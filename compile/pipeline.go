package compile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/toolchain"
)

// Compile runs one compile through the cache. Commands dcc does not cache,
// and anything that goes wrong inside dcc, come back with Handled false: the
// wrapper then runs the compiler itself. The decision goes to the DCC_LOG
// file the compile's environment names, if any.
func (s *Service) Compile(ctx context.Context, req daemon.CompileRequest) daemon.CompileResult {
	note := &compileNote{start: time.Now()}
	res := s.compile(ctx, req, note)
	logDecision(ctx, req, note, res)
	return res
}

// compile is Compile; note.a is set once the command is classified, and the
// rest of note as the compile goes.
func (s *Service) compile(ctx context.Context, req daemon.CompileRequest, note *compileNote) daemon.CompileResult {
	if s.opts.Disable {
		return notHandled("dcc is disabled (disable = true)")
	}
	if a, ok := s.opts.Store.(availability); ok {
		if err := a.Available(); err != nil {
			note.count(s, cache.StatErrors)
			return notHandled(err.Error())
		}
	}
	for _, name := range uncacheableEnv {
		if _, set := lookupEnv(req.Env, name); set {
			note.count(s, cache.StatUncacheable)
			return notHandled(name + " is set: the compiler writes a file dcc does not know")
		}
	}
	id, err := s.opts.Prober.Probe(ctx, req.Real)
	if err != nil {
		note.count(s, cache.StatErrors)
		s.log.Warn("identify compiler", "compiler", req.Real, "err", err)
		return notHandled(fmt.Sprintf("identify compiler: %v", err))
	}
	a := toolchain.Classify(toolchain.Command{
		Compiler: req.Compiler, Args: req.Args, Dir: req.Dir, Family: id.Family, Driver: id.Driver,
	})
	note.a = &a
	if !a.Cacheable() {
		note.count(s, cache.StatLocal)
		return notHandled(a.Reason)
	}
	wholeCommand := false
	if a.Family == toolchain.FamilyClang {
		if id, wholeCommand, err = s.targetIdentity(ctx, req, &a, id); err != nil {
			if errors.Is(err, toolchain.ErrTargetNeedsTools) {
				note.count(s, cache.StatLocal)
			} else {
				note.count(s, cache.StatErrors)
				s.log.Warn("identify compiler's target", "compiler", req.Real, "err", err)
			}
			return notHandled(fmt.Sprintf("identify compiler's target: %v", err))
		}
	}
	j := &job{s: s, req: req, a: &a, id: id, paths: outputPaths(a.Outputs), note: note,
		recache: envFlag(req.Env, RecacheEnv), readOnly: envFlag(req.Env, ReadOnlyEnv), wholeCommand: wholeCommand}
	if !nested(req.Env) {
		// A nested compile (a compiler wrapper script calling dcc again) is
		// part of the compile that holds the lock: it must not wait for it.
		unlock := s.outputs.lock(resolve(req.Dir, a.Outputs.Object))
		defer unlock()
	}
	j.start = time.Now()
	defer j.dropHeldSlot()
	res, err := j.run(ctx)
	switch {
	case errors.Is(err, errNotRegularSource):
		note.count(s, cache.StatLocal)
		return notHandled(err.Error())
	case errors.Is(err, errNoOutputDir), errors.Is(err, errPreprocessFailed), errors.Is(err, errPrecompiledHeader),
		errors.Is(err, errAssemblerReads), errors.Is(err, errReadFiles):
		note.count(s, cache.StatUncacheable)
		return notHandled(err.Error())
	case err != nil:
		note.count(s, cache.StatErrors)
		s.log.Warn("compile through cache", "source", a.Source, "dir", req.Dir, "err", err)
		return notHandled(err.Error())
	}
	return res
}

// notHandled tells the wrapper to run the compiler itself.
func notHandled(reason string) daemon.CompileResult {
	return daemon.CompileResult{Handled: false, Reason: reason}
}

// job is one cacheable compile in progress.
type job struct {
	s     *Service
	req   daemon.CompileRequest
	a     *toolchain.Analysis
	id    toolchain.Identity
	paths map[string]string
	start time.Time
	// includers maps each included file to the file that included it, and
	// mainFile is the source's name in the line markers.
	includers map[string]string
	mainFile  string
	// manifestOK: every included file was hashed, so the compile may be
	// recorded for direct mode.
	manifestOK bool
	// needsPreprocessor: the manifest says this compile must go through
	// preprocessor mode (not depend mode).
	needsPreprocessor bool
	// verified: the included files were hashed after the compile ran and
	// had not changed since it started (depend mode), or the object was
	// compiled from the preprocessed text, whose files had not changed
	// since before the compile started when they were hashed: what the
	// object was made from is what the manifest records.
	verified bool
	// textSafe: every file the preprocessed text names was hashed, had
	// changed before the compile started, and uses no time macro.
	textSafe bool
	// projectName caches project().
	projectName string
	// recache: the compile runs (here) and its result replaces what the
	// cache holds, without looking it up (RecacheEnv).
	recache bool
	// readOnly: the caches are looked up but nothing is stored (ReadOnlyEnv).
	readOnly bool
	// wholeCommand: the compile here runs the original command, never the
	// preprocessed text with the code-generation arguments alone: clang's
	// --sysroot or --gcc-toolchain make its driver decide otherwise for the
	// target than without them.
	wholeCommand bool
	// teamDirect is the compile's team direct-mode key; teamShared the
	// team key its entry was shared under across places (guard set) and
	// teamDeps that entry's dependency file; teamText its preprocessed
	// text with the line markers' paths relative (teamdirect.go).
	teamDirect teamDirect
	teamShared teamKey
	teamDeps   map[string][]byte
	teamText   []byte
	// noHost: a compile from the sources found no free host, or was too
	// small to send: it compiles here.
	noHost bool
	// heldSlot gives back the local compile slot taken while waiting for a
	// host (farmCompile), which the compile here then uses (localSlot).
	heldSlot func()
	// note is what the compile's DCC_LOG line says (nil: nothing).
	note *compileNote
	// readDigests names and digests the files options make the compiler
	// read besides the source and headers (readfiles.go); part of baseKey.
	readDigests []string
	// assemblerReads: a file the compile read names .incbin or .include
	// (found after a depend-mode compile): the result is not stored.
	assemblerReads bool
	// replayDirs are, for a clang-cl command to replay on a host, the
	// system directories its cc1 command searches (replay.go).
	replayDirs *clangDirs
}

// RecacheEnv, set to a true value in a compile's environment, makes dcc
// compile without looking the result up and store it over what the cache
// held, as ccache's CCACHE_RECACHE does: for an entry one suspects.
const RecacheEnv = "DCC_RECACHE"

// ReadOnlyEnv, set to a true value in a compile's environment, makes dcc
// look the local and shared caches up as usual but store nothing in either,
// as ccache's CCACHE_READONLY does: for a build that must not change a
// prepared cache.
const ReadOnlyEnv = "DCC_READONLY"

// envFlag reads a boolean variable from a compile's environment: unset or
// not a boolean is false.
func envFlag(env []string, name string) bool {
	v, ok := lookupEnv(env, name)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// missReason is the reason a compiled and stored result gives.
func (j *job) missReason() string {
	switch {
	case j.readOnly:
		return "cache miss (" + ReadOnlyEnv + " is set: not stored)"
	case j.recache:
		return "recached (" + RecacheEnv + " is set)"
	}
	return "cache miss"
}

// run looks the compile up in direct mode, then in preprocessor mode, and
// compiles and stores it on a miss.
func (j *job) run(ctx context.Context) (daemon.CompileResult, error) {
	src, err := j.s.opts.Memo.Hash(resolve(j.req.Dir, j.a.Source))
	switch {
	case errors.Is(err, filehash.ErrNotRegular):
		// /dev/null, a pipe: a probe of the compiler, not a file to cache.
		return daemon.CompileResult{}, fmt.Errorf("%s: %w", j.a.Source, errNotRegularSource)
	case err != nil:
		return daemon.CompileResult{}, fmt.Errorf("hash source: %w", err)
	case src.AssemblerReads:
		return daemon.CompileResult{}, fmt.Errorf("%s: %w", j.a.Source, errAssemblerReads)
	}
	if err := j.hashReadFiles(); err != nil {
		return daemon.CompileResult{}, err
	}
	_, wantDeps := j.paths[kindDeps]
	_, targetKnown := depTarget(j.a)
	direct := j.s.opts.DirectMode && !src.TimeMacros && (!wantDeps || targetKnown)
	var directKey cache.Key
	if direct {
		directKey = j.directKey(src.Digest)
	}
	if direct && !j.recache {
		if res, ok, err := j.lookupDirect(directKey); err != nil || ok {
			if ok {
				j.count(cache.StatHits, cache.StatDirectHits)
			}
			return res, err
		}
	}

	if direct && !j.recache && j.s.opts.Team != nil {
		j.teamDirect = j.teamDirectKeyOf(src.Digest)
		if j.teamDirect.ok {
			if res, ok, err := j.lookupTeamDirect(ctx, j.teamDirect, directKey); err != nil || ok {
				if ok {
					j.count(cache.StatHits, cache.StatDirectHits, cache.StatStorageHits)
				}
				return res, err
			}
		}
	}

	// A miss: the compile runs now.
	j.settle(src)
	if direct && j.sourcesCandidate() {
		if res, ok, err := j.trySources(ctx, directKey); ok || err != nil {
			return res, err
		}
	}
	if direct && j.replayCandidate() {
		if res, ok, err := j.tryReplay(ctx, directKey); ok || err != nil {
			return res, err
		}
	}
	// A compile that may go to a host needs its preprocessed text: depend
	// mode is for compiles that run here.
	remoteOK := j.remoteCandidate() && !j.recache && !j.noHost
	// The team cache is looked up by the preprocessed text: depend mode,
	// which does without it, would never ask.
	if direct && !remoteOK && j.s.opts.Team == nil {
		if res, ok, err := j.tryDepend(ctx, directKey); ok || err != nil {
			return res, err
		}
	}

	text, cppStderr, err := j.preprocess(ctx)
	if err != nil {
		return daemon.CompileResult{}, err
	}
	if filehash.HasAssemblerReads(text) {
		return daemon.CompileResult{}, fmt.Errorf("the preprocessed text of %s: %w", j.a.Source, errAssemblerReads)
	}
	included := j.hashIncluded(text)
	if pch := j.precompiledHeader(); pch != "" {
		return daemon.CompileResult{}, fmt.Errorf("%s would be used: %w", pch, errPrecompiledHeader)
	}
	cppKey := j.cppKey(text, included)
	// hit counts a preprocessed hit on entry and records it for direct mode.
	hit := func(entry cache.Entry, counters ...string) {
		j.count(append([]string{cache.StatHits, cache.StatPreprocessedHits}, counters...)...)
		if result, ok := j.resultForManifest(cppKey, entry); ok {
			j.remember(ctx, direct, directKey, result, included)
		}
	}
	if !j.recache {
		if res, entry, ok, err := j.lookupPreprocessed(cppKey); err != nil || ok {
			if ok {
				hit(entry)
			}
			return res, err
		}
	}
	var tk teamKey
	if j.s.opts.Team != nil {
		tk = j.teamKeyOf(cppKey, text, included)
		if res, entry, ok, err := j.lookupTeam(ctx, tk, cppKey); err != nil || ok {
			if ok {
				hit(entry)
			}
			return res, err
		}
	}
	// A unit that goes to its key's owner asks the owner's shared cache with
	// its compile request: no lookup of its own.
	asksOwner := remoteOK && len(cppStderr) == 0 && len(text) > j.s.opts.Remote.LocalThreshold &&
		j.s.opts.Remote.Farm.OwnerTakes(j.id.Key(), cppKey.String())
	if remoteOK && !asksOwner {
		if res, entry, ok, err := j.lookupShared(ctx, cppKey); err != nil || ok {
			if ok {
				hit(entry, cache.StatRemoteCacheHits)
			}
			return res, err
		}
	}

	var out output
	remoteDone, hostShared, fromShared := false, false, false
	if remoteOK && len(cppStderr) == 0 {
		out, remoteDone, hostShared, fromShared = j.compileRemote(ctx, text, cppKey)
	}
	fromText := remoteDone
	if !remoteDone {
		out, fromText, err = j.compile(ctx, text, len(cppStderr) > 0)
	}
	j.verified = fromText && j.textSafe
	if err != nil {
		return daemon.CompileResult{}, err
	}
	res := daemon.CompileResult{Handled: true, Reason: j.missReason(), Stdout: out.stdout, Stderr: out.stderr, ExitCode: out.exit}
	if out.exit != 0 {
		j.count(cache.StatUncacheable)
		res.Reason = "compile failed: not cached"
		return res, nil
	}
	stored, err := j.store(cppKey, out, remoteOK && !hostShared)
	if err != nil {
		// The outputs are in place; only the cache missed out. The compile
		// counts once, as an error.
		j.count(cache.StatErrors)
		j.s.log.Warn("store result", "source", j.a.Source, "err", err)
		return res, nil
	}
	j.shareTeam(tk, cppKey, stored)
	if fromShared {
		res.Reason = "shared cache hit"
		j.count(cache.StatHits, cache.StatPreprocessedHits, cache.StatRemoteCacheHits)
		j.remember(ctx, direct, directKey, cppKey, included)
		return res, nil
	}
	j.count(cache.StatMisses)
	j.remember(ctx, direct, directKey, cppKey, included)
	j.s.log.Debug("miss", slog.String("source", j.a.Source), slog.String("key", cppKey.String()))
	return res, nil
}

// preprocess runs the preprocess command and returns the preprocessed text and
// what the preprocessor said. The dependency file, if any, is written by this
// run. Already-preprocessed input is read as it is.
func (j *job) preprocess(ctx context.Context) (text, stderr []byte, err error) {
	if j.a.PreprocessCommand == nil {
		b, err := os.ReadFile(resolve(j.req.Dir, j.a.Source))
		if err != nil {
			return nil, nil, fmt.Errorf("read preprocessed source: %w", err)
		}
		return b, nil, nil
	}
	argv := withCompiler(j.a.PreprocessCommand, j.req.Real)
	out, direct, err := j.preprocessDirect(ctx, argv)
	if err == nil && !direct {
		out, err = runProcess(ctx, j.req.Dir, j.req.Env, argv)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("preprocess: %w", err)
	}
	if out.exit != 0 {
		// The compile fails; let the compiler say so in its own words.
		return nil, nil, fmt.Errorf("preprocessing failed (exit %d): %w", out.exit, errPreprocessFailed)
	}
	return out.stdout, out.stderr, nil
}

// errNotRegularSource: the source is not a regular file (/dev/null, a
// pipe): the command runs unchanged.
var errNotRegularSource = errors.New("the source is not a regular file: run unchanged")

// errAssemblerReads: the source, a header or the preprocessed text names an
// assembler directive that reads a file (.incbin, .include), which no
// preprocessor reports: the compile is not cached (as ccache does).
var errAssemblerReads = errors.New("names .incbin or .include, which make the assembler read a file the cache cannot see: not cached")

// errPreprocessFailed: the preprocessor rejected the source.
var errPreprocessFailed = errors.New("the compiler will report the error")

// compile runs the compile after a miss. A gcc or clang command proved exact
// when split in two compiles the text already preprocessed (the preprocessing
// is not done twice). If the preprocessor or that compile says anything at
// all, the original command runs instead, so that diagnostics are the
// compiler's own, in full. Everything else runs the original command.
// fromText says the object was compiled from text.
func (j *job) compile(ctx context.Context, text []byte, preprocessorSpoke bool) (out output, fromText bool, err error) {
	release, err := j.localSlot(ctx)
	if err != nil {
		return output{}, false, err
	}
	defer release()
	original := append([]string{j.req.Real}, j.req.Args...)
	if preprocessorSpoke && j.remoteCandidate() {
		j.fellBack("the preprocessor printed diagnostics: compiled here for the compiler's own words")
	}
	if preprocessorSpoke || j.wholeCommand || j.a.Action != toolchain.ActionRemote || j.a.Family == toolchain.FamilyMSVC ||
		j.a.CompileCommand == nil || j.a.PreprocessCommand == nil {
		out, err = runProcess(ctx, j.req.Dir, j.req.Env, original)
		return out, false, err
	}
	tmp, err := os.MkdirTemp(j.s.opts.TempDir, "cpp-")
	if err != nil {
		return output{}, false, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	input := filepath.Join(tmp, filepath.Base(j.a.PreprocessedInput))
	if err := os.WriteFile(input, text, 0o600); err != nil {
		return output{}, false, fmt.Errorf("write preprocessed text: %w", err)
	}
	argv := withCompiler(j.a.CompileCommand, j.req.Real)
	for i := 1; i < len(argv); i++ {
		if argv[i] == j.a.PreprocessedInput {
			argv[i] = input
		}
	}
	out, err = runProcess(ctx, j.req.Dir, j.req.Env, argv)
	if err == nil && out.exit == 0 && len(out.stdout) == 0 && len(out.stderr) == 0 {
		return out, true, nil
	}
	out, err = runProcess(ctx, j.req.Dir, j.req.Env, original)
	return out, false, err
}

// store saves the outputs of a successful compile under key, and with share
// also in the team's shared cache (encoded once for both).
func (j *job) store(key cache.Key, out output, share bool) (cache.Entry, error) {
	if j.readOnly {
		return cache.Entry{}, nil
	}
	files, err := collectOutputs(j.req.Dir, j.paths)
	if err != nil {
		return cache.Entry{}, err
	}
	j.describeDeps(files)
	e := cache.Entry{Files: files, Stdout: out.stdout, Stderr: out.stderr}
	if err := j.s.checkRoom(entrySize(e)); err != nil {
		return cache.Entry{}, err
	}
	if share {
		if enc, err := badgerstore.EncodePortableEntry(e); err == nil {
			j.shareEncoded(key, enc)
			if p, ok := j.s.opts.Store.(encodedPutter); ok {
				return e, p.PutEncodedEntry(key, enc)
			}
		}
	}
	return e, j.s.opts.Store.PutEntry(key, e)
}

// encodedPutter is a store that takes entries encoded by
// badgerstore.EncodePortableEntry.
type encodedPutter interface {
	PutEncodedEntry(k cache.Key, val []byte) error
}

// describeDeps records, next to a dependency file about to be stored, the
// target it starts with and the options it was made with.
func (j *job) describeDeps(files map[string][]byte) {
	if _, ok := files[kindDeps]; !ok {
		return
	}
	if target, known := depTarget(j.a); known {
		files[kindDepsTarget] = []byte(target)
	}
	files[kindDepsFlags] = []byte(strings.Join(depFlags(j.a.DependencyArgs), "\x00"))
}

// replay is the wrapper's answer for a hit.
func replay(e cache.Entry, reason string) daemon.CompileResult {
	return daemon.CompileResult{Handled: true, Reason: reason, Stdout: e.Stdout, Stderr: e.Stderr, ExitCode: e.ExitCode}
}

// targetIdentity is the identity a clang command compiles under: for a
// --target, clang's identity for that target (its Key keeps the cache
// entries and the hosts of the target apart from the compiler's own, and
// from a machine where the driver decides otherwise for it), probed with the
// command's --sysroot and --gcc-toolchain, which change the GCC installation
// the driver selects but are neither sent to hosts nor given to the compile
// of the preprocessed text. Without a --target: base, unless those options
// make the driver decide otherwise than without them. wholeCommand says they
// do: the compile here must then run the original command.
func (s *Service) targetIdentity(ctx context.Context, req daemon.CompileRequest, a *toolchain.Analysis, base toolchain.Identity) (id toolchain.Identity, wholeCommand bool, err error) {
	target, named := toolchain.ClangTarget(a.Args)
	driverArgs := toolchain.ClangDriverArgs(a.Args, req.Dir)
	if !named && len(driverArgs) == 0 {
		return base, false, nil
	}
	if id, err = s.opts.Prober.ProbeTarget(ctx, req.Real, target, driverArgs...); err != nil || len(driverArgs) == 0 {
		return id, false, err
	}
	plain, err := s.opts.Prober.ProbeTarget(ctx, req.Real, target)
	if err != nil {
		return toolchain.Identity{}, false, err
	}
	wholeCommand = plain.Plan != id.Plan
	if !named && !wholeCommand {
		return base, false, nil
	}
	return id, wholeCommand, nil
}
