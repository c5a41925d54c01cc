package server

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/includescan"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/zeebo/blake3"
)

// A job compiled from its sources: the client sends the source and every
// header it could include, each at its path on the client. The server lays
// them out under the job's tree directory (treeName), compiles in the
// client's working directory there with -nostdinc, so that only the tree's
// directories are searched, and maps the tree away with -ffile-prefix-map,
// so that debug information and __FILE__ name the client's paths. No file
// outside the tree is read: every name a sent file asks for is relative and
// cannot climb out of the tree, and the files the compiler lists as read
// must all be inside it.

// treeName is the directory of a job directory that holds the client's
// files; the object and the dependency file go beside it.
const treeName = "root"

// depsName is the dependency file a job compiled from its sources writes.
const depsName = "deps.d"

// sourceLanguages maps the languages a job compiled from its sources may
// have to the compiler's -x language.
var sourceLanguages = map[string]string{"c": "c", "c++": "c++"}

// sourcePlan is what a job compiled from its sources adds to a Job.
type sourcePlan struct {
	// includeArgs are the client's include and macro options, checked.
	includeArgs []string
	// dirs are the directories the compile may search, as on the client:
	// its working directory, the include options' and the compiler's own,
	// each as a clean absolute path.
	dirs []string
	// walked are the directories the source's and the include options'
	// names pass through before a ".." ("a" of "a/../inc"): the compiler
	// walks them as spelled, so they must be there (the client checked
	// that the name and its clean form are the same file there).
	walked []string
	// clang: the job's compiler is clang, whose own directories are
	// given to cc1 with their kinds (see protocol.CompileRequest).
	clang bool
}

// checkSystemDirs checks the compiler's own directories of a request: gcc's
// absolute and clean; clang's absolute, as its driver spells them, never
// climbing above the root, with ExternCDirs among them. It returns them
// clean, and the directories their ".." pass through (see walkedDirs).
func checkSystemDirs(req *protocol.CompileRequest, clang bool) (clean, walked []string, err error) {
	for _, d := range req.SystemDirs {
		ok := cleanAbs(d)
		if clang {
			ok = path.IsAbs(d) && staysInside("/", d) && !strings.ContainsAny(d, "\x00\n\r")
		}
		if !ok {
			return nil, nil, refuse(protocol.CodeMalformed, "system directory %s refused: it must be an absolute, clean path", quoteArg(d))
		}
		clean = append(clean, path.Clean(d))
		walked = append(walked, walkedDirs("/", d)...)
	}
	for _, d := range req.ExternCDirs {
		if !clang || !slices.Contains(req.SystemDirs, d) {
			return nil, nil, refuse(protocol.CodeMalformed, "extern-C directory %s refused: not one of clang's system directories", quoteArg(d))
		}
	}
	return clean, walked, nil
}

// clientPath returns the clean absolute path on the client of name, absolute
// or relative to the client's directory dir. ok is false when following it
// component by component climbs above the root, which under the job's tree
// would leave the tree.
func clientPath(dir, name string) (string, bool) {
	if path.IsAbs(name) {
		return path.Clean(name), staysInside("/", name)
	}
	return path.Join(dir, name), staysInside(dir, name)
}

// walkedDirs returns, for a name absolute or relative to dir, the clean
// absolute directories it passes through just before each ".." component.
func walkedDirs(dir, name string) []string {
	if !strings.Contains(name, "..") {
		return nil
	}
	cur := dir
	if path.IsAbs(name) {
		cur = "/"
	}
	var out []string
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
		case "..":
			out = append(out, cur)
			cur = path.Dir(cur)
		default:
			cur = path.Join(cur, c)
		}
	}
	return out
}

