package depfile

import (
	"errors"
	"fmt"
	"strings"
)

// GCCOptions is what a gcc command's dependency options ask of the
// dependency file, as gcc 12 reads them.
type GCCOptions struct {
	// User: -MMD (or -Wp,-MMD,file): headers gcc takes for system headers
	// are left out (see UserDeps).
	User bool
	// Phony: -MP, a rule without prerequisites for every header.
	Phony bool
	// Targets are the rule's targets as gcc writes them, in its order,
	// ready for FormatGCCTargets: -MT names as given, -MQ names and the
	// default target quoted.
	Targets []string
}

// ErrUnsupportedOptions is wrapped by ParseGCCOptions' errors.
var ErrUnsupportedOptions = errors.New("dependency options not written as gcc writes them here")

// ParseGCCOptions reads the dependency options of a gcc compile of source to
// object (the -o value, or the name gcc gives the object without one), in
// command-line order: -MD, -MMD, -MF, -MT, -MQ, -MP (separate or glued
// values), and the preprocessor's own -MD file and -MMD file passed as
// -Wp,-MD,file or -Wp,-MMD,file. Anything else, no -MD or -MMD of either
// form, or the driver's form together with -Wp's (the classifier runs those
// unchanged), is an error wrapping ErrUnsupportedOptions.
//
// gcc's driver hands cc1 its -MD (then -MMD, so -MMD wins), then every -MQ
// and then every -MT in their order, and, with -MD or -MMD but neither of
// those, "-MQ object"; the -Wp options come after all of them, the last
// one's style winning. Without any target cc1 names the rule after the
// source: its base name with the suffix replaced by ".o", quoted. libcpp
// (mkdeps.cc, deps_add_target) drops a leading "./" of every target and
// puts each -MT name in the place of the first quoted name, which moves to
// the end.
func ParseGCCOptions(args []string, source, object string) (GCCOptions, error) {
	var opts GCCOptions
	var md, mmd, wp bool
	var mq, mt []string
	value := func(i *int, a, opt string) (string, bool) {
		if a == opt {
			if *i+1 >= len(args) {
				return "", false
			}
			*i++
			return args[*i], true
		}
		if v, ok := strings.CutPrefix(a, opt); ok && v != "" {
			return v, true
		}
		return "", false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-MD":
			md = true
		case a == "-MMD":
			mmd = true
		case a == "-MP":
			opts.Phony = true
		case strings.HasPrefix(a, "-MF"):
			if _, ok := value(&i, a, "-MF"); !ok {
				return opts, fmt.Errorf("%s without a file: %w", a, ErrUnsupportedOptions)
			}
		case strings.HasPrefix(a, "-MT"), strings.HasPrefix(a, "-MQ"):
			v, ok := value(&i, a, a[:3])
			if !ok {
				return opts, fmt.Errorf("%s without a target: %w", a, ErrUnsupportedOptions)
			}
			if a[:3] == "-MQ" {
				mq = append(mq, v)
			} else {
				mt = append(mt, v)
			}
		case strings.HasPrefix(a, "-Wp,"):
			parts := strings.Split(a[len("-Wp,"):], ",")
			if len(parts) != 2 || parts[0] != "-MD" && parts[0] != "-MMD" || parts[1] == "" {
				return opts, fmt.Errorf("%s: %w", a, ErrUnsupportedOptions)
			}
			wp, opts.User = true, parts[0] == "-MMD"
		default:
			return opts, fmt.Errorf("%s: %w", a, ErrUnsupportedOptions)
		}
	}
	switch {
	case wp && (md || mmd):
		return opts, fmt.Errorf("-Wp,-MD together with -MD or -MMD: %w", ErrUnsupportedOptions)
	case !wp && !md && !mmd:
		return opts, fmt.Errorf("no -MD or -MMD: %w", ErrUnsupportedOptions)
	case !wp:
		opts.User = mmd
	}
	type target struct {
		name  string
		quote bool
	}
	var cc1 []target
	for _, v := range mq {
		cc1 = append(cc1, target{v, true})
	}
	for _, v := range mt {
		cc1 = append(cc1, target{v, false})
	}
	if len(cc1) == 0 {
		if wp {
			cc1 = append(cc1, target{defaultTarget(source), true})
		} else {
			cc1 = append(cc1, target{object, true})
		}
	}
	// deps_add_target: unquoted names go before the quoted ones.
	var list []target
	lwm := 0
	for _, t := range cc1 {
		t.name = stripDotSlash(t.name)
		if !t.quote {
			if lwm != len(list) {
				list[lwm], t = t, list[lwm]
			}
			lwm++
		}
		list = append(list, t)
	}
	for _, t := range list {
		if t.quote {
			opts.Targets = append(opts.Targets, Quote(t.name))
		} else {
			opts.Targets = append(opts.Targets, t.name)
		}
	}
	return opts, nil
}

// defaultTarget is libcpp's target for a rule without one
// (deps_add_default_target): the source's base name with its last suffix
// replaced by ".o" (added when there is none).
func defaultTarget(source string) string {
	base := source[strings.LastIndexByte(source, '/')+1:]
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	return base + ".o"
}

// stripDotSlash drops the leading "./" of a name, and the slashes after
// it, as libcpp's apply_vpath does to every target and prerequisite.
func stripDotSlash(name string) string {
	for strings.HasPrefix(name, "./") {
		name = strings.TrimLeft(name[2:], "/")
	}
	return name
}
