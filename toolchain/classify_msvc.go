package toolchain

import (
	"fmt"
	"strings"
)

// Tables for the arguments of -Xclang and /clang:.
var (
	xclangTable      *optionTable // built by buildMSVCTables
	clangDriverTable *optionTable // built by buildMSVCTables
)

// roleLanguages is the language each language-setting role stands for.
var roleLanguages = map[msvcRole]string{
	roleSourceC: "c", roleSourceCXX: "c++", roleLangC: "c", roleLangCXX: "c++",
}

// languageSwitches compile a preprocessed file in its language whatever its name.
var languageSwitches = map[string]string{"c": "/Tc", "c++": "/Tp"}

// preprocessedDirSuffix is appended to the object name to make the directory
// the preprocessed text goes to (see msvcPreprocessedInput).
const preprocessedDirSuffix = ".dcc-pp"

// classifyMSVC classifies a cl.exe or clang-cl command line (a.Args, already
// expanded) and fills a. Every rule comes from the option table in
// options_msvc.go; this function reads it and applies what holds for the whole
// command: one source, /c, the object name, the language.
func classifyMSVC(a *Analysis, name CompilerName, cmd Command) {
	d := msvcDriverFor(name)
	p := &msvcParse{d: d, args: a.Args}
	p.run()
	if p.localReason != "" {
		a.local(p.localReason)
		return
	}
	if !p.compile {
		a.local("no /c: the command links")
		return
	}
	src, lang, why := p.source()
	if why != "" {
		a.local(why)
		return
	}
	object := d.defaultObject(src.path)
	if p.hasOutput {
		if object, why = d.objectName(p.output, src.path, cmd.Dir); why != "" {
			a.local(why)
			return
		}
	}
	a.Language, a.Source, a.Outputs.Object = lang, src.path, object
	a.Action, a.Reason = ActionRemote, "compiles one source to an object with options dcc understands"
	if p.cacheReason != "" {
		a.Action, a.Reason = ActionCache, p.cacheReason
	}
	// clang-cl runs on a Linux host: the whole command, replayed there
	// under the client's paths, gives the same bytes.
	a.RemoteFromSources = d == clangCLDriver && p.noReplay == "" && (lang == "c" || lang == "c++")
	p.fillCommands(a, cmd.Compiler, src)
}

// msvcSource is one input file of a command line.
type msvcSource struct {
	// path is the file as written.
	path string
	// lang is "c" or "c++" when /Tc or /Tp named the file, else "".
	lang string
	// spec are the arguments that name the file, as written ("/Tc", "x.inc").
	spec []string
	// afterEndOfOptions: the file followed "--".
	afterEndOfOptions bool
}

// msvcParse walks one argument list through a driver's option table.
type msvcParse struct {
	d    *msvcDriver
	args []string
	i    int // index of the argument being read

	compile      bool
	sources      []msvcSource
	allLang      string // "c" or "c++" from the last /TC or /TP
	output       string // the last /Fo (or /o) value
	hasOutput    bool
	endOfOptions bool

	preprocessor []string // preprocessor-only arguments
	codegen      []string // code-generation arguments, in order
	deps         []string // dependency-listing arguments
	toPreprocess []string // what the /E command needs besides the source, in order
	keyArgs      []string // every argument but the sources

	debugInfo   bool // the object records the command line (CodeView LF_BUILDINFO)
	recordsDir  bool // the result depends on the working directory
	cacheReason string
	localReason string
	// noReplay is the first reason the command must compile here that a
	// replay of it on a host, under the same paths, would not reproduce.
	noReplay string
}

// replayableCacheOnly are the options that keep a command off a compile of
// its preprocessed text but that a replay of the whole command under the
// client's paths reproduces: they record paths or print the headers read.
var replayableCacheOnly = map[string]bool{
	"/showIncludes": true, "/showIncludes:user": true, "/JMC": true, "-flto": true, "/showFilenames": true,
}

