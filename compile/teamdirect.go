package compile

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/remote"
)

// Direct mode through the team cache. A client with an empty local cache
// would preprocess every unit to find its team key; a team manifest, under
// a key of the source and the arguments with the paths under the base
// directory relative to the working directory, lists the files the compile
// read (relative the same way) with their digests, the files whose absence
// it relied on, the team key of its entry, and its dependency file with the
// checkout's directory left out. A client whose files all have those
// digests at those places is served without preprocessing.
//
// A manifest is written only for a unit whose entry is shared across
// places and whose preprocessed text names the checkout's directory
// nowhere but in its line markers: then the text, and so the object, is
// the same wherever the files are laid out the same.

// teamManifestKind starts a team manifest's payload.
const teamManifestKind = 'm'

// teamRootMark stands for the checkout's directory in a team manifest's
// dependency file.
const teamRootMark = "\x00dcc-root\x00"

// teamManifest is a team manifest's payload after its kind byte.
type teamManifest struct {
	Files  []teamFile `json:"files"`
	Absent []string   `json:"absent,omitempty"`
	Entry  string     `json:"entry"`
	Deps   string     `json:"deps,omitempty"`
	Target string     `json:"target,omitempty"`
	Flags  string     `json:"flags,omitempty"`
}

// teamFile is one file a compile read: its path (relative to the working
// directory when under the base directory) and content digest, in hex.
type teamFile struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
}

// teamDirect is what a job knows of its team direct-mode key.
type teamDirect struct {
	key cache.Key
	ok  bool
}

// teamPathOptions take a directory or file to search or read (joined or as
// the next argument).
var teamPathOptions = []string{"-isystem", "-iquote", "-idirafter", "-include", "-imacros", "-I"}

// teamDirectKeyOf returns the team direct-mode key of this compile, whose
// source has digest src: ok is false when the compile cannot have one.
func (j *job) teamDirectKeyOf(src cache.Digest) teamDirect {
	rel, ok := j.teamRelativizer()
	if !ok {
		return teamDirect{}
	}
	rel.strict = true
	codegen, ok := rel.args(j.a.CodegenArgs)
	if !ok {
		return teamDirect{}
	}
	search, ok := rel.searchArgs(j.a.PreprocessorArgs)
	if !ok {
		return teamDirect{}
	}
	k := newKey("team-direct").str(j.id.Key()).str(string(j.a.Family)).str(j.a.Language).str(string(j.a.Action))
	k.strs(codegen).strs(envValues(j.req.Env, keyEnv)).strs(search).strs(depFlags(j.a.DependencyArgs))
	k.str(rel.path(resolve(rel.cwd, j.a.Source))).digest(src)
	return teamDirect{key: k.sum(), ok: true}
}

// teamRelativizer returns the relativizer of this compile's paths, or ok
// false when its outputs record more than its arguments say.
func (j *job) teamRelativizer() (*relativizer, bool) {
	if j.a.RecordsWorkingDir || len(j.recordedInOutputs()) > 0 || len(j.readDigests) > 0 {
		return nil, false
	}
	cwd := filepath.Clean(j.req.Dir)
	base := j.s.opts.BaseDir
	if base == "" {
		base = remote.ProjectRoot(cwd)
	}
	if !filepath.IsAbs(cwd) || !under(cwd, base) {
		return nil, false
	}
	return &relativizer{cwd: cwd, base: base, common: cwd}, true
}

// searchArgs rewrites the directories and files of search options under
// base; ok is false when another argument names a path under base.
func (r *relativizer) searchArgs(args []string) ([]string, bool) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a, rewritten := args[i], false
		for _, opt := range teamPathOptions {
			switch {
			case a == opt && i+1 < len(args):
				out = append(out, a, r.path(args[i+1]))
				i++
			case strings.HasPrefix(a, opt) && len(a) > len(opt):
				out = append(out, opt+r.path(a[len(opt):]))
			default:
				continue
			}
			rewritten = true
			break
		}
		if rewritten {
			continue
		}
		if strings.Contains(a, r.base+"/") || strings.HasSuffix(a, r.base) {
			return nil, false
		}
		out = append(out, a)
	}
	return out, true
}

// teamRoot returns the deepest directory holding the working directory and
// every path of m under base, as rel finds it (rel.common).
func teamRoot(rel *relativizer, files []teamFile, absent []string) string {
	for _, f := range files {
		rel.path(resolve(rel.cwd, f.Path))
	}
	for _, p := range absent {
		rel.path(resolve(rel.cwd, p))
	}
	return rel.common
}

