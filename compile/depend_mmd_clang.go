package compile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dcc-build/dcc/depfile"
)

// clang's side of depend mode for -MMD: its dependency options, which
// headers its -MMD keeps, and its file's format.

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