// prepareSources checks a request compiled from its sources: gcc, a source
// language, absolute clean paths, allowed include options, a source that
// is one of the files, and no file asking for a name that is absolute,
// given through a macro, or climbing out of the tree.
func (r *Runner) prepareSources(req *protocol.CompileRequest, j *Job) error {
	if req.Replay {
		return r.prepareReplay(req, j)
	}
	clang := j.compiler.Family == toolchain.FamilyClang
	if j.compiler.Family != toolchain.FamilyGCC && !clang {
		return refuse(protocol.CodeMalformed, "sources refused: toolchain %s is neither gcc nor clang; send preprocessed text", quoteArg(req.Toolchain))
	}
	lang, ok := sourceLanguages[req.Language]
	if !ok {
		return refuse(protocol.CodeMalformed, "language %s refused for sources: want c or c++", quoteArg(req.Language))
	}
	j.lang = lang
	if !cleanAbs(req.ClientDir) {
		return refuse(protocol.CodeMalformed, "client directory %s refused: it must be an absolute, clean path", quoteArg(req.ClientDir))
	}
	for _, a := range req.Args {
		if strings.Contains(a, "compilation-dir=") {
			return refuse(protocol.CodeForbiddenArg, "argument %s refused with sources: the server sets the directory itself", quoteArg(a))
		}
		if _, ok := treePrefixMap(a, "/tree"); !ok {
			return refuse(protocol.CodeForbiddenArg, "argument %s refused with sources: a prefix map needs a non-empty old prefix", quoteArg(a))
		}
	}
	if err := r.fillSources(req); err != nil {
		return err
	}
	files := make(map[string]bool, len(req.Sources))
	for _, f := range req.Sources {
		if !cleanAbs(f.Path) || f.Path == "/" {
			return refuse(protocol.CodeMalformed, "source path %s refused: it must be an absolute, clean file path", quoteArg(f.Path))
		}
		if files[f.Path] {
			return refuse(protocol.CodeMalformed, "source path %s refused: sent twice", quoteArg(f.Path))
		}
		files[f.Path] = true
	}
	src := req.SourceName
	if src == "" || strings.HasPrefix(src, "-") || strings.ContainsAny(src, "\x00\n\r") {
		return refuse(protocol.CodeMalformed, "source name %s refused", quoteArg(src))
	}
	// An absolute source (CMake names every source so) is one of the files
	// at its own path, a relative one is one relative to the client's
	// directory; neither may climb above the tree on the way.
	if p, ok := clientPath(req.ClientDir, src); !ok || !files[p] {
		return refuse(protocol.CodeMalformed, "source name %s refused: it is not one of the files sent", quoteArg(src))
	}
	j.input = path.Base(src) // for the log
	systemDirs, walked, err := checkSystemDirs(req, clang)
	if err != nil {
		return err
	}
	if p := req.Preinclude; p != "" && (strings.ContainsAny(p, "/\x00\n\r") || strings.HasPrefix(p, "-")) {
		return refuse(protocol.CodeMalformed, "preinclude %s refused: want a plain file name", quoteArg(p))
	}
	plan := &sourcePlan{dirs: append([]string{req.ClientDir}, systemDirs...), clang: clang}
	plan.walked = append(walkedDirs(req.ClientDir, src), walked...)
	for _, a := range req.IncludeArgs {
		dir, isDir, err := includeArg(a)
		if err != nil {
			return err
		}
		if isDir {
			// An absolute directory (CMake's -I/abs/include) is laid out
			// at its own path under the tree, a relative one under the
			// client's directory there: either way it must not climb
			// above the tree's root.
			clean, ok := clientPath(req.ClientDir, dir)
			if !ok {
				return refuse(protocol.CodeForbiddenArg, "argument %s refused: it leaves the job's tree", quoteArg(a))
			}
			plan.dirs = append(plan.dirs, clean)
			plan.walked = append(plan.walked, walkedDirs(req.ClientDir, dir)...)
		}
		plan.includeArgs = append(plan.includeArgs, a)
	}
	scans := make(map[string]*includescan.File, len(req.Sources))
	names := map[string]bool{}
	for _, f := range req.Sources {
		scanned, err := includescan.ScanFile(f.Data)
		if err != nil {
			return refuse(protocol.CodeForbiddenArg, "%s refused: %v", quoteArg(f.Path), err)
		}
		scans[f.Path] = scanned
		for _, d := range scanned.Directives {
			if d.Macro {
				names[d.Name] = true
			} else if err := checkName(f.Path, d, plan.dirs); err != nil {
				return err
			}
		}
	}
	if len(names) > 0 {
		// An #include of a macro reads what the macro's definitions name:
		// each must be a file name that passes the same checks.
		values, err := includescan.MacroValues(names, req.IncludeArgs, maps.All(scans))
		if err != nil {
			return refuse(protocol.CodeForbiddenArg, "sources refused: %v", err)
		}
		for path, scanned := range scans {
			for _, d := range scanned.Directives {
				for _, v := range values[d.Name] {
					if !d.Macro {
						break
					}
					v.Line = d.Line
					if err := checkName(path, v, plan.dirs); err != nil {
						return err
					}
				}
			}
		}
	}
	j.sources = plan
	return nil
}