// lookupTeamDirect looks the team manifest under td up: a result whose
// files all have their digests here restores the outputs of its entry and
// its dependency file, and is recorded in the local cache for the next
// time. A miss says nothing (the preprocessor-mode lookup counts it).
func (j *job) lookupTeamDirect(ctx context.Context, td teamDirect, directKey cache.Key) (daemon.CompileResult, bool, error) {
	b, ok := j.s.opts.Team.Get(ctx, td.key.String())
	if !ok || len(b) == 0 || b[0] != teamManifestKind {
		return daemon.CompileResult{}, false, nil
	}
	var m teamManifest
	if err := json.Unmarshal(b[1:], &m); err != nil {
		j.s.log.Warn("unusable team manifest", "source", j.a.Source, "err", err)
		return daemon.CompileResult{}, false, nil
	}
	local, ok := j.teamManifestHere(m)
	if !ok {
		return daemon.CompileResult{}, false, nil
	}
	entryKey, err := hex.DecodeString(m.Entry)
	if err != nil || len(entryKey) != len(cache.Key{}) {
		return daemon.CompileResult{}, false, nil
	}
	e, ok := j.getTeam(ctx, cache.Key(entryKey))
	if !ok || e == nil || e.ExitCode != 0 {
		return daemon.CompileResult{}, false, nil
	}
	rel, _ := j.teamRelativizer()
	root := teamRoot(rel, m.Files, m.Absent)
	if root == "/" {
		return daemon.CompileResult{}, false, nil
	}
	files := make(map[string][]byte, len(e.Files)+3)
	for k, v := range e.Files {
		files[k] = v
	}
	if m.Deps != "" {
		files[kindDeps] = []byte(strings.ReplaceAll(m.Deps, teamRootMark, root+"/"))
		files[kindDepsTarget] = []byte(strings.ReplaceAll(m.Target, teamRootMark, root+"/"))
		files[kindDepsFlags] = []byte(m.Flags)
	}
	restored, ok := j.withDepTarget(files)
	if !ok {
		return daemon.CompileResult{}, false, nil
	}
	if err := restoreOutputs(j.req.Dir, restored, j.paths, j.kinds(true)); err != nil {
		return daemon.CompileResult{}, false, err
	}
	key := newKey("team-direct-entry").str(m.Entry).str(m.Deps).str(m.Target).str(m.Flags).sum()
	if j.keepServed(key, cache.Entry{Files: files, Stdout: e.Stdout, Stderr: e.Stderr}) {
		local.Result = key
		j.addManifestResult(directKey, local)
	}
	return replay(*e, "remote storage hit (direct)"), true, nil
}

// teamManifestHere checks a team manifest against the files here: every
// file with its digest at its place, every absent path absent. It returns
// the manifest as a local one (paths as found here).
func (j *job) teamManifestHere(m teamManifest) (cache.ManifestResult, bool) {
	var r cache.ManifestResult
	for _, f := range m.Files {
		d, err := hex.DecodeString(f.Digest)
		if err != nil || len(d) != len(cache.Digest{}) {
			return r, false
		}
		p := resolve(j.req.Dir, f.Path)
		info, err := j.s.opts.Memo.Hash(p)
		if err != nil || info.Digest != cache.Digest(d) {
			return r, false
		}
		r.Files = append(r.Files, cache.FileDigest{Path: p, Digest: info.Digest})
	}
	for _, a := range m.Absent {
		p := resolve(j.req.Dir, a)
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			return r, false
		}
		r.Absent = append(r.Absent, p)
	}
	return r, len(r.Files) > 0
}

// shareTeamManifest writes the team manifest of a compile just recorded
// in the local manifest as r, when its entry went to the team cache under
// the path-free team key and its text names the checkout's directory only
// in line markers.
func (j *job) shareTeamManifest(r cache.ManifestResult) {
	td, tk := j.teamDirect, j.teamShared
	if j.s.opts.Team == nil || j.readOnly || !td.ok || tk.guard == "" || j.teamText == nil {
		return
	}
	rel, ok := j.teamRelativizer()
	if !ok {
		return
	}
	rel.strict = true
	// A path under base that stays absolute (spelled "dir/../x.h") would
	// have a client elsewhere check this checkout's file, not its own.
	relative := func(p string) (string, bool) {
		out := rel.path(resolve(rel.cwd, p))
		return out, !filepath.IsAbs(out) || !under(filepath.Clean(out), rel.base)
	}
	m := teamManifest{Entry: tk.key.String()}
	for _, f := range r.Files {
		p, ok := relative(f.Path)
		if !ok {
			return
		}
		m.Files = append(m.Files, teamFile{Path: p, Digest: hex.EncodeToString(f.Digest[:])})
	}
	for _, a := range r.Absent {
		p, ok := relative(a)
		if !ok {
			return
		}
		m.Absent = append(m.Absent, p)
	}
	// The root as a reader finds it: from the manifest's paths alone.
	rootRel, _ := j.teamRelativizer()
	root := teamRoot(rootRel, m.Files, m.Absent)
	if root == "/" || bytes.Contains(j.teamText, []byte(root)) {
		return
	}
	if deps := j.teamDeps; deps != nil {
		m.Deps = strings.ReplaceAll(string(deps[kindDeps]), root+"/", teamRootMark)
		m.Target = strings.ReplaceAll(string(deps[kindDepsTarget]), root+"/", teamRootMark)
		m.Flags = string(deps[kindDepsFlags])
		if strings.Contains(m.Deps, root) || strings.Contains(m.Target, root) {
			return
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	j.s.opts.Team.Put(td.key.String(), append([]byte{teamManifestKind}, b...))
}
