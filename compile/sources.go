package compile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/includescan"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote"
	"github.com/dcc-build/dcc/toolchain"
)

// Remote compiles from the sources. Instead of preprocessing here and
// sending the text, the daemon sends the source and every header it could
// include (found by scanning the files' #include lines, without running the
// preprocessor), each at its path here; the host compiles the original
// source in a copy of that tree, as depend mode does here, and answers with
// the object and the files the compile read. This costs the client no
// preprocessing run, and the object is the one a local compile writes, debug
// information included. Anything the scan cannot follow (an #include naming
// a macro, an absolute name, a time macro) makes the unit go the other way.

// Limits of one unit sent with its sources.
const (
	// maxSourceFiles bounds the files sent.
	maxSourceFiles = 8192
	// maxSourceBytes bounds their total size.
	maxSourceBytes = 48 << 20
	// maxScanMemo bounds the remembered scans; past it the memo starts over.
	maxScanMemo = 65536
)

// predefHeader is the header gcc includes before every C and C++ source on
// glibc systems, found in its own include directories.
const predefHeader = "stdc-predef.h"

// errNotFromSources says a unit cannot go to a host with its sources.
var errNotFromSources = errors.New("not sent with its sources")

// scanMemo remembers the scan of each file content by digest.
type scanMemo struct {
	mu sync.Mutex
	m  map[cache.Digest]*includescan.File
}

// scan returns the directives and definitions of data, whose digest is d.
func (m *scanMemo) scan(d cache.Digest, data []byte) (*includescan.File, error) {
	m.mu.Lock()
	f, ok := m.m[d]
	m.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := includescan.ScanFile(data)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.m == nil || len(m.m) >= maxScanMemo {
		m.m = map[cache.Digest]*includescan.File{}
	}
	m.m[d] = f
	m.mu.Unlock()
	return f, nil
}

// maxContentBytes bounds the file contents the daemon keeps for units
// sent with their sources.
const maxContentBytes = 128 << 20

// contentCache keeps file contents by digest, so that the headers every
// unit sends are read once. The zero value is ready.
type contentCache struct {
	mu    sync.Mutex
	m     map[cache.Digest][]byte
	bytes int
}

// read returns the content of the file at path, whose digest the memo says
// is want: the kept copy, or the file read now with its own digest (it
// changed since the memo hashed it when the digests differ).
func (c *contentCache) read(path string, want cache.Digest) ([]byte, cache.Digest, error) {
	c.mu.Lock()
	data, ok := c.m[want]
	c.mu.Unlock()
	if ok {
		return data, want, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cache.Digest{}, err
	}
	got := filehash.HashBytes(data)
	if got != want || len(data) > maxContentBytes/64 {
		return data, got, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+len(data) > maxContentBytes {
		c.m, c.bytes = map[cache.Digest][]byte{}, 0
	}
	if _, dup := c.m[got]; !dup {
		c.m[got] = data
		c.bytes += len(data)
	}
	return data, got, nil
}

// sourcesCandidate reports whether this compile may go to a gcc host with
// its sources: configured so, a gcc compile of C or C++ whose original
// source compiled elsewhere gives the same bytes, writing only an object
// and a dependency file dcc can write from the host's list, with include
// options dcc can lay out.
func (j *job) sourcesCandidate() bool {
	r := j.s.opts.Remote
	if r.Farm == nil || j.recache || !j.a.RemoteFromSources || j.id.Family != toolchain.FamilyGCC {
		return false
	}
	switch r.Sources {
	case "all":
	case "debug":
		if j.a.Action == toolchain.ActionRemote {
			return false // it goes as preprocessed text
		}
	default:
		return false
	}
	for kind := range j.paths {
		if kind != kindObject && kind != kindDeps {
			return false
		}
	}
	if _, ok := j.sourcesDeps(); !ok {
		return false
	}
	if _, ok := includeArgs(j.a.PreprocessorArgs); !ok {
		return false
	}
	for _, a := range j.a.CodegenArgs {
		if strings.Contains(a, "prefix-map==") || strings.Contains(a, "compilation-dir=") || a == "-ffreestanding" ||
			a == "-fno-hosted" || a == "-traditional" || a == "-traditional-cpp" {
			return false
		}
	}
	for _, name := range slices.Concat(includePathEnv, []string{"GCC_EXEC_PREFIX", "COMPILER_PATH", "SOURCE_DATE_EPOCH"}) {
		if _, set := lookupEnv(j.req.Env, name); set {
			return false
		}
	}
	return filepath.IsAbs(j.req.Dir)
}

// sourcesDeps returns what the unit's dependency file, if any, asks for.
// ok is false when dcc cannot write that file from the host's list of files
// read (options other than gcc's own -MD, -MMD, -MF, -MT, -MQ, -MP and
// -Wp,-MD,file or -Wp,-MMD,file), when depend mode is off (the result is
// stored as a depend-mode result is), or when the object would record the
// host's command line.
func (j *job) sourcesDeps() (opts depfile.GCCOptions, ok bool) {
	if !j.s.opts.DependMode || j.a.PreprocessCommand == nil {
		return opts, false
	}
	for _, arg := range j.a.Args {
		if strings.Contains(arg, "record-gcc-switches") || strings.Contains(arg, "record-command-line") {
			return opts, false
		}
	}
	if len(j.a.DependencyArgs) == 0 {
		return opts, true
	}
	if _, wanted := j.paths[kindDeps]; !wanted {
		return opts, false
	}
	opts, err := depfile.ParseGCCOptions(j.a.DependencyArgs, j.a.Source, j.a.Outputs.Object)
	return opts, err == nil
}

// strictISO reports whether the last -std= of args is a strict ISO mode
// (c99, c11, iso9899:..., not gnu99 and the like), in which gcc has no raw
// string literals.
func strictISO(args []string) bool {
	strict := false
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "-std="); ok {
			strict = strings.HasPrefix(v, "c") || strings.HasPrefix(v, "iso")
		} else if a == "-ansi" {
			strict = true
		}
	}
	return strict
}