// fillSources checks the digest of every file sent with its content and
// keeps the content, and takes the content of every file sent by digest
// from what is kept: a request naming a content not kept (evicted, or the
// server restarted) is refused with CodeMissingSources, and the client
// sends it again whole.
func (r *Runner) fillSources(req *protocol.CompileRequest) error {
	missing := 0
	for i := range req.Sources {
		f := &req.Sources[i]
		if f.ByDigest {
			data, ok := r.blobs.get(f.Digest)
			if !ok {
				missing++
			}
			f.Data = data
			continue
		}
		if blake3.Sum256(f.Data) != f.Digest {
			return refuse(protocol.CodeMalformed, "source %s refused: its digest does not match its content", quoteArg(f.Path))
		}
		r.blobs.put(f.Digest, f.Data)
	}
	if missing > 0 {
		return refuse(protocol.CodeMissingSources, "%d of the %d files were sent by digest and are not kept here: send them whole", missing, len(req.Sources))
	}
	return nil
}

// includeArg checks one include or macro option, joined to its value:
// dir is the directory of -I, -iquote and -isystem.
func includeArg(a string) (dir string, isDir bool, err error) {
	if strings.ContainsAny(a, "\x00\n\r") {
		return "", false, refuse(protocol.CodeForbiddenArg, "argument %s refused: it contains a NUL or line break", quoteArg(a))
	}
	for _, opt := range []string{"-isystem", "-iquote", "-I"} {
		if v, ok := strings.CutPrefix(a, opt); ok {
			if v == "" || v == "-" || strings.HasPrefix(v, "=") || strings.HasPrefix(v, "$SYSROOT") {
				return "", false, refuse(protocol.CodeForbiddenArg, "argument %s refused: want a directory", quoteArg(a))
			}
			return v, true, nil
		}
	}
	if (strings.HasPrefix(a, "-D") || strings.HasPrefix(a, "-U")) && len(a) > 2 {
		return "", false, nil
	}
	return "", false, refuse(protocol.CodeForbiddenArg, "argument %s refused: only -I, -iquote, -isystem, -D and -U go with sources", quoteArg(a))
}

// checkName refuses a name that file asks for and that the server would
// look up outside the tree: an absolute name, or one climbing above the
// shallowest directory it could be searched from.
func checkName(file string, d includescan.Directive, dirs []string) error {
	if strings.HasPrefix(d.Name, "/") || strings.ContainsRune(d.Name, 0) {
		return refuse(protocol.CodeForbiddenArg, "%s line %d refused: it names %s, an absolute path", quoteArg(file), d.Line, quoteArg(d.Name))
	}
	if !strings.Contains(d.Name, "..") {
		return nil
	}
	for _, base := range slices.Concat(dirs, []string{path.Dir(file)}) {
		if !staysInside(base, d.Name) {
			return refuse(protocol.CodeForbiddenArg, "%s line %d refused: %s climbs out of the job's tree", quoteArg(file), d.Line, quoteArg(d.Name))
		}
	}
	return nil
}

// cleanAbs reports whether p is an absolute, clean path without NUL or line
// breaks.
func cleanAbs(p string) bool {
	return path.IsAbs(p) && path.Clean(p) == p && !strings.ContainsAny(p, "\x00\n\r")
}

// staysInside reports whether following the relative name rel from the
// absolute directory base never climbs above the root, component by
// component as the kernel does: below a job's tree, the root is the tree.
func staysInside(base, rel string) bool {
	depth := strings.Count(path.Clean(base), "/")
	if base == "/" {
		depth = 0
	}
	for _, c := range strings.Split(rel, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return false
			}
		default:
			depth++
		}
	}
	return true
}

// layOut writes the request's files under tree at their client paths, with
// their client modification times (gcc's #pragma once compares them), and
// makes the working and include directories. The files are readable by
// everyone and writable by nobody but the server: a sandboxed job may run as
// another user and must not change them; the tree's parent keeps other
// users out.
func layOut(tree string, req *protocol.CompileRequest, plan *sourcePlan) error {
	for _, d := range slices.Concat(plan.dirs, plan.walked) {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			return refuse(protocol.CodeMalformed, "directory %s cannot be made in the job's tree: %v", quoteArg(d), unwrapPath(err))
		}
	}
	for _, f := range req.Sources {
		name := filepath.Join(tree, f.Path)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return refuse(protocol.CodeMalformed, "source %s cannot be laid out: %v", quoteArg(f.Path), unwrapPath(err))
		}
		if err := writeNew(name, f.Data); err != nil {
			return refuse(protocol.CodeMalformed, "source %s cannot be laid out: %v", quoteArg(f.Path), unwrapPath(err))
		}
		t := time.Unix(0, f.ModTime)
		if err := os.Chtimes(name, t, t); err != nil {
			return fmt.Errorf("set the time of %s: %w", f.Path, err)
		}
	}
	return nil
}

