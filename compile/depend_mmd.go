package compile

import (
	"context"
	"errors"
	"fmt"
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

// clangDepOptions is what clang's dependency options ask of its file.
type clangDepOptions struct {
	User, Phony bool
	// Targets as clang writes them: every -MT as given and -MQ quoted, in
	// command-line order; without either, the object, quoted.
	Targets []string
}

// parseClangDepOptions reads clang's dependency options: -MD, -MMD (the
// last of them wins), -MF, -MT, -MQ, -MP, and -Wp,-MD,file and
// -Wp,-MMD,file, which clang's driver reads as -MD or -MMD with -MF file.
// Anything else is an error.
func parseClangDepOptions(args []string, object string) (clangDepOptions, error) {
	var opts clangDepOptions
	seen := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-MD" || a == "-MMD":
			seen, opts.User = true, a == "-MMD"
		case a == "-MP":
			opts.Phony = true
		case a == "-MF" || a == "-MT" || a == "-MQ":
			if i+1 == len(args) {
				return opts, fmt.Errorf("%s without a value", a)
			}
			i++
			switch a {
			case "-MT":
				opts.Targets = append(opts.Targets, args[i])
			case "-MQ":
				opts.Targets = append(opts.Targets, quoteClangTarget(args[i]))
			}
		case strings.HasPrefix(a, "-MF"):
		case strings.HasPrefix(a, "-MT"):
			opts.Targets = append(opts.Targets, a[3:])
		case strings.HasPrefix(a, "-MQ"):
			opts.Targets = append(opts.Targets, quoteClangTarget(a[3:]))
		case strings.HasPrefix(a, "-Wp,"):
			parts := strings.Split(a[len("-Wp,"):], ",")
			if len(parts) != 2 || parts[0] != "-MD" && parts[0] != "-MMD" || parts[1] == "" {
				return opts, fmt.Errorf("%s: not a dependency file option", a)
			}
			seen, opts.User = true, parts[0] == "-MMD"
		default:
			return opts, fmt.Errorf("%s: not a dependency option dcc writes", a)
		}
	}
	if !seen {
		return opts, errors.New("no -MD or -MMD")
	}
	if len(opts.Targets) == 0 {
		opts.Targets = []string{quoteClangTarget(object)}
	}
	return opts, nil
}

// quoteClangTarget quotes a target as clang's driver quotes -MQ's (and the
// object's): a blank gets a backslash, after the backslashes just before it
// are doubled; "$" becomes "$$"; "#" gets a backslash.
func quoteClangTarget(t string) string {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case ' ', '\t':
			for k := i - 1; k >= 0 && t[k] == '\\'; k-- {
				b.WriteByte('\\')
			}
			b.WriteByte('\\')
		case '$':
			b.WriteByte('$')
		case '#':
			b.WriteByte('\\')
		}
		b.WriteByte(t[i])
	}
	return b.String()
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

// searchOptions are the include options of a command, as the search model
// of userListed follows them.
type searchOptions struct {
	// quote are the -iquote directories, user the -I ones, system the
	// -isystem and -idirafter ones, each as given, in order.
	quote, user, system []string
	// includes are the -include files, in order.
	includes []string
	// defines are the -D and -U options, as -Dname=value and -Uname.
	defines []string
}

