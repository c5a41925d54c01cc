package compile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote"
	"github.com/dcc-build/dcc/toolchain"
)

// trySources compiles this unit on a host from its sources. ok is false
// when it cannot or the host did not compile it cleanly: the unit then goes
// the usual way (a failed or chatty compile runs here, with the local
// compiler's own diagnostics).
func (j *job) trySources(ctx context.Context, directKey cache.Key) (res daemon.CompileResult, ok bool, err error) {
	incArgs, _ := includeArgs(j.a.PreprocessorArgs)
	set, err := j.gatherSources(ctx, incArgs)
	if err != nil {
		if !errors.Is(err, errNotFromSources) && ctx.Err() != nil {
			return res, false, err
		}
		j.s.log.Debug("not sent with its sources", "source", j.a.Source, "why", err)
		j.fellBack("%v", err)
		return res, false, nil
	}
	farm := j.s.opts.Remote.Farm
	key := j.sourcesKey(set)
	// A unit that goes to its key's owner asks the owner's shared cache
	// with its compile request: no lookup of its own.
	if !farm.OwnerTakes(j.id.Key(), key.String()) {
		if res, ok, err := j.lookupSharedSources(ctx, directKey, key, set); ok || err != nil {
			return res, ok, err
		}
	}
	if set.size <= j.s.opts.Remote.LocalThreshold {
		j.noHost = true // small: compiled here
		j.fellBack("small: %d bytes with its sources, local_threshold %d", set.size, j.s.opts.Remote.LocalThreshold)
		return res, false, nil
	}
	// No deadline here (see compileRemote): the farm bounds each attempt.
	req := &protocol.CompileRequest{
		Toolchain: j.id.Key(), Language: j.a.Language, Args: j.a.CodegenArgs, SourceName: j.a.Source,
		ClientDir: filepath.Clean(j.req.Dir), Project: j.project(), CacheKey: key.String(),
		TimeoutMS: j.s.remoteTimeout().Milliseconds(),
		Sources:   set.files, IncludeArgs: set.incArgs, SystemDirs: set.systemDirs, Preinclude: set.preinclude,
		ExternCDirs: set.externC,
	}
	j.shippable()
	rres, host, err := j.farmCompile(ctx, req)
	switch {
	case errors.Is(err, remote.ErrNoHost):
		j.noHost = true // every host is busy: this one compiles here
		j.fellBack("no free host")
		return res, false, nil
	case err != nil:
		// The pool tried another host already: no second try as
		// preprocessed text (a preprocessing run here for nothing).
		j.noHost = true
		j.s.log.Warn("remote compile from sources failed: compiling here", "source", j.a.Source, "host", host, "err", err)
		j.s.count(cache.StatFallbacks)
		j.fellBack("host %s failed: %v", host, err)
		return res, false, nil
	case rres.ExitCode != 0 || len(rres.Stdout) > 0 || len(rres.Stderr) > 0:
		j.s.count(cache.StatRemoteReruns)
		j.fellBack("the compile on %s failed or printed diagnostics: run again here", host)
		return res, false, nil
	}
	reason := j.missReason() + ", compiled on " + host + " from the sources"
	if rres.FromShared {
		reason = "shared cache hit"
	}
	res, ok, err = j.finishSources(ctx, directKey, set, rres.Object, output{}, rres.Deps, reason)
	if !ok || err != nil {
		j.s.log.Warn("remote compile from sources: compiling here", "source", j.a.Source, "host", host, "why", res.Reason, "err", err)
		j.s.count(cache.StatFallbacks)
		j.fellBack("the result from %s is unusable (%s)", host, res.Reason)
		return daemon.CompileResult{}, false, err
	}
	switch {
	case rres.FromShared:
		j.onHost(host)
		j.count(cache.StatHits, cache.StatRemoteCacheHits)
	default:
		j.count(cache.StatMisses, cache.StatRemote, cache.StatRemoteSources, cache.StatHostPrefix+host)
		if !j.readOnly && !(rres.Shared && farm.SharedOwner(key.String()) == host) {
			j.shareSources(key, rres.Object, rres.Deps)
		}
	}
	return res, true, nil
}

// sourcesKey is the team's shared-cache key of a unit sent with its
// sources: the code-generation inputs (baseKey: the working directory only
// when the object records it), the include options, the compiler's
// directories, and every file sent with its digest, named relative to the
// working directory when inside it, so that checkouts of a project at
// different places share entries where the objects are the same.
func (j *job) sourcesKey(set *sourceSet) cache.Key {
	k := j.baseKey("sources").strs(set.incArgs).strs(set.systemDirs).strs(set.externC).str(set.preinclude).str(j.a.Source)
	cwd := filepath.Clean(j.req.Dir) + "/"
	paths := slices.Sorted(maps.Keys(set.digests))
	for _, p := range paths {
		k.str(strings.TrimPrefix(p, cwd)).digest(set.digests[p])
	}
	return k.sum()
}