// writeNew creates name, which must not exist, with data.
func writeNew(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// unwrapPath drops the server's own path from a file-system error.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sourceArgs is the command line of a job compiled from its sources, after
// the program, run in the client's directory inside tree.
func sourceArgs(j *Job, dir, tree string) []string {
	req := j.req
	// gcc applies the last prefix map that matches, one only, and maps
	// some paths twice (the line table's directory). The client's maps
	// stay as they are, then comes the tree's own map, then the client's
	// maps moved into the tree: a path in the tree is mapped as the
	// client's own path was, and a path mapped once is mapped again by the
	// client's maps only, as on the client. clang 14 takes the matching map
	// with the longest old prefix, whatever the order: a moved map (the
	// tree's path and more) still comes before the tree's own.
	args := append([]string(nil), req.Args...)
	args = append(args, "-ffile-prefix-map="+tree+"=")
	for _, a := range req.Args {
		if moved, _ := treePrefixMap(a, tree); moved != a {
			args = append(args, moved)
		}
	}
	for _, a := range j.sources.includeArgs {
		for _, opt := range []string{"-isystem", "-iquote", "-I"} {
			if v, ok := strings.CutPrefix(a, opt); ok && path.IsAbs(v) {
				a = opt + tree + v
				break
			}
		}
		args = append(args, a)
	}
	args = append(args, "-nostdinc")
	for _, d := range req.SystemDirs {
		switch {
		case !j.sources.clang:
			args = append(args, "-isystem", tree+d)
		case slices.Contains(req.ExternCDirs, d):
			args = append(args, "-Xclang", "-internal-externc-isystem", "-Xclang", tree+d)
		default:
			args = append(args, "-Xclang", "-internal-isystem", "-Xclang", tree+d)
		}
	}
	if req.Preinclude != "" {
		args = append(args, "-include", req.Preinclude)
	}
	src := req.SourceName
	if path.IsAbs(src) {
		src = tree + src
	}
	return append(args, "-MD", "-MF", filepath.Join(dir, depsName),
		"-x", j.lang, "-c", src, "-o", filepath.Join(dir, objectName))
}

// prefixMapOptions are gcc's options that map path prefixes.
var prefixMapOptions = []string{"-fdebug-prefix-map=", "-ffile-prefix-map=", "-fmacro-prefix-map=", "-fprofile-prefix-map="}

// treePrefixMap moves a prefix map option whose old prefix is absolute into
// the tree; other arguments come back as they are. ok is false for a map
// with an empty old prefix, which would match the tree's paths too.
func treePrefixMap(a, tree string) (string, bool) {
	for _, opt := range prefixMapOptions {
		v, found := strings.CutPrefix(a, opt)
		if !found {
			continue
		}
		old, repl, _ := strings.Cut(v, "=")
		switch {
		case old == "":
			return a, false
		case strings.HasPrefix(old, "/"):
			return opt + tree + old + "=" + repl, true
		}
		return a, true
	}
	return a, true
}

// sourceDeps reads the files a job compiled from its sources read, as the
// client names them: the tree's prefix taken off absolute names. A file
// outside the tree fails the job.
func sourceDeps(dir, tree string) ([]string, error) {
	data, err := readJobFile(filepath.Join(dir, depsName))
	if err != nil {
		return nil, fmt.Errorf("read the job's dependency file: %w", err)
	}
	deps, ok := depfile.Parse(data)
	if !ok || len(deps) == 0 {
		return nil, errors.New("the job's dependency file does not parse")
	}
	if len(deps) > protocol.MaxSources {
		return nil, refuse(protocol.CodeTooLarge, "the compile read %d files, more than a reply may list", len(deps))
	}
	for i, d := range deps {
		if !path.IsAbs(d) {
			continue
		}
		rest, ok := strings.CutPrefix(d, tree)
		if !ok || !strings.HasPrefix(rest, "/") {
			return nil, fmt.Errorf("the compile read %s, outside the job's tree", d)
		}
		deps[i] = rest
	}
	return deps, nil
}
