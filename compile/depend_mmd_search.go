package compile

import (
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
)

// The search model of depend mode for -MMD: the include options, where each
// #include may have found its file, and the graph of the files a compile
// read.

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
