package compile

import (
	"errors"
	"os"

	"github.com/dcc-build/dcc/cache"
)

// Why a compile missed. Direct mode's lookup names the header that changed
// or appeared: the manifest under the direct key (the compiler, arguments
// and source content) lists the files each earlier compile read. When there
// is no such manifest, the source's history says whether this source was
// compiled here before, with these arguments, from this content: a tiny
// record per compiler, working directory, source and object, of the
// arguments and source digests of its last misses. Both are consulted, and
// the history written, on a miss only: a hit costs nothing more.

// History records are manifests under a key of their own kind (not entries:
// they are not counted as cached results), each result naming two
// pseudo-files: the digest of the compile's arguments and that of its
// source, newest first, at most as many as a manifest keeps.
const (
	historyArguments = "arguments"
	historySource    = "source"
)

// whyMissed returns why this compile missed (one of cache.MissReasons),
// notes it and the header it names for the DCC_LOG line, and records the
// compile in the source's history (unless nothing may be stored).
func (j *job) whyMissed() string {
	reason, header := j.missCause()
	if j.note != nil {
		j.note.missReason, j.note.missHeader = reason, header
	}
	if !j.readOnly {
		j.recordHistory()
	}
	return reason
}

// missCause works out why this compile missed, and the header that changed
// or appeared.
func (j *job) missCause() (reason, header string) {
	switch {
	case j.recache:
		return cache.MissRecached, ""
	case j.readOnly:
		return cache.MissReadOnly, ""
	}
	if j.note != nil && len(j.note.manifest) > 0 {
		// Compiled before with these arguments and this source.
		if reason, header := j.manifestDifference(j.note.manifest); reason != "" {
			return reason, header
		}
		return cache.MissNotInCache, ""
	}
	m, err := j.s.opts.Store.GetManifest(j.historyKey())
	if err != nil || len(m.Results) == 0 {
		return cache.MissNewSource, ""
	}
	args, src, ok := j.historyDigests()
	if !ok {
		return cache.MissNewSource, ""
	}
	for _, r := range m.Results {
		if digestOf(r, historyArguments) == args {
			if digestOf(r, historySource) != src {
				return cache.MissSourceChanged, ""
			}
			return cache.MissNotInCache, ""
		}
	}
	return cache.MissNewArguments, ""
}

// manifestDifference returns, when no result of a manifest still holds, the
// first difference of the newest one: a file whose digest differs (or that
// cannot be hashed: gone), else a path recorded absent that now exists. It
// returns "" when a result still holds (its entry is gone) or none is found.
func (j *job) manifestDifference(results []cache.ManifestResult) (reason, header string) {
	for _, r := range results {
		if j.unchanged(r) {
			return "", ""
		}
	}
	r := results[0]
	for _, f := range r.Files {
		info, err := j.s.opts.Memo.Hash(resolve(j.req.Dir, f.Path))
		if err != nil || info.Digest != f.Digest {
			return cache.MissChangedHeader, f.Path
		}
	}
	for _, p := range r.Absent {
		if _, err := os.Stat(resolve(j.req.Dir, p)); !errors.Is(err, os.ErrNotExist) {
			return cache.MissNewHeader, p
		}
	}
	return "", ""
}

// historyKey is where the history of this compile's source is kept: the
// compiler, the working directory, the source and the object.
func (j *job) historyKey() cache.Key {
	return newKey("history").str(j.id.Key()).str(j.req.Dir).str(j.a.Source).str(j.paths[kindObject]).sum()
}

// historyDigests returns the digest of what a direct-mode key holds beyond
// the source's content (arguments, environment, ...), and the source's
// digest. ok is false when the source cannot be hashed.
func (j *job) historyDigests() (args, src cache.Digest, ok bool) {
	info, err := j.s.opts.Memo.Hash(resolve(j.req.Dir, j.a.Source))
	if err != nil {
		return args, src, false
	}
	key := j.baseKey("arguments").strs(j.a.PreprocessorArgs).strs(depFlags(j.a.DependencyArgs)).str(j.a.Source).sum()
	return cache.Digest(key), info.Digest, true
}

// recordHistory puts this compile first in its source's history. A failure
// only costs the next miss its reason.
func (j *job) recordHistory() {
	args, src, ok := j.historyDigests()
	if !ok {
		return
	}
	r := cache.ManifestResult{Files: []cache.FileDigest{{Path: historyArguments, Digest: args}, {Path: historySource, Digest: src}}}
	err := j.s.checkRoom(256)
	if err == nil {
		err = j.s.opts.Store.AddManifestResult(j.historyKey(), r)
	}
	if err != nil {
		j.s.log.Debug("record source history", "source", j.a.Source, "err", err)
	}
}

// digestOf returns the digest a history record gives the pseudo-file name.
func digestOf(r cache.ManifestResult, name string) cache.Digest {
	for _, f := range r.Files {
		if f.Path == name {
			return f.Digest
		}
	}
	return cache.Digest{}
}
