package toolchain

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// classifyGCC classifies a gcc or clang command line (a.Args, already
// expanded) and fills in a. The option table (options_gcc.go) decides what each
// argument is; this function decides what the whole command is:
//
//   - local: anything but a single-source compile to an object (linking, -E,
//     -S, queries, several sources, stdin or stdout as files), unknown
//     options, precompiled headers, plain assembler and other languages;
//   - cache: a compile whose preprocessed text compiled elsewhere would not give
//     the same bytes (options that read files or depend on this machine, and
//     everything that records source columns or the command line);
//   - remote: all other compiles.
func classifyGCC(a *Analysis, name CompilerName, cmd Command) {
	s := newGCCScan(a.Family)
	s.scan(a.Args)
	if len(s.inputs) == 1 {
		a.Source = s.inputs[0].name
		a.Language = gccSourceLanguage(s.inputs[0], name.CXX)
	}
	lang, reason := s.structure(a.Language)
	if reason == "" {
		reason = s.pchInUse(cmd.Dir)
	}
	if reason != "" {
		a.local(gccOneLine(reason))
		return
	}
	a.Outputs = s.outputFiles(a.Source)
	a.ReadFiles = s.readInputs(a.Outputs.Object)
	a.PreprocessorArgs, a.CodegenArgs, a.DependencyArgs = s.pp, s.codegen, s.deps
	a.RecordsWorkingDir = s.recordsWorkingDir(cmd.Dir)
	a.Action, a.Reason = ActionRemote, fmt.Sprintf("compiles %s source %s to %s", a.Language, a.Source, a.Outputs.Object)
	why, fromSources := s.cacheOnly(lang)
	if why != "" {
		a.Action, a.Reason = ActionCache, why
	}
	a.RemoteFromSources = fromSources && !lang.preprocessed && (s.fam == FamilyGCC || s.fam == FamilyClang) &&
		(a.Language == "c" || a.Language == "c++")
	a.Reason = gccOneLine(a.Reason)
	s.commands(a, cmd, lang)
}

// structure checks that the command is one compile of one source into an
// object, in a language dcc compiles, and returns that language's description.
// A non-empty reason says why the command must run unchanged instead.
func (s *gccScan) structure(language string) (gccLanguage, string) {
	switch {
	case s.localReason != "":
		return gccLanguage{}, s.localReason
	case !s.compile:
		return gccLanguage{}, "no -c: the driver links"
	case len(s.inputs) == 0:
		return gccLanguage{}, "no input file"
	case len(s.inputs) > 1:
		names := make([]string, len(s.inputs))
		for i, in := range s.inputs {
			names[i] = in.name
		}
		return gccLanguage{}, "several input files: " + strings.Join(names, " ")
	case s.inputs[0].name == "-":
		return gccLanguage{}, "the source is standard input"
	case s.inputs[0].name == "":
		return gccLanguage{}, "an empty argument names the source"
	case s.outputs > 1:
		return gccLanguage{}, "several -o options"
	case s.output == "-":
		return gccLanguage{}, "-o -: the object goes to standard output"
	case s.langAfterInput:
		return gccLanguage{}, "-x after the input file has no effect and gcc warns about it"
	case s.arches > 1:
		return gccLanguage{}, "several -arch options build several objects"
	case (s.md && s.mf == "-") || (s.wpMD && s.wpDeps == "-"):
		return gccLanguage{}, "the dependency file is standard output"
	case s.wpMD && (s.md || s.hasMF):
		return gccLanguage{}, "-Wp,-MD together with -MD/-MMD/-MF: gcc and clang write different dependency files"
	}
	lang, known := gccLanguages[language]
	switch {
	case language == "":
		return gccLanguage{}, fmt.Sprintf("%s is not a source file dcc compiles", s.inputs[0].name)
	case !known:
		return gccLanguage{}, fmt.Sprintf("language %s is not one dcc compiles", language)
	case lang.local != "":
		return gccLanguage{}, fmt.Sprintf("%s source: %s", language, lang.local)
	case lang.preprocessed && (s.md || s.wpMD):
		return gccLanguage{}, "dependency options with already preprocessed input write no dependency file"
	}
	return lang, ""
}