// run reads every argument, stopping at the first that makes the command local.
func (p *msvcParse) run() {
	for p.i = 0; p.i < len(p.args) && p.localReason == ""; p.i++ {
		arg := p.args[p.i]
		if p.endOfOptions || !isMSVCOptionLike(arg) {
			p.addInput(arg)
			continue
		}
		row, glued, ok := p.d.lookup(arg)
		if !ok {
			if arg[0] == '/' && p.d.slashPathsAreInputs {
				p.addInput(arg) // clang-cl: an unknown "/x/y.c" is a path
				continue
			}
			p.localReason = fmt.Sprintf("unknown option %q", arg)
			continue
		}
		words, value := []string{arg}, glued
		if row.has(optSeparateArg) && glued == "" {
			if p.i+1 >= len(p.args) {
				p.localReason = fmt.Sprintf("%q lacks its argument", arg)
				continue
			}
			p.i++
			value = p.args[p.i]
			words = append(words, value)
		}
		p.apply(row, arg[:len(row.name)], value, words)
	}
}

// isMSVCOptionLike reports whether arg is spelled like an option.
func isMSVCOptionLike(arg string) bool {
	return len(arg) > 0 && (arg[0] == '/' || arg[0] == '-')
}

// addInput records a file argument.
func (p *msvcParse) addInput(arg string) {
	p.sources = append(p.sources, msvcSource{path: arg, spec: []string{arg}, afterEndOfOptions: p.endOfOptions})
}

// apply acts on one option: spelled is the option as written without its
// value, words the arguments it took.
func (p *msvcParse) apply(row option, spelled, value string, words []string) {
	switch p.d.roles[row.name] {
	case roleCompile:
		p.compile = true
		p.keyArgs = append(p.keyArgs, words...)
		return
	case roleOutput:
		p.output, p.hasOutput = value, true
		p.keyArgs = append(p.keyArgs, words...)
		return
	case roleSourceC, roleSourceCXX:
		p.sources = append(p.sources, msvcSource{path: value, lang: roleLanguages[p.d.roles[row.name]], spec: words})
		return
	case roleLangC, roleLangCXX:
		p.allLang = roleLanguages[p.d.roles[row.name]]
		p.toPreprocess = append(p.toPreprocess, words...)
		p.keyArgs = append(p.keyArgs, words...)
		return
	case roleEndOfOptions:
		p.endOfOptions = true
		return
	case roleXclang:
		p.applyInner(xclangTable, spelled, value, words, true)
		return
	case roleClangDriver:
		p.applyInner(clangDriverTable, spelled, value, words, false)
		return
	case roleDebugInfo:
		p.debugInfo, p.recordsDir = true, true
		p.setCache(because(spelled, "debug info records the command line, the source and object paths and the working directory"))
	case roleRecordsDir:
		p.recordsDir = true
		p.setCache(because(spelled, row.reason))
	}
	p.add(row, spelled, words)
}

// applyInner classifies the argument of -Xclang or /clang: from its own table.
// With pairs, a row taking a separate argument takes it from the next
// "-Xclang <value>" pair.
func (p *msvcParse) applyInner(t *optionTable, outer, value string, words []string, pairs bool) {
	row, glued, ok := t.lookup(value)
	if !ok {
		p.localReason = fmt.Sprintf("%s %q is not understood", outer, value)
		return
	}
	if row.has(optSeparateArg) && glued == "" {
		if !pairs || p.i+2 >= len(p.args) || p.args[p.i+1] != outer {
			p.localReason = fmt.Sprintf("%s %q lacks its argument", outer, value)
			return
		}
		words = append(words, p.args[p.i+1], p.args[p.i+2])
		p.i += 2
	}
	p.add(row, outer+" "+row.name, words)
}

