package includescan

import (
	"fmt"
	"iter"
	"strings"
)

// HeaderName reads a whole "name" or <name>, as a -D option's value may give
// a file name. ok is false for anything else.
func HeaderName(v string) (d Directive, ok bool) {
	v = strings.TrimSpace(v)
	if len(v) < 3 {
		return Directive{}, false
	}
	switch {
	case v[0] == '"' && v[len(v)-1] == '"' && !strings.Contains(v[1:len(v)-1], `"`):
	case v[0] == '<' && v[len(v)-1] == '>' && !strings.Contains(v[1:len(v)-1], ">"):
		d.Angle = true
	default:
		return Directive{}, false
	}
	if strings.ContainsAny(v, "\n\r") {
		return Directive{}, false
	}
	d.Name = v[1 : len(v)-1]
	return d, true
}

// MacroValues returns the file names the macros in names may stand for in
// an #include: every definition of each in files (path and ScanFile's
// result) and in the -D options among args. Any definition that is not a
// file name, or a name the compiler may define itself (one starting with
// "__", such as __FILE__), is an error naming it: the includes cannot be
// followed. A macro defined nowhere has no value (the compiler stops at
// such an #include, or skips it).
func MacroValues(names map[string]bool, args []string, files iter.Seq2[string, *File]) (map[string][]Directive, error) {
	values := map[string][]Directive{}
	for name := range names {
		if strings.HasPrefix(name, "__") {
			return nil, fmt.Errorf("#include %s: a macro the compiler may define", name)
		}
	}
	for _, a := range args {
		v, ok := strings.CutPrefix(a, "-D")
		if !ok {
			continue
		}
		name, def, hasDef := strings.Cut(v, "=")
		if !names[name] {
			continue
		}
		d, ok := HeaderName(def)
		if !hasDef || !ok {
			return nil, fmt.Errorf("#include %s: -D%s is not a file name", name, v)
		}
		values[name] = append(values[name], d)
	}
	for path, f := range files {
		for _, d := range f.Definitions {
			if !names[d.Macro] {
				continue
			}
			if !d.Literal {
				return nil, fmt.Errorf("%s line %d: %s is defined as something else than a file name", path, d.Line, d.Macro)
			}
			values[d.Macro] = append(values[d.Macro], d.Value)
		}
	}
	return values, nil
}