// parseSearchOptions reads the preprocessor arguments of a command. ok is
// false when one is not an include directory, -include or a macro option
// (or one of the few that change neither or only the compiler's own
// directories: -fmacro-prefix-map=, --sysroot, -nostdinc, ...), when a
// directory is named in a way that is not a plain path (-I-, =dir), or when a
// macro's definition names system_header (a _Pragma that could make any
// header a system header).
func parseSearchOptions(args []string, clang bool) (searchOptions, bool) {
	var s searchOptions
	for i := 0; i < len(args); i++ {
		a := args[i]
		var opt string
		for _, o := range []string{"-isystem", "-idirafter", "-iquote", "-include", "-I", "-D", "-U"} {
			if strings.HasPrefix(a, o) {
				opt = o
				break
			}
		}
		switch {
		case opt == "":
			// These move the compiler's own directories (the listing of
			// builtinDirs runs with them), or none.
			switch {
			case a == "-nostdinc" || a == "-nostdinc++" || a == "-fno-working-directory" ||
				hasAnyPrefix(a, []string{"-fmacro-prefix-map=", "-finput-charset=", "--sysroot=", "-stdlib=", "--stdlib="}):
				continue
			case a == "--sysroot" && i+1 < len(args):
				i++
				continue
			}
			return s, false
		case a == opt:
			if i+1 == len(args) {
				return s, false
			}
			i++
			a = opt + args[i]
		}
		v := a[len(opt):]
		if opt != "-D" && opt != "-U" && (v == "" || v == "-" || strings.HasPrefix(v, "=") || strings.HasPrefix(v, "$SYSROOT")) {
			return s, false
		}
		switch opt {
		case "-D", "-U":
			if strings.Contains(v, "system_header") {
				return s, false
			}
			s.defines = append(s.defines, a)
		case "-I":
			s.user = append(s.user, v)
		case "-iquote":
			s.quote = append(s.quote, v)
		case "-isystem", "-idirafter":
			s.system = append(s.system, v)
		case "-include":
			s.includes = append(s.includes, v)
		}
	}
	return s, true
}

// searchDir is one directory a name may be found in, clean and absolute,
// with the kind UserDeps needs.
type searchDir struct {
	dir  string
	kind depfile.DirKind
}

// includeGraph is what UserDeps (or clangUserDeps) needs to know of a
// compile's files: every way each may have included another.
type includeGraph struct {
	abs func(string) string
	// inclusions are the #include, #include_next and #import lines (and
	// the -include options, and gcc's stdc-predef.h, at line 0 of the
	// source) that may have read a file of the list from a file of the
	// list; probes the __has_include operands (clang lists what they find).
	inclusions, probes []depfile.Inclusion
	facts              map[string]depfile.HeaderFacts
}