// add files an option's words by the row's flags.
func (p *msvcParse) add(row option, spelled string, words []string) {
	if row.has(optLocal) {
		p.localReason = because(spelled, row.reason)
		return
	}
	if row.has(optCacheOnly) {
		p.setCache(because(spelled, row.reason))
		if !replayableCacheOnly[row.name] && p.noReplay == "" {
			p.noReplay = because(spelled, row.reason)
		}
	}
	p.keyArgs = append(p.keyArgs, words...)
	switch {
	case row.has(optIgnored):
	case row.has(optPreprocessor):
		p.preprocessor = append(p.preprocessor, words...)
		p.toPreprocess = append(p.toPreprocess, words...)
	case row.has(optDeps):
		p.deps = append(p.deps, words...)
	default:
		p.codegen = append(p.codegen, words...)
		p.toPreprocess = append(p.toPreprocess, words...)
	}
}

// because writes a one-line reason: the option as written, then why. An option
// ending in ':' is quoted so that the separator stays readable.
func because(spelled, why string) string {
	if strings.HasSuffix(spelled, ":") {
		spelled = "'" + spelled + "'"
	}
	return spelled + ": " + why
}

// setCache records the first reason the command must be compiled here.
func (p *msvcParse) setCache(reason string) {
	if p.cacheReason == "" {
		p.cacheReason = reason
	}
}

// source returns the one source of the command and its language, or why there
// is not exactly one. /Tc and /Tp win over /TC and /TP, which win over the
// extension; /TC and /TP leave object files and libraries to the linker.
func (p *msvcParse) source() (src msvcSource, lang, why string) {
	var found []msvcSource
	var langs []string
	for _, s := range p.sources {
		if s.path == "" {
			return msvcSource{}, "", "an empty file name"
		}
		l := s.lang
		if l == "" && !msvcObjectExtensions[strings.ToLower(p.d.extension(s.path))] {
			l = p.allLang
			if l == "" {
				l = p.d.language(s.path)
			}
		}
		if l == "" {
			return msvcSource{}, "", fmt.Sprintf("%q is not a C or C++ source (a linker input)", s.path)
		}
		found, langs = append(found, s), append(langs, l)
	}
	switch len(found) {
	case 0:
		return msvcSource{}, "", "no source file"
	case 1:
		return found[0], langs[0], ""
	}
	return msvcSource{}, "", fmt.Sprintf("several sources (%d)", len(found))
}

// fillCommands sets the fields of a cacheable command: the arguments by kind,
// the command that preprocesses to stdout and the command that compiles the
// preprocessed text.
func (p *msvcParse) fillCommands(a *Analysis, compiler string, src msvcSource) {
	a.PreprocessorArgs, a.DependencyArgs = p.preprocessor, p.deps
	a.CodegenArgs = p.codegen
	if p.debugInfo {
		// The object records every argument (LF_BUILDINFO), so every one of
		// them changes it.
		a.CodegenArgs = p.keyArgs
	}
	a.RecordsWorkingDir = p.recordsDir

	pp := append([]string{compiler, "/E"}, p.d.preprocessExtra...)
	pp = append(pp, p.toPreprocess...)
	if src.afterEndOfOptions {
		pp = append(pp, "--")
	}
	a.PreprocessCommand = append(pp, src.spec...)

	a.PreprocessedInput = msvcPreprocessedInput(a.Outputs.Object, p.d.base(src.path))
	cc := append([]string{compiler, "/c"}, p.codegen...)
	a.CompileCommand = append(cc, "/Fo"+a.Outputs.Object, languageSwitches[a.Language], a.PreprocessedInput)
}

// msvcPreprocessedInput names the file the preprocessed text of source goes to:
// a file with the source's own name (the object's .file symbol records the
// name of the file compiled), in a directory named after the object, which no
// other compile writes.
func msvcPreprocessedInput(object, sourceBase string) string {
	return object + preprocessedDirSuffix + "/" + sourceBase
}
