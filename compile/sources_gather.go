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
	"syscall"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/filehash"
	"github.com/dcc-build/dcc/includescan"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
)

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
	// externC are the systemDirs clang searches with implicit extern "C".
	externC []string
	// user: the unit's dependency file leaves system headers out (-MMD),
	// which inclusions and facts let depfile.UserDeps tell.
	user       bool
	inclusions []depfile.Inclusion
	// probes are the __has_include operands a clang unit may find: clang's
	// -MMD lists what they find (clangUserDeps).
	probes []depfile.Inclusion
	facts  map[string]depfile.HeaderFacts
}

// gatherSources finds the files this unit could read: the source, and
// every file any #include of a file found could name, in every directory it
// could be searched in (more than the compiler reads, never less).
func (j *job) gatherSources(ctx context.Context, incArgs []string) (*sourceSet, error) {
	depOpts, _ := j.sourcesDeps()
	user := depOpts.User // -MMD: what gcc takes for system headers must be known
	clang := j.id.Family == toolchain.FamilyClang
	// msvc: a clang-cl command to replay, whose search j.replayDirs gives;
	// a quoted name is looked for in the directory of every file on the
	// include stack too (all files found stand for them).
	msvc := j.a.Family == toolchain.FamilyMSVC
	var builtin, externC []string
	var err error
	switch {
	case msvc:
		if j.replayDirs == nil {
			return nil, fmt.Errorf("no search directories: %w", errNotFromSources)
		}
		builtin = j.replayDirs.dirs
	case clang:
		var cd clangDirs
		cd, err = j.s.clangSystemDirs(ctx, j)
		builtin, externC = cd.dirs, cd.externC
	default:
		builtin, err = j.s.builtinDirs(ctx, j)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, errNotFromSources)
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
	var stackDirs []string // msvc: the directories of the files found
	seenDirs := map[string]bool{}
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
		if d := filepath.Dir(p); msvc && !seenDirs[d] {
			seenDirs[d] = true
			stackDirs = append(stackDirs, d)
		}
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
		if clang || msvc {
			break // clang 14 includes no stdc-predef.h
		}
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
		switch {
		case !d.Angle && msvc:
			where = slices.Concat([]string{filepath.Dir(p)}, stackDirs, quoteDirs, dirs)
			kinds = slices.Concat(make([]depfile.DirKind, 1+len(stackDirs)), quoteKinds[1:])
		case !d.Angle:
			where, kinds = append(append([]string{filepath.Dir(p)}, quoteDirs...), dirs...), quoteKinds
		}
		for k, dir := range where {
			spelled := dir + "/" + d.Name
			clean := filepath.Clean(spelled)
			if err := add(clean, spelled); err != nil {
				return err
			}
			switch {
			case !d.Probe:
				set.include(p, clean, d.Line, kinds[k])
			case clang:
				set.probe(p, clean, d.Line, kinds[k])
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
	refollowed := 0
	for {
		if msvc && len(queue) == 0 && len(stackDirs) > refollowed {
			// A directory found since may hold a quoted name looked
			// for before it was known.
			refollowed = len(stackDirs)
			for p, scanned := range scans {
				for _, d := range scanned.Directives {
					if !d.Macro && !d.Angle {
						if err := follow(p, d); err != nil {
							return nil, err
						}
					}
				}
			}
		}
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
			if msvc && len(stackDirs) > refollowed {
				continue
			}
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
		if len(queue) == 0 && !(msvc && len(stackDirs) > refollowed) {
			break // no new file: no new definition either
		}
	}
	set.systemDirs, set.externC, set.preinclude = builtin, externC, preinclude
	if user {
		if err := set.describe(scans); err != nil {
			return nil, err
		}
		if clang {
			// clang ignores #pragma GCC system_header in the source.
			main := abs(j.a.Source)
			facts := set.facts[main]
			facts.SystemHeader = nil
			set.facts[main] = facts
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

// probe notes, for a clang unit whose dependency file leaves system
// headers out, that a __has_include in from may find to (a file sent).
func (set *sourceSet) probe(from, to string, line int, dir depfile.DirKind) {
	if _, sent := set.digests[to]; set.user && sent {
		set.probes = append(set.probes, depfile.Inclusion{From: from, To: to, Line: line, Dir: dir})
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
