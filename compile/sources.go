package compile

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcc-build/dcc/depfile"
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

// sourcesCandidate reports whether this compile may go to a host with its
// sources: configured so, a gcc or clang compile of C or C++ whose original
// source compiled elsewhere gives the same bytes, writing only an object
// and a dependency file dcc can write from the host's list, with include
// options dcc can lay out.
func (j *job) sourcesCandidate() bool {
	r := j.s.opts.Remote
	clang := j.id.Family == toolchain.FamilyClang
	if r.Farm == nil || j.recache || !j.a.RemoteFromSources || (j.id.Family != toolchain.FamilyGCC && !clang) {
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
	if j.id.Family == toolchain.FamilyClang {
		c, err := parseClangDepOptions(j.a.DependencyArgs, j.a.Outputs.Object)
		return depfile.GCCOptions{User: c.User, Phony: c.Phony, Targets: c.Targets}, err == nil
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