// includeGraph scans every file of included (the compile's -MD list) and
// notes, for each name a file asks for, every directory of the search path
// where that name is a file of the list: more ways than the compiler took,
// never fewer, since every file it read is in the list and every name it
// looked up is in the scan (which does not follow the conditionals).
func (j *job) includeGraph(search searchOptions, builtin []string, included []cache.FileDigest, clang bool) (*includeGraph, error) {
	cwd := filepath.Clean(j.req.Dir)
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(cwd, p)
	}
	g := &includeGraph{abs: abs, facts: make(map[string]depfile.HeaderFacts, len(included))}
	quote, bracket, err := searchDirs(search, builtin, abs, clang)
	if err != nil {
		return nil, err
	}
	index := make(map[string]bool, len(included))
	for _, f := range included {
		p := abs(f.Path)
		if index[p] {
			return nil, fmt.Errorf("%s is listed under two names", p)
		}
		index[p] = true
	}
	main := abs(j.a.Source)
	if len(included) == 0 || abs(included[0].Path) != main {
		return nil, errors.New("the list does not start with the source")
	}
	scans := make(map[string]*includescan.File, len(included))
	type computed struct {
		from string
		d    includescan.Directive
	}
	var macros []computed
	// follow notes every file of the list that d, in from, may name.
	follow := func(from string, d includescan.Directive) {
		add := func(to string, kind depfile.DirKind) {
			if !index[to] {
				return
			}
			in := depfile.Inclusion{From: from, To: to, Line: d.Line, Dir: kind}
			if d.Probe {
				g.probes = append(g.probes, in)
			} else {
				g.inclusions = append(g.inclusions, in)
			}
		}
		if filepath.IsAbs(d.Name) {
			add(filepath.Clean(d.Name), depfile.DirUser)
			return
		}
		// in is dir/name, clean: most names need no cleaning after a
		// clean directory (a third of the time this takes otherwise).
		name := filepath.Clean(d.Name)
		clean := name == d.Name && name != "." && name != ".." && !strings.HasPrefix(name, "../")
		in := func(dir, name string) string {
			if clean && dir != "/" {
				return dir + "/" + name
			}
			return filepath.Join(dir, name)
		}
		if !d.Angle {
			add(in(filepath.Dir(from), d.Name), depfile.DirIncluder)
			for _, sd := range quote {
				add(in(sd.dir, d.Name), sd.kind)
			}
		}
		for _, sd := range bracket {
			add(in(sd.dir, d.Name), sd.kind)
		}
	}
	for _, f := range included {
		p := abs(f.Path)
		scan, err := j.scanListed(p, f.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		scans[p] = scan
		facts := depfile.HeaderFacts{SystemHeader: scan.SystemHeader}
		if p == main {
			// gcc and clang ignore #pragma GCC system_header in the main file.
			facts.SystemHeader = nil
		}
		for _, d := range scan.Directives {
			facts.QuoteSearch = facts.QuoteSearch || !d.Angle || d.Macro
			if d.Macro {
				macros = append(macros, computed{p, d})
				continue
			}
			follow(p, d)
		}
		switch {
		case scan.LineMarker:
			facts.Unknown = "a line marker may make it a system header or not"
		case scan.SystemHeaderElsewhere:
			facts.Unknown = "system_header is spelled outside #pragma GCC system_header"
		}
		g.facts[p] = facts
	}
	if len(macros) > 0 {
		names := map[string]bool{}
		for _, c := range macros {
			names[c.d.Name] = true
		}
		values, err := includescan.MacroValues(names, search.defines, maps.All(scans))
		if err != nil {
			return nil, err
		}
		for _, c := range macros {
			for _, v := range values[c.d.Name] {
				v.Line, v.Next = c.d.Line, c.d.Next
				follow(c.from, v)
			}
		}
	}
	// What the compiler reads before the source's first line: gcc's
	// stdc-predef.h (an <> include), then each -include, looked for in the
	// working directory first (as a user directory) and then as a "" name.
	if !clang {
		for _, sd := range bracket {
			if p := filepath.Join(sd.dir, predefHeader); index[p] {
				g.inclusions = append(g.inclusions, depfile.Inclusion{From: main, To: p, Line: 0, Dir: sd.kind})
			}
		}
	}
	for _, name := range search.includes {
		add := func(p string, kind depfile.DirKind) {
			if index[p] {
				g.inclusions = append(g.inclusions, depfile.Inclusion{From: main, To: p, Line: 0, Dir: kind})
			}
		}
		if filepath.IsAbs(name) {
			add(filepath.Clean(name), depfile.DirUser)
			continue
		}
		add(abs(name), depfile.DirUser)
		for _, sd := range slices.Concat(quote, bracket) {
			add(filepath.Join(sd.dir, name), sd.kind)
		}
	}
	return g, nil
}

// searchDirs returns the directories of the "" and <> searches, clean and
// absolute, each with its kind: a system one for -isystem, -idirafter and the
// compiler's own, and for an -I or -iquote directory that is also one of
// those (gcc and clang drop the duplicate user entry; clang keeps an -iquote
// one as a user directory, which the model refuses). Two names of one
// directory are refused too: the compilers compare directories, not names.
func searchDirs(s searchOptions, builtin []string, abs func(string) string, clang bool) (quote, bracket []searchDir, err error) {
	system := map[string]bool{}
	for _, d := range slices.Concat(s.system, builtin) {
		system[abs(d)] = true
	}
	kind := func(d string) depfile.DirKind {
		if system[d] {
			return depfile.DirSystem
		}
		return depfile.DirUser
	}
	for _, d := range s.quote {
		d = abs(d)
		if clang && system[d] {
			return nil, nil, fmt.Errorf("-iquote %s is also a system directory", d)
		}
		quote = append(quote, searchDir{d, kind(d)})
	}
	for _, d := range slices.Concat(s.user, s.system, builtin) {
		d = abs(d)
		bracket = append(bracket, searchDir{d, kind(d)})
	}
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	for _, sd := range slices.Concat(quote, bracket) {
		info, err := os.Stat(sd.dir)
		if err != nil {
			continue
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil, nil, fmt.Errorf("%s: no inode", sd.dir)
		}
		key := inode{uint64(st.Dev), uint64(st.Ino)}
		if other, dup := seen[key]; dup && other != sd.dir {
			return nil, nil, fmt.Errorf("%s and %s are one directory", other, sd.dir)
		}
		seen[key] = sd.dir
	}
	return quote, bracket, nil
}