// includeArgs returns the -I, -iquote, -isystem, -D and -U options of args,
// each joined to its value. ok is false when args hold anything else (other
// search options, -include, -nostdinc, ...).
func includeArgs(args []string) (out []string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		matched := false
		for _, opt := range []string{"-isystem", "-iquote", "-I", "-D", "-U"} {
			switch {
			case a == opt && i+1 < len(args):
				a = opt + args[i+1]
				i++
			case strings.HasPrefix(a, opt) && len(a) > len(opt):
			default:
				continue
			}
			if v := a[len(opt):]; opt[1] == 'i' || opt == "-I" {
				// A directory: not the old -I-, nor one under the sysroot.
				if v == "-" || strings.HasPrefix(v, "=") || strings.HasPrefix(v, "$SYSROOT") {
					return nil, false
				}
			}
			out = append(out, a)
			matched = true
			break
		}
		if !matched {
			return nil, false
		}
	}
	return out, true
}

// sourceSet is what a unit sends: its files, with the digest of each as
// sent, by clean absolute path.
type sourceSet struct {
	files   []protocol.SourceFile
	digests map[string]cache.Digest
	index   map[string]int // position in files
	size    int
	// incArgs are the unit's include and macro options, systemDirs the
	// compiler's own directories, preinclude what it includes first.
	incArgs, systemDirs []string
	preinclude          string
	// user: the unit's dependency file leaves system headers out (-MMD),
	// which inclusions and facts let depfile.UserDeps tell.
	user       bool
	inclusions []depfile.Inclusion
	facts      map[string]depfile.HeaderFacts
}