// lookupSharedSources asks the team's shared cache for a unit sent with its
// sources; a hit is used as a host's answer would be.
func (j *job) lookupSharedSources(ctx context.Context, directKey, key cache.Key, set *sourceSet) (daemon.CompileResult, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, j.s.remoteTimeout())
	defer cancel()
	b, ok := j.s.opts.Remote.Farm.CacheGet(ctx, j.project(), key.String())
	if !ok {
		return daemon.CompileResult{}, false, nil
	}
	e, err := badgerstore.DecodePortableEntry(b)
	if err != nil || e.ExitCode != 0 || len(e.Files[cache.ObjectFile]) == 0 || len(e.Files[cache.ReadListFile]) == 0 {
		j.s.log.Warn("unusable entry from the shared cache", "source", j.a.Source, "err", err)
		return daemon.CompileResult{}, false, nil
	}
	deps := strings.Split(string(e.Files[cache.ReadListFile]), "\n")
	res, ok, err := j.finishSources(ctx, directKey, set, e.Files[cache.ObjectFile], output{}, deps, "shared cache hit")
	if ok && err == nil {
		j.onHost(j.s.opts.Remote.Farm.SharedOwner(key.String()))
		j.count(cache.StatHits, cache.StatRemoteCacheHits)
	}
	return res, ok, err
}

// shareSources puts a unit compiled from its sources into the shared cache
// (in the background), with the files it read.
func (j *job) shareSources(key cache.Key, object []byte, deps []string) {
	enc, err := badgerstore.EncodePortableEntry(cache.Entry{Files: map[string][]byte{
		cache.ObjectFile: object, cache.ReadListFile: []byte(strings.Join(deps, "\n"))}})
	if err != nil {
		j.s.log.Warn("encode shared entry", "source", j.a.Source, "err", err)
		return
	}
	j.shareEncoded(key, enc)
}

// finishSources writes the object and the dependency file of a unit
// compiled from its sources, from the object and the files the compile
// read, and stores it like a depend-mode result, with what the compile
// printed (a replayed clang-cl's /showIncludes and warnings). ok is false (nothing
// written) when a file read was not one of those sent.
func (j *job) finishSources(ctx context.Context, directKey cache.Key, set *sourceSet, object []byte, printed output, deps []string, reason string) (daemon.CompileResult, bool, error) {
	included, why := j.sentFiles(deps, set)
	if included == nil {
		return daemon.CompileResult{Reason: why}, false, nil
	}
	depsPath, wantDeps := j.paths[kindDeps]
	var depsText []byte
	if wantDeps {
		opts, ok := j.sourcesDeps()
		if !ok {
			return daemon.CompileResult{Reason: "dependency options dcc cannot write"}, false, nil
		}
		listed := deps
		if opts.User {
			// -MMD: the headers the compiler takes for system headers are
			// left out.
			var err error
			abs := func(f string) string { return filepath.Clean(resolve(j.req.Dir, f)) }
			if j.id.Family == toolchain.FamilyClang {
				listed, err = clangUserDeps(deps, abs, set.inclusions, set.probes, set.facts)
			} else {
				listed, err = depfile.UserDeps(deps, abs, set.inclusions, set.facts)
			}
			if err != nil {
				return daemon.CompileResult{Reason: err.Error()}, false, nil
			}
		}
		if j.id.Family == toolchain.FamilyClang {
			depsText = formatClangDeps(opts.Targets, listed, opts.Phony)
		} else {
			depsText = depfile.FormatGCCTargets(opts.Targets, listed, opts.Phony)
		}
	}
	if err := writeAtomic(resolve(j.req.Dir, j.paths[kindObject]), object); err != nil {
		return daemon.CompileResult{}, false, fmt.Errorf("write remote object: %w", err)
	}
	if wantDeps {
		if err := writeAtomic(resolve(j.req.Dir, depsPath), depsText); err != nil {
			return daemon.CompileResult{}, false, fmt.Errorf("write dependency file: %w", err)
		}
	}
	res := daemon.CompileResult{Handled: true, Reason: reason, Stdout: printed.stdout, Stderr: printed.stderr}
	if why != "" {
		j.s.log.Debug("result not stored", "source", j.a.Source, "why", why)
		res.Reason = reason + ", not stored: " + why
		return res, true, nil
	}
	key := j.dependKey(directKey, included)
	if _, err := j.store(key, printed, false); err != nil {
		j.s.count(cache.StatErrors)
		j.s.log.Warn("store result", "source", j.a.Source, "err", err)
		return res, true, nil
	}
	j.remember(ctx, true, directKey, key, included)
	return res, true, nil
}

// sentFiles checks the host's list of files read against what was sent,
// and returns the manifest of a depend-mode result. included is nil when
// the host read a file that was not sent (the result is not used); why,
// when not empty, says why the result is used but not stored: a file that
// changed since it was sent.
func (j *job) sentFiles(deps []string, set *sourceSet) (included []cache.FileDigest, why string) {
	if len(deps) == 0 || len(deps) > maxManifestFiles {
		return nil, fmt.Sprintf("the host listed %d files read", len(deps))
	}
	j.listedFiles(deps)
	included = make([]cache.FileDigest, 0, len(deps))
	for _, f := range deps {
		p := resolve(j.req.Dir, f)
		sent, ok := set.digests[filepath.Clean(p)]
		if !ok {
			return nil, f + " was read on the host but not sent"
		}
		info, err := j.s.opts.Memo.Hash(p)
		switch {
		case err != nil:
			why = fmt.Sprintf("hash %s: %v", f, err)
		case info.Digest != sent || j.changedTooRecently(info):
			why = f + " changed while the compile ran"
		}
		included = append(included, cache.FileDigest{Path: f, Digest: sent})
	}
	j.verified = why == ""
	return included, why
}