// scanListed returns the scan of the file at p, whose digest (hashed after
// the compile) is digest: remembered by digest, or read and scanned now.
func (j *job) scanListed(p string, digest cache.Digest) (*includescan.File, error) {
	m := &j.s.scans
	m.mu.Lock()
	f, ok := m.m[digest]
	m.mu.Unlock()
	if ok {
		return f, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if filehash.HashBytes(data) != digest {
		return nil, errors.New("changed since it was hashed")
	}
	return m.scan(digest, data)
}

// clangUserDeps returns the entries of list, clang's -MD list (the source
// first), that clang's -MMD keeps, or an error when that cannot be told.
//
// clang (14: DependencyFile.cpp, PPDirectives.cpp, HeaderSearch.cpp) adds a
// file to the list, once, at the first event that names it and is not a
// system one; -MD takes every event. The events are each #include-like
// line that reads or skips the file (include guard, #pragma once, #import)
// and each __has_include that finds it. An include's event is a system one
// when the larger of two is: the state at the line (the includer's own,
// which the event that read it gave, or system after a #pragma GCC
// system_header above), and the file's directory flavour as the lookup that
// found it sets it: system for a system directory, user for a user one, and
// for the includer's own directory the includer's flavour (its last lookup's,
// or system after its #pragma). A __has_include event is the flavour alone.
//
// Not knowing which lookup found what, clangUserDeps takes every way each
// file may have been named (inclusions and probes, by clean absolute
// names, from includeGraph) with every state and flavour its includer may
// have, to a fixed point; after a #pragma GCC system_header, which may sit
// in a skipped #if, a file may be in either state. A file whose events can
// only be user ones is kept and one whose events can only be system ones
// left out; the order is then the -MD list's (the first event is the first
// user one). A file that may have both, or whose events are not known, is an
// error. (The source's own #pragma is ignored by clang, as by gcc; the
// caller leaves it out of facts.)
func clangUserDeps(list []string, abs func(string) string, inclusions, probes []depfile.Inclusion, facts map[string]depfile.HeaderFacts) ([]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	listed := make(map[string]bool, len(list))
	for _, f := range list {
		name := abs(f)
		listed[name] = true
		fact, ok := facts[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s: nothing known of it: %w", name, depfile.ErrUnsure)
		case fact.Unknown != "":
			return nil, fmt.Errorf("%s: %s: %w", name, fact.Unknown, depfile.ErrUnsure)
		}
	}
	main := abs(list[0])
	entered := map[string]uint8{main: depfile.StateUser} // the states a file may be read in
	flavour := map[string]uint8{main: depfile.StateUser} // the flavours its lookups may give it
	events := map[string]uint8{}
	for name, f := range facts {
		if len(f.SystemHeader) > 0 && name != main {
			flavour[name] |= depfile.StateSystem
		}
	}
	// stateAt is the states from may be in at line.
	stateAt := func(from string, line int) uint8 {
		s := entered[from]
		if s == 0 || from == main {
			return s
		}
		for _, l := range facts[from].SystemHeader {
			if l < line {
				// The scan does not follow the conditionals: the pragma
				// may not have been read.
				return s | depfile.StateSystem
			}
		}
		return s
	}
	for changed := true; changed; {
		changed = false
		note := func(m map[string]uint8, name string, s uint8) {
			if m[name]|s != m[name] {
				m[name] |= s
				changed = true
			}
		}
		for _, in := range inclusions {
			if !listed[in.From] || !listed[in.To] {
				continue
			}
			s := stateAt(in.From, in.Line)
			if s == 0 {
				continue
			}
			var v, fl uint8
			switch in.Dir {
			case depfile.DirSystem:
				v, fl = depfile.StateSystem, depfile.StateSystem
			case depfile.DirUser:
				v, fl = s, depfile.StateUser
			default:
				fl = flavour[in.From]
				v = depfile.MaxStates(fl, s)
			}
			if v == 0 {
				continue
			}
			note(entered, in.To, v)
			note(events, in.To, v)
			note(flavour, in.To, fl)
		}
		for _, in := range probes {
			if !listed[in.From] || !listed[in.To] || entered[in.From] == 0 {
				continue
			}
			var fl uint8
			switch in.Dir {
			case depfile.DirSystem:
				fl = depfile.StateSystem
			case depfile.DirUser:
				fl = depfile.StateUser
			default:
				fl = flavour[in.From]
			}
			note(events, in.To, fl)
			note(flavour, in.To, fl)
		}
	}
	out := []string{list[0]}
	for _, f := range list[1:] {
		switch events[abs(f)] {
		case depfile.StateUser:
			out = append(out, f)
		case depfile.StateSystem:
		case 0:
			return nil, fmt.Errorf("%s: no file read before it names it: %w", f, depfile.ErrUnsure)
		default:
			return nil, fmt.Errorf("%s: it may be named from a system header and from a user one: %w", f, depfile.ErrUnsure)
		}
	}
	return out, nil
}

// clangMaxColumns is the column limit of clang's dependency output.
const clangMaxColumns = 75

// formatClangDeps renders a dependency file as clang 14's -MD and -MMD
// write it (DependencyFileGenerator::outputDependencyFile): the targets as
// given (already quoted), wrapped at 75 columns with two blanks after each
// break; the prerequisites, each after a blank, a break (and one blank)
// before one that would not leave room for " \" counting its unquoted length;
// with phony, an empty rule for every prerequisite but the first, each after
// an empty line.
func formatClangDeps(targets, deps []string, phony bool) []byte {
	var b strings.Builder
	col := 0
	for _, t := range targets {
		n := len(t)
		switch {
		case col == 0:
			col = n
		case col+n+2 > clangMaxColumns:
			b.WriteString(" \\\n  ")
			col = n + 2
		default:
			b.WriteByte(' ')
			col += n + 1
		}
		b.WriteString(t)
	}
	b.WriteByte(':')
	col++
	for _, d := range deps {
		n := len(d)
		if col+n+1+2 > clangMaxColumns {
			b.WriteString(" \\\n ")
			col = 2
		}
		b.WriteByte(' ')
		b.WriteString(quoteClangName(d))
		col += n + 1
	}
	b.WriteByte('\n')
	if phony && len(deps) > 0 {
		for _, d := range deps[1:] {
			b.WriteByte('\n')
			b.WriteString(quoteClangName(d))
			b.WriteString(":\n")
		}
	}
	return []byte(b.String())
}

// quoteClangName quotes a file name as clang's dependency output does
// (PrintFilename): "#" gets a backslash, a space one after the backslashes
// just before it are doubled, "$" becomes "$$". A tab is left as it is.
func quoteClangName(name string) string {
	if !strings.ContainsAny(name, "# $") {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '#':
			b.WriteByte('\\')
		case ' ':
			b.WriteByte('\\')
			for k := i - 1; k >= 0 && name[k] == '\\'; k-- {
				b.WriteByte('\\')
			}
		case '$':
			b.WriteByte('$')
		}
		b.WriteByte(name[i])
	}
	return b.String()
}