// gatherSources finds the files this unit could read: the source, and
// every file any #include of a file found could name, in every directory it
// could be searched in (more than the compiler reads, never less).
func (j *job) gatherSources(ctx context.Context, incArgs []string) (*sourceSet, error) {
	depOpts, _ := j.sourcesDeps()
	user := depOpts.User // -MMD: what gcc takes for system headers must be known
	builtin, err := j.s.builtinDirs(ctx, j)
	if err != nil {
		return nil, err
	}
	cwd := filepath.Clean(j.req.Dir)
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(cwd, p)
	}
	search, err := newSourceSearch(cwd, incArgs, builtin)
	if err != nil {
		return nil, err
	}
	if err := sameAsSpelled(cwd, j.a.Source); err != nil {
		return nil, err
	}
	quoteDirs, dirs := search.quote, search.dirs
	// The kinds of the directories a quoted name is looked for in: the
	// including file's own, then those of quoteDirs and dirs.
	quoteKinds := slices.Concat([]depfile.DirKind{depfile.DirIncluder}, search.quoteKinds, search.dirKinds)
	set := &sourceSet{digests: map[string]cache.Digest{}, index: map[string]int{}, incArgs: incArgs, user: user}
	strictC := j.a.Language == "c" && strictISO(j.a.CodegenArgs)
	var queue []string
	// add takes in one file found at the clean path p; a name that reaches
	// it through a symbolic link and ".." is refused, since the copy on the
	// host has no links.
	tried := map[string]bool{}
	add := func(p, spelled string) error {
		if tried[spelled] {
			return nil
		}
		tried[spelled] = true
		if _, seen := set.digests[p]; seen {
			return nil
		}
		if spelled != p {
			info, err := os.Stat(p)
			other, err2 := os.Stat(spelled)
			switch {
			case err != nil && err2 != nil:
				return nil
			case err != nil || err2 != nil || !os.SameFile(info, other):
				return fmt.Errorf("%s and %s are different files: %w", spelled, p, errNotFromSources)
			}
		}
		info, err := j.s.opts.Memo.Hash(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, filehash.ErrNotRegular):
			return nil // not there, or a directory: the compiler skips it too
		case err != nil:
			return fmt.Errorf("%v: %w", err, errNotFromSources)
		case info.TimeMacros:
			return fmt.Errorf("%s uses __DATE__, __TIME__ or __TIMESTAMP__: %w", p, errNotFromSources)
		case info.AssemblerReads:
			return fmt.Errorf("%s %v: %w", p, errAssemblerReads, errNotFromSources)
		}
		if len(set.files) >= maxSourceFiles || set.size+int(info.Size) > maxSourceBytes {
			return fmt.Errorf("more than %d files or %d bytes: %w", maxSourceFiles, maxSourceBytes, errNotFromSources)
		}
		data, digest, err := j.s.contents.read(p, info.Digest)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		if digest != info.Digest && filehash.HasTimeMacros(data) {
			return fmt.Errorf("%s uses __DATE__, __TIME__ or __TIMESTAMP__: %w", p, errNotFromSources)
		}
		if digest != info.Digest && filehash.HasAssemblerReads(data) {
			return fmt.Errorf("%s %v: %w", p, errAssemblerReads, errNotFromSources)
		}
		if strictC && bytes.Contains(data, []byte(`R"`)) {
			// includescan reads R"( as a raw string, which strict ISO C
			// does not have: it could hide an #include there.
			return fmt.Errorf("%s may hold a raw string, which %s does not have: %w", p, j.a.Language, errNotFromSources)
		}
		set.size += len(data)
		set.digests[p] = digest
		set.index[p] = len(set.files)
		set.files = append(set.files, protocol.SourceFile{Path: p, ModTime: info.ModTime, Digest: digest, Data: data})
		queue = append(queue, p)
		return nil
	}
	if err := add(abs(j.a.Source), abs(j.a.Source)); err != nil {
		return nil, err
	}
	if _, ok := set.digests[abs(j.a.Source)]; !ok {
		return nil, fmt.Errorf("source %s is not a regular file: %w", j.a.Source, errNotFromSources)
	}
	preinclude := ""
	for _, d := range builtin {
		p := filepath.Join(d, predefHeader)
		if _, err := os.Stat(p); err == nil {
			// gcc looks for it in the -I, -isystem and its own
			// directories; the host's -include looks in the working
			// directory and the -iquote ones too: none may hold one.
			for _, other := range slices.Concat([]string{cwd}, quoteDirs, dirs[:len(dirs)-len(builtin)]) {
				if _, err := os.Stat(filepath.Join(other, predefHeader)); err == nil {
					return nil, fmt.Errorf("%s in %s: %w", predefHeader, other, errNotFromSources)
				}
			}
			preinclude = predefHeader
			if err := add(p, p); err != nil {
				return nil, err
			}
			set.include(abs(j.a.Source), p, 0, depfile.DirSystem)
			break
		}
	}
	// follow looks for the file name d gives in file p, as gcc's rules
	// do: a quoted name in the including file's directory and the -iquote
	// directories first; every name then in the -I, -isystem and built-in
	// directories (#include_next starts further down that list: all of it
	// is looked at).
	follow := func(p string, d includescan.Directive) error {
		if filepath.IsAbs(d.Name) || d.Name == "" {
			return fmt.Errorf("%s line %d names %q: %w", p, d.Line, d.Name, errNotFromSources)
		}
		where, kinds := dirs, search.dirKinds
		if !d.Angle {
			where, kinds = append(append([]string{filepath.Dir(p)}, quoteDirs...), dirs...), quoteKinds
		}
		for k, dir := range where {
			spelled := dir + "/" + d.Name
			clean := filepath.Clean(spelled)
			if err := add(clean, spelled); err != nil {
				return err
			}
			if !d.Probe {
				set.include(p, clean, d.Line, kinds[k])
			}
		}
		return nil
	}
	// computed are the #include lines naming a macro, by file.
	type computedInclude struct {
		file string
		d    includescan.Directive
	}
	var computed []computedInclude
	scans := map[string]*includescan.File{}
	for {
		for len(queue) > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p := queue[0]
			queue = queue[1:]
			scanned, err := j.s.scans.scan(set.digests[p], set.files[set.index[p]].Data)
			if err != nil {
				return nil, fmt.Errorf("%s: %v: %w", p, err, errNotFromSources)
			}
			scans[p] = scanned
			for _, d := range scanned.Directives {
				if d.Macro {
					computed = append(computed, computedInclude{p, d})
					continue
				}
				if err := follow(p, d); err != nil {
					return nil, err
				}
			}
		}
		if len(computed) == 0 {
			break
		}
		// Every definition of the macros, in every file found and on the
		// command line, must be a file name: each is followed from the
		// #include line. A macro defined nowhere stops the compile there,
		// or the line is skipped, here as on the host.
		names := map[string]bool{}
		for _, c := range computed {
			names[c.d.Name] = true
		}
		values, err := includescan.MacroValues(names, incArgs, maps.All(scans))
		if err != nil {
			return nil, fmt.Errorf("%v: %w", err, errNotFromSources)
		}
		for _, c := range computed {
			for _, v := range values[c.d.Name] {
				v.Line, v.Next = c.d.Line, c.d.Next
				if err := follow(c.file, v); err != nil {
					return nil, err
				}
			}
		}
		if len(queue) == 0 {
			break // no new file: no new definition either
		}
	}
	set.systemDirs, set.preinclude = builtin, preinclude
	if user {
		if err := set.describe(scans); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// include notes, for a unit whose dependency file leaves system headers
// out, that from may include to (a file sent), found in a directory of
// kind dir.
func (set *sourceSet) include(from, to string, line int, dir depfile.DirKind) {
	if _, sent := set.digests[to]; set.user && sent {
		set.inclusions = append(set.inclusions, depfile.Inclusion{From: from, To: to, Line: line, Dir: dir})
	}
}

// describe keeps what depfile.UserDeps needs to know of each file sent.
// Macros given on the command line are checked here: a _Pragma there could
// make any header a system header.
func (set *sourceSet) describe(scans map[string]*includescan.File) error {
	for _, a := range set.incArgs {
		if strings.Contains(a, "system_header") {
			return fmt.Errorf("%s may make headers system headers: %w", a, errNotFromSources)
		}
	}
	set.facts = make(map[string]depfile.HeaderFacts, len(scans))
	for p, f := range scans {
		facts := depfile.HeaderFacts{SystemHeader: f.SystemHeader}
		for _, d := range f.Directives {
			facts.QuoteSearch = facts.QuoteSearch || !d.Angle
		}
		switch {
		case f.LineMarker:
			facts.Unknown = "a line marker may make it a system header or not"
		case f.SystemHeaderElsewhere:
			facts.Unknown = "system_header is spelled outside #pragma GCC system_header"
		}
		set.facts[p] = facts
	}
	return nil
}

// sourceSearch is where a unit sent with its sources has gcc look for
// headers: the -iquote directories, then the -I and -isystem ones in their
// order and the compiler's own, clean and absolute, each with its kind for
// depfile.UserDeps.
type sourceSearch struct {
	quote, dirs          []string
	quoteKinds, dirKinds []depfile.DirKind
}

// newSourceSearch reads the unit's include options. It refuses what the
// host's copy of the tree would not search as gcc searches here: a
// directory spelled with ".." that is not the directory its clean name
// names (a symbolic link on the way), and two names of one directory (gcc
// searches it once, as the system directory when it is one; the host's copy
// has two directories).
func newSourceSearch(cwd string, incArgs, builtin []string) (sourceSearch, error) {
	var s sourceSearch
	system := map[string]bool{}
	var userDirs []string
	for _, a := range incArgs {
		var v string
		quote, sys := false, false
		switch {
		case strings.HasPrefix(a, "-iquote"):
			v, quote = a[len("-iquote"):], true
		case strings.HasPrefix(a, "-isystem"):
			v, sys = a[len("-isystem"):], true
		case strings.HasPrefix(a, "-I"):
			v = a[2:]
		default:
			continue
		}
		if err := sameAsSpelled(cwd, v); err != nil {
			return s, err
		}
		d := v
		if !filepath.IsAbs(d) {
			d = filepath.Join(cwd, d)
		}
		d = filepath.Clean(d)
		switch {
		case quote:
			s.quote = append(s.quote, d)
		case sys:
			s.dirs = append(s.dirs, d)
			system[d] = true
		default:
			s.dirs = append(s.dirs, d)
		}
		userDirs = append(userDirs, d)
	}
	for _, d := range builtin {
		system[d] = true
	}
	s.dirs = append(s.dirs, builtin...)
	kind := func(d string) depfile.DirKind {
		if system[d] {
			return depfile.DirSystem
		}
		return depfile.DirUser
	}
	for _, d := range s.quote {
		s.quoteKinds = append(s.quoteKinds, kind(d))
	}
	for _, d := range s.dirs {
		s.dirKinds = append(s.dirKinds, kind(d))
	}
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	for _, d := range slices.Concat(userDirs, builtin) {
		info, err := os.Stat(d)
		if err != nil {
			continue
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		key := inode{uint64(st.Dev), uint64(st.Ino)}
		if other, dup := seen[key]; dup && other != d {
			return s, fmt.Errorf("%s and %s are one directory: %w", other, d, errNotFromSources)
		}
		seen[key] = d
	}
	return s, nil
}

// sameAsSpelled refuses a name (of the source or an include directory,
// relative to cwd or absolute) spelled with ".." that does not name what
// its clean form names, as through a symbolic link: the host's copy, which
// has no links, follows the clean form.
func sameAsSpelled(cwd, name string) error {
	if !strings.Contains(name, "..") {
		return nil
	}
	spelled := name
	if !filepath.IsAbs(spelled) {
		spelled = cwd + "/" + name
	}
	clean := filepath.Clean(spelled)
	info, err := os.Stat(spelled)
	other, err2 := os.Stat(clean)
	switch {
	case err != nil && err2 != nil:
		return nil
	case err != nil || err2 != nil || !os.SameFile(info, other):
		return fmt.Errorf("%s and %s are different files: %w", spelled, clean, errNotFromSources)
	}
	return nil
}

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
	rctx, cancel := context.WithTimeout(ctx, j.s.remoteTimeout())
	defer cancel()
	req := &protocol.CompileRequest{
		Toolchain: j.id.Key(), Language: j.a.Language, Args: j.a.CodegenArgs, SourceName: j.a.Source,
		ClientDir: filepath.Clean(j.req.Dir), Project: j.project(), CacheKey: key.String(),
		TimeoutMS: j.s.remoteTimeout().Milliseconds(),
		Sources:   set.files, IncludeArgs: set.incArgs, SystemDirs: set.systemDirs, Preinclude: set.preinclude,
	}
	rres, host, err := farm.Compile(rctx, j.id.Key(), req)
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
	res, ok, err = j.finishSources(ctx, directKey, set, rres.Object, rres.Deps, reason)
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
	k := j.baseKey("sources").strs(set.incArgs).strs(set.systemDirs).str(set.preinclude).str(j.a.Source)
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
	res, ok, err := j.finishSources(ctx, directKey, set, e.Files[cache.ObjectFile], deps, "shared cache hit")
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
// read, and stores it like a depend-mode result. ok is false (nothing
// written) when a file read was not one of those sent.
func (j *job) finishSources(ctx context.Context, directKey cache.Key, set *sourceSet, object []byte, deps []string, reason string) (daemon.CompileResult, bool, error) {
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
			// -MMD: the headers gcc takes for system headers are left out.
			var err error
			listed, err = depfile.UserDeps(deps, func(f string) string { return filepath.Clean(resolve(j.req.Dir, f)) },
				set.inclusions, set.facts)
			if err != nil {
				return daemon.CompileResult{Reason: err.Error()}, false, nil
			}
		}
		depsText = depfile.FormatGCCTargets(opts.Targets, listed, opts.Phony)
	}
	if err := writeAtomic(resolve(j.req.Dir, j.paths[kindObject]), object); err != nil {
		return daemon.CompileResult{}, false, fmt.Errorf("write remote object: %w", err)
	}
	if wantDeps {
		if err := writeAtomic(resolve(j.req.Dir, depsPath), depsText); err != nil {
			return daemon.CompileResult{}, false, fmt.Errorf("write dependency file: %w", err)
		}
	}
	res := daemon.CompileResult{Handled: true, Reason: reason}
	if why != "" {
		j.s.log.Debug("result not stored", "source", j.a.Source, "why", why)
		res.Reason = reason + ", not stored: " + why
		return res, true, nil
	}
	key := j.dependKey(directKey, included)
	if err := j.store(key, output{}, false); err != nil {
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
