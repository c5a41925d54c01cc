// Package toolchain understands compiler command lines: which compiler family a
// driver belongs to, what makes two compilers interchangeable, and what dcc may do
// with one invocation (cache it, compile it on another host, or run it unchanged).
//
// It depends on nothing else in this repository.
package toolchain

// Family names a compiler family: drivers that share one command-line syntax.
type Family string

// The families dcc understands.
const (
	// FamilyUnknown is a compiler dcc does not recognise; its commands run unchanged.
	FamilyUnknown Family = ""
	// FamilyGCC is GNU gcc/g++ and drivers named cc/c++ that turn out to be gcc.
	FamilyGCC Family = "gcc"
	// FamilyClang is clang/clang++ in their GCC-compatible driver mode.
	FamilyClang Family = "clang"
	// FamilyMSVC is cl.exe and clang-cl (clang in its MSVC driver mode).
	FamilyMSVC Family = "msvc"
)

// Action is what dcc may do with one command line.
type Action string

// The three possible actions.
const (
	// ActionRemote: cacheable, and safe to compile on another host from
	// locally preprocessed text.
	ActionRemote Action = "remote"
	// ActionCache: cacheable, but must be compiled on this machine (for example
	// -march=native, coverage or profile files, compiler plugins).
	ActionCache Action = "cache"
	// ActionLocal: run the real compiler unchanged (linking, -E, several
	// sources, queries, anything not understood).
	ActionLocal Action = "local"
)

// Outputs names every file one compile writes, as the compiler itself names them:
// relative paths are relative to the working directory of the command.
type Outputs struct {
	// Object is the object file (.o, or .obj for cl).
	Object string `json:"object,omitempty"`
	// Deps is the make-style dependency file written by -MD/-MMD (or -Wp,-MD,file).
	Deps string `json:"deps,omitempty"`
	// SplitDwarf is the .dwo file written with -gsplit-dwarf.
	SplitDwarf string `json:"dwo,omitempty"`
	// Coverage is the .gcno file written with --coverage or -ftest-coverage.
	Coverage string `json:"gcno,omitempty"`
	// StackUsage is the .su file written with -fstack-usage.
	StackUsage string `json:"su,omitempty"`
}

// Command is one compiler invocation as the build system wrote it.
type Command struct {
	// Compiler is the compiler as named on the command line or by argv[0]:
	// "gcc", "/usr/bin/clang-14", "x86_64-linux-gnu-g++-12", "cl.exe".
	Compiler string
	// Args are the arguments after the compiler, before response-file expansion.
	Args []string
	// Dir is the working directory; response files resolve against it.
	Dir string
	// Family overrides the family derived from Compiler's name when set, for
	// example after the compiler's version output showed that "cc" is clang.
	Family Family
	// Driver overrides the driver derived from Compiler's name when set, for
	// example "clang-cl" for a cl.exe that the version output shows is clang-cl
	// (see Identity.Driver).
	Driver string
}

// Analysis is what Classify found out about one Command.
type Analysis struct {
	// Action is what dcc may do with the command.
	Action Action `json:"action"`
	// Reason explains Action in one line.
	Reason string `json:"reason"`
	// Family is the compiler family whose syntax was used.
	Family Family `json:"family"`
	// Language is the source language in gcc's -x spelling: "c", "c++",
	// "objective-c", "objective-c++", "assembler-with-cpp", "cuda", ...
	Language string `json:"language,omitempty"`
	// Source is the single source file, as written on the command line.
	Source string `json:"source,omitempty"`
	// Outputs are the files the compile writes.
	Outputs Outputs `json:"outputs"`
	// Args are the arguments after response-file expansion.
	Args []string `json:"args"`

	// The fields below are set for cacheable commands (ActionRemote, ActionCache).

	// PreprocessorArgs only affect preprocessing: -D, -U, -I, -include, -isystem, ...
	PreprocessorArgs []string `json:"preprocessor_args,omitempty"`
	// CodegenArgs change how preprocessed text is compiled: -O2, -g, -f*, -m*, -std=, -W*, ...
	CodegenArgs []string `json:"codegen_args,omitempty"`
	// DependencyArgs are the dependency-file options as given (-MD, -MF x, -MT y, -Wp,-MD,f, ...).
	DependencyArgs []string `json:"dependency_args,omitempty"`
	// PreprocessCommand is the full argv (the compiler first) that writes the
	// preprocessed text to stdout and, when the command asked for one, the
	// dependency file under the name and target the original command would use.
	PreprocessCommand []string `json:"preprocess_command,omitempty"`
	// PreprocessedInput is the file name CompileCommand reads the preprocessed text from.
	PreprocessedInput string `json:"preprocessed_input,omitempty"`
	// CompileCommand is the full argv that compiles PreprocessedInput into
	// Outputs.Object (and the other outputs), with no preprocessor or
	// dependency arguments: what another host runs.
	CompileCommand []string `json:"compile_command,omitempty"`
	// RecordsWorkingDir is true when the object records the working directory
	// (debug info without a prefix map covering it), so the directory must be
	// part of a cache key.
	RecordsWorkingDir bool `json:"records_working_dir,omitempty"`
	// RemoteFromSources is true when gcc or clang compiling the original source
	// and the headers on another host, laid out at the same paths, gives
	// the same bytes: remote compiles, and compiles that stay here only
	// because preprocessing moves the source lines and columns that debug
	// information records.
	RemoteFromSources bool `json:"remote_from_sources,omitempty"`
	// ReadFiles are the files and directories, other than the source and
	// the headers the preprocessor reports, that the compile reads as
	// options name them: profile data (-fprofile-use, with or without a
	// path; the .gcda named after the object), sample profiles, profile and
	// sanitizer lists. Their content, or their absence, is part of every
	// cache key of the compile.
	ReadFiles []string `json:"read_files,omitempty"`
}

// Cacheable reports whether the command's result may be taken from a cache.
func (a *Analysis) Cacheable() bool {
	return a.Action == ActionRemote || a.Action == ActionCache
}