// gccOneLine keeps a reason on one line: control characters that came from
// the command line are written as Go escapes ("\n").
func gccOneLine(reason string) string {
	if strings.IndexFunc(reason, unicode.IsControl) < 0 {
		return reason
	}
	q := strconv.Quote(reason)
	return q[1 : len(q)-1]
}

// pchInUse returns a reason when an -include names a header that has a
// precompiled version next to it, which gcc and clang would read instead
// (gcc manual, "Using Precompiled Headers"; ccache's argument processing
// checks the same files).
func (s *gccScan) pchInUse(dir string) string {
	for _, inc := range s.includes {
		for _, ext := range []string{".gch", ".pch"} {
			p := inc + ext
			if !filepath.IsAbs(p) && dir != "" {
				p = filepath.Join(dir, p)
			}
			if _, err := os.Stat(p); err == nil {
				return fmt.Sprintf("-include %s: %s (%s%s)", inc, reasonPCH, inc, ext)
			}
		}
	}
	return ""
}

// outputFiles names every file the compile writes, as the driver names them.
func (s *gccScan) outputFiles(source string) Outputs {
	var out Outputs
	out.Object = s.output
	if out.Object == "" {
		out.Object = gccReplaceExt(gccBase(source), ".o", true)
	}
	switch {
	case s.md && s.hasMF:
		out.Deps = s.mf
	case s.md:
		// "If -o is given, the driver uses its argument but with a suffix of
		// .d, otherwise it takes the name of the input file, removes any
		// directory components and suffix, and applies a .d suffix" (gcc
		// manual, -MD): both are the object's name with its suffix replaced.
		out.Deps = gccReplaceExt(out.Object, ".d", true)
	case s.wpMD:
		out.Deps = s.wpDeps
	}
	if s.split && (s.fam == FamilyGCC || (s.debug && s.splitMode != "single")) {
		out.SplitDwarf = gccAuxName(s.fam, out.Object, ".dwo")
	}
	if s.gcno {
		out.Coverage = gccAuxName(s.fam, out.Object, ".gcno")
	}
	if s.stackUsage {
		out.StackUsage = gccAuxName(s.fam, out.Object, ".su")
	}
	return out
}

// commands fills in the two command lines of the remote path.
//
// The preprocessing step runs the original driver with every argument that
// reaches the preprocessor (code-generation arguments too: -O2, -fPIC, -m*
// and -std= define macros), in their original order, plus -E, and writes the
// text to stdout. When the original writes a dependency file, the step writes
// the same file: -MD alone would name it after the missing -o and use the
// source's base name as target, so -MF and -MQ are made explicit.
//
// The compile step compiles the text as its preprocessed language with the
// code-generation arguments only. clang records its own working directory in
// debug information (gcc takes it from the preprocessed text), so the step
// names the client's directory when debug information is on.
func (s *gccScan) commands(a *Analysis, cmd Command, lang gccLanguage) {
	if lang.preprocessed {
		a.PreprocessedInput = a.Source
	} else {
		pre := append([]string{cmd.Compiler}, s.keep...)
		if s.md && !s.hasMF {
			pre = append(pre, "-MF", a.Outputs.Deps)
		}
		// Every form names the target after the object but gcc's
		// -Wp,-MD,file, which names it after the source (its base name,
		// the suffix replaced by .o, quoted as -MQ quotes). The step names
		// it explicitly, so that the target is known.
		switch {
		case s.hasTarget:
		case s.md || (s.wpMD && s.fam == FamilyClang):
			pre = append(pre, "-MQ", a.Outputs.Object)
		case s.wpMD:
			pre = append(pre, "-MQ", gccReplaceExt(gccBase(a.Source), ".o", true))
		}
		pre = append(pre, "-E")
		if s.inputs[0].lang != "" {
			pre = append(pre, "-x", s.inputs[0].lang)
		}
		a.PreprocessCommand = append(pre, a.Source)
		a.PreprocessedInput = gccReplaceExt(gccBase(a.Source), lang.ext, true)
	}
	comp := append([]string{cmd.Compiler}, s.codegen...)
	if s.fam == FamilyClang && s.debug && !s.compDir && cmd.Dir != "" {
		comp = append(comp, "-fdebug-compilation-dir="+cmd.Dir)
	}
	a.CompileCommand = append(comp, "-x", lang.compileAs, "-c", a.PreprocessedInput, "-o", a.Outputs.Object)
}
