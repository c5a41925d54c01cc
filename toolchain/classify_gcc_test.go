package toolchain

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gccCase is one whole command line and what Classify must say about it.
type gccCase struct {
	// line is the compiler and its arguments, separated by spaces; "{dir}"
	// stands for the working directory.
	line   string
	action Action
	lang   string
	source string
	out    Outputs
	// reason must occur in Reason (required for local and cache).
	reason string
	// wd is the expected RecordsWorkingDir.
	wd bool
	// pre and comp, when set, are the expected PreprocessCommand and
	// CompileCommand joined by spaces ("-" for none); "{dir}" as in line.
	pre, comp string
	// pp, cg and deps, when set, are the expected argument lists joined by
	// spaces ("-" for none).
	pp, cg, deps string
}

// TestClassifyGCC checks whole gcc, g++, clang and clang++ command lines.
// Each row cites the rule it follows: the gcc manual (section named), ccache
// (compopt.cpp table, argprocessing.cpp), distcc (src/arg.c) or icecream
// (client/arg.cpp), or the real-compiler measurement in
// classify_gcc_real_test.go where the rule is dcc's own.
func TestClassifyGCC(t *testing.T) {
	// Some rows need files: a precompiled header next to its header.
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "pch"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pch", "pre.h"), []byte("#define X 1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pch", "pre.h.gch"), []byte("gch"), 0o644))

	cases := []gccCase{
		// --- Object file names (gcc manual, "Overall Options": -c replaces the
		// source suffix with .o, in the current directory; -o wins).
		{line: "gcc -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pre: "gcc -E a.c", comp: "gcc -x cpp-output -c a.i -o a.o", pp: "-", cg: "-", deps: "-"},
		// -c dir/a.c writes a.o in the working directory, not in dir/.
		{line: "gcc -c dir/a.c", action: ActionRemote, lang: "c", source: "dir/a.c", out: Outputs{Object: "a.o"},
			pre: "gcc -E dir/a.c", comp: "gcc -x cpp-output -c a.i -o a.o"},
		// Only the last suffix is replaced.
		{line: "gcc -c dir/sub/a.b.c", action: ActionRemote, lang: "c", source: "dir/sub/a.b.c", out: Outputs{Object: "a.b.o"}},
		{line: "gcc -c /abs/src/a.c", action: ActionRemote, lang: "c", source: "/abs/src/a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -c a.c -o out/b.o", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "out/b.o"},
			comp: "gcc -x cpp-output -c a.i -o out/b.o"},
		// -o with its argument glued (ccache argprocessing: "-ofile").
		{line: "gcc -c a.c -oout/b.o", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "out/b.o"}},
		{line: "gcc -o b.o -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "b.o"}},
		// gcc's long spellings of -o and -c (gcc manual, "Overall Options").
		{line: "gcc --output=b.o -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "b.o"}},
		{line: "gcc --output b.o --compile a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "b.o"}},
		{line: "gcc -c ../src/a.c -o ../obj/a.o", action: ActionRemote, lang: "c", source: "../src/a.c", out: Outputs{Object: "../obj/a.o"}},
		{line: "gcc -c a.c -o a", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a"}},

		// --- Drivers and languages (gcc manual, "Options Controlling the Kind of
		// Output" suffix table; "Compiling C++ Programs").
		{line: "g++ -c a.cc", action: ActionRemote, lang: "c++", source: "a.cc", out: Outputs{Object: "a.o"},
			pre: "g++ -E a.cc", comp: "g++ -x c++-cpp-output -c a.ii -o a.o"},
		// g++ treats .c files as C++.
		{line: "g++ -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"},
			comp: "g++ -x c++-cpp-output -c a.ii -o a.o"},
		{line: "c++ -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang++ -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "g++-12 -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang -c a.cpp", action: ActionRemote, lang: "c++", source: "a.cpp", out: Outputs{Object: "a.o"}},
		{line: "gcc -c a.cxx", action: ActionRemote, lang: "c++", source: "a.cxx", out: Outputs{Object: "a.o"}},
		{line: "gcc -c a.C", action: ActionRemote, lang: "c++", source: "a.C", out: Outputs{Object: "a.o"}},
		{line: "gcc -c a.c++", action: ActionRemote, lang: "c++", source: "a.c++", out: Outputs{Object: "a.o"}},
		{line: "gcc -c a.cp", action: ActionRemote, lang: "c++", source: "a.cp", out: Outputs{Object: "a.o"}},
		{line: "gcc -c a.CPP", action: ActionRemote, lang: "c++", source: "a.CPP", out: Outputs{Object: "a.o"}},
		// -x names the language of the inputs after it; the preprocessing step
		// repeats it (ccache argprocessing keeps the explicit language).
		{line: "gcc -x c++ -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"},
			pre: "gcc -E -x c++ a.c", comp: "gcc -x c++-cpp-output -c a.ii -o a.o"},
		{line: "gcc -xc++ -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc --language=c++ -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"}},
		// "-x none" turns the extension rule back on.
		{line: "gcc -x c++ -x none -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pre: "gcc -E a.c"},
		{line: "g++ -x c -c a.cc", action: ActionRemote, lang: "c", source: "a.cc", out: Outputs{Object: "a.o"},
			comp: "g++ -x cpp-output -c a.i -o a.o"},
		// A source without a suffix compiles under -x.
		{line: "gcc -x c -c prog", action: ActionRemote, lang: "c", source: "prog", out: Outputs{Object: "prog.o"},
			pre: "gcc -E -x c prog", comp: "gcc -x cpp-output -c prog.i -o prog.o"},
		{line: "gcc -c a.m", action: ActionRemote, lang: "objective-c", source: "a.m", out: Outputs{Object: "a.o"},
			comp: "gcc -x objective-c-cpp-output -c a.mi -o a.o"},
		{line: "clang -c a.mm", action: ActionRemote, lang: "objective-c++", source: "a.mm", out: Outputs{Object: "a.o"},
			comp: "clang -x objective-c++-cpp-output -c a.mii -o a.o"},
		{line: "clang -c a.M", action: ActionRemote, lang: "objective-c++", source: "a.M", out: Outputs{Object: "a.o"}},
		// Assembler with C preprocessing compiles as assembler text.
		{line: "gcc -c a.S", action: ActionRemote, lang: "assembler-with-cpp", source: "a.S", out: Outputs{Object: "a.o"},
			pre: "gcc -E a.S", comp: "gcc -x assembler -c a.s -o a.o"},
		{line: "gcc -c boot.sx -o boot.o", action: ActionRemote, lang: "assembler-with-cpp", source: "boot.sx", out: Outputs{Object: "boot.o"}},
		{line: "gcc -x assembler-with-cpp -c a.asm", action: ActionRemote, lang: "assembler-with-cpp", source: "a.asm", out: Outputs{Object: "a.o"},
			pre: "gcc -E -x assembler-with-cpp a.asm"},
		// Already preprocessed input compiles as it is (ccache and distcc accept
		// .i and .ii; there is no preprocessing step).
		{line: "gcc -c a.i", action: ActionRemote, lang: "cpp-output", source: "a.i", out: Outputs{Object: "a.o"},
			pre: "-", comp: "gcc -x cpp-output -c a.i -o a.o"},
		{line: "g++ -c a.i", action: ActionRemote, lang: "c++-cpp-output", source: "a.i", out: Outputs{Object: "a.o"},
			comp: "g++ -x c++-cpp-output -c a.i -o a.o"},
		{line: "g++ -O2 -c a.ii -o x.o", action: ActionRemote, lang: "c++-cpp-output", source: "a.ii", out: Outputs{Object: "x.o"},
			comp: "g++ -O2 -x c++-cpp-output -c a.ii -o x.o"},
		{line: "clang -c a.mi", action: ActionRemote, lang: "objective-c-cpp-output", source: "a.mi", out: Outputs{Object: "a.o"}},
		{line: "gcc -x cpp-output -c a.txt", action: ActionRemote, lang: "cpp-output", source: "a.txt", out: Outputs{Object: "a.o"},
			comp: "gcc -x cpp-output -c a.txt -o a.o"},

		// --- Languages and sources dcc does not compile.
		// Plain assembler reads .include files (distcc: assembler is local).
		{line: "gcc -c a.s", action: ActionLocal, lang: "assembler", source: "a.s", reason: "assembler source is not preprocessed"},
		{line: "gcc -x assembler -c a.S", action: ActionLocal, lang: "assembler", source: "a.S", reason: "assembler source"},
		// A header as source builds a precompiled header (ccache: pch needs sloppiness).
		{line: "gcc -c a.h", action: ActionLocal, lang: "c-header", source: "a.h", reason: "precompiled header"},
		{line: "g++ -c a.h", action: ActionLocal, lang: "c++-header", source: "a.h", reason: "precompiled header"},
		{line: "g++ -c a.hpp -o a.hpp.gch", action: ActionLocal, lang: "c++-header", source: "a.hpp", reason: "precompiled header"},
		{line: "g++ -x c++-header -c a.cc", action: ActionLocal, lang: "c++-header", source: "a.cc", reason: "precompiled header"},
		// Fortran, CUDA and Go: icecream runs unknown extensions locally.
		{line: "gcc -c a.f90", action: ActionLocal, lang: "", source: "a.f90", reason: "not a source file dcc compiles"},
		{line: "clang -c a.cu", action: ActionLocal, lang: "", source: "a.cu", reason: "not a source file dcc compiles"},
		{line: "gcc -x go -c a.go", action: ActionLocal, lang: "go", source: "a.go", reason: "language go"},
		// "-x after last input file has no effect" and gcc warns.
		{line: "gcc -c a.c -x c++", action: ActionLocal, lang: "c", source: "a.c", reason: "-x after the input file"},

		// --- Not a single compile to an object (distcc arg.c and icecream: no -c
		// means linking; -E, several inputs, "-o -" run locally).
		{line: "gcc a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "no -c"},
		{line: "gcc a.c -o prog", action: ActionLocal, lang: "c", source: "a.c", reason: "no -c"},
		{line: "gcc -o prog a.o b.o -lm", action: ActionLocal, reason: "no -c"},
		{line: "cc -shared -fPIC -o libx.so a.o", action: ActionLocal, lang: "", source: "a.o", reason: "no -c"},
		{line: "gcc -E a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-E"},
		{line: "gcc -E -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-E"},
		{line: "gcc --preprocess a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "--preprocess"},
		// -S writes assembly, not an object: dcc's outputs model objects only.
		{line: "gcc -S a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-S"},
		{line: "gcc -S -c a.c -o a.s", action: ActionLocal, lang: "c", source: "a.c", reason: "-S"},
		{line: "gcc -c a.c b.c", action: ActionLocal, reason: "several input files: a.c b.c"},
		{line: "gcc -c a.c b.o", action: ActionLocal, reason: "several input files"},
		{line: "gcc -x c -c -", action: ActionLocal, lang: "c", source: "-", reason: "standard input"},
		{line: "gcc -c -", action: ActionLocal, source: "-", reason: "standard input"},
		// "-o -": distcc and icecream cannot tell stdout from a file named "-".
		{line: "gcc -c a.c -o -", action: ActionLocal, lang: "c", source: "a.c", reason: "-o -"},
		{line: "gcc -c", action: ActionLocal, reason: "no input file"},
		{line: "gcc -c a.c -o a.o -o b.o", action: ActionLocal, lang: "c", source: "a.c", reason: "several -o"},
		{line: "gcc -fsyntax-only a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-fsyntax-only"},
		// ccache compopt: -save-temps is too hard.
		{line: "gcc -save-temps -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-save-temps"},
		{line: "gcc -save-temps=obj -c a.c -o out/a.o", action: ActionLocal, lang: "c", source: "a.c", reason: "-save-temps"},
		{line: "clang --analyze a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "--analyze"},
		{line: "clang -emit-llvm -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-emit-llvm"},

		// --- Queries (gcc manual "Overall Options" and "Developer Options").
		{line: "gcc --version", action: ActionLocal, reason: "--version"},
		{line: "gcc -v", action: ActionLocal, reason: "-v"},
		{line: "gcc -v -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-v"},
		{line: "gcc -dumpversion", action: ActionLocal, reason: "-dumpversion"},
		{line: "gcc -dumpfullversion", action: ActionLocal, reason: "-dumpfullversion"},
		{line: "gcc -dumpmachine", action: ActionLocal, reason: "-dumpmachine"},
		{line: "gcc -print-prog-name=cc1", action: ActionLocal, reason: "-print-"},
		{line: "gcc -print-search-dirs", action: ActionLocal, reason: "-print-"},
		{line: "clang -print-resource-dir", action: ActionLocal, reason: "-print-"},
		{line: "gcc --help=optimizers", action: ActionLocal, reason: "--help"},
		{line: "gcc -### -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-###"},
		// -dumpbase/-dumpdir rename every auxiliary output (gcc manual).
		{line: "gcc -dumpbase x -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "auxiliary output"},
		{line: "gcc -dumpdir out/ -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "auxiliary output"},

		// --- Unknown options and malformed lines run unchanged.
		{line: "gcc -c a.c -foo", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -foo"},
		{line: "gcc -fbogus-opt -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -fbogus-opt"},
		// Options of the other family are unknown to the real driver too.
		{line: "gcc -Xclang -foo -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -Xclang"},
		{line: "gcc -fcolor-diagnostics -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -fcolor-diagnostics"},
		{line: "gcc -target aarch64-linux-gnu -c a.c", action: ActionLocal, reason: "unknown option -target"},
		{line: "clang -fcallgraph-info -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -fcallgraph-info"},
		{line: "clang -c a.c -Xclang -foo", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -Xclang -foo"},
		{line: "gcc -c a.c -I", action: ActionLocal, lang: "c", source: "a.c", reason: "missing argument to -I"},
		{line: "clang -c a.c -Xclang", action: ActionLocal, lang: "c", source: "a.c", reason: "missing argument to -Xclang"},
		{line: "clang -Xclang -load -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "missing argument to -Xclang -load"},
		{line: "gcc -c a.c --", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option --"},
		// icecream: -B changes where the compiler's programs come from.
		{line: "gcc -B/opt/bin -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-B"},
		{line: "gcc -B /opt/bin -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-B"},
		// distcc: -specs= must be local.
		{line: "gcc -specs=my.specs -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-specs"},
		{line: "gcc -wrapper gdb,--args -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-wrapper"},
		// icecream: several -arch options build locally; one is fine.
		{line: "clang -arch x86_64 -arch arm64 -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "several -arch"},
		{line: "clang -arch arm64 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, cg: "-arch arm64"},

		// --- Dependency files (gcc manual, "Preprocessor Options" -MD/-MF/-MT/-MQ).
		// -MD without -MF names the file after the object and the target after
		// the object; the preprocessing step makes both explicit.
		{line: "gcc -MD -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o", Deps: "a.d"},
			pre: "gcc -MD -MF a.d -MQ a.o -E a.c", comp: "gcc -x cpp-output -c a.i -o a.o", deps: "-MD"},
		{line: "gcc -MMD -c dir/a.c -o out/a.o", action: ActionRemote, lang: "c", source: "dir/a.c", out: Outputs{Object: "out/a.o", Deps: "out/a.d"},
			pre: "gcc -MMD -MF out/a.d -MQ out/a.o -E dir/a.c"},
		{line: "gcc -MD -MF dep/a.dep -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o", Deps: "dep/a.dep"},
			pre: "gcc -MD -MF dep/a.dep -MQ a.o -E a.c", deps: "-MD -MF dep/a.dep"},
		{line: "gcc -MD -MFdep/a.dep -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o", Deps: "dep/a.dep"},
			pre: "gcc -MD -MFdep/a.dep -MQ a.o -E a.c"},
		// An explicit target replaces the default one.
		{line: "gcc -MD -MT tgt -c a.c -o b.o", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "b.o", Deps: "b.d"},
			pre: "gcc -MD -MT tgt -MF b.d -E a.c"},
		{line: "gcc -MMD -MQtgt -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o", Deps: "a.d"},
			pre: "gcc -MMD -MQtgt -MF a.d -E a.c"},
		// CMake's Makefile and Ninja generators.
		{line: "/usr/bin/c++ -DFOO -I/src/include -O3 -DNDEBUG -std=gnu++17 -fPIC -MD -MT CMakeFiles/x.dir/a.cpp.o -MF CMakeFiles/x.dir/a.cpp.o.d -o CMakeFiles/x.dir/a.cpp.o -c /src/a.cpp",
			action: ActionRemote, lang: "c++", source: "/src/a.cpp", out: Outputs{Object: "CMakeFiles/x.dir/a.cpp.o", Deps: "CMakeFiles/x.dir/a.cpp.o.d"},
			pp: "-DFOO -I/src/include -DNDEBUG", cg: "-O3 -std=gnu++17 -fPIC", deps: "-MD -MT CMakeFiles/x.dir/a.cpp.o -MF CMakeFiles/x.dir/a.cpp.o.d",
			pre:  "/usr/bin/c++ -DFOO -I/src/include -O3 -DNDEBUG -std=gnu++17 -fPIC -MD -MT CMakeFiles/x.dir/a.cpp.o -MF CMakeFiles/x.dir/a.cpp.o.d -E /src/a.cpp",
			comp: "/usr/bin/c++ -O3 -std=gnu++17 -fPIC -x c++-cpp-output -c a.ii -o CMakeFiles/x.dir/a.cpp.o"},
		{line: "gcc -MD -MP -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o", Deps: "a.d"}, deps: "-MD -MP"},
		// The .d name replaces the object's suffix, or adds one.
		{line: "gcc -MD -c a.c -o out/a", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "out/a", Deps: "out/a.d"}},
		{line: "gcc -MD -c a.c -o out/a.x.o", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "out/a.x.o", Deps: "out/a.x.d"}},
		{line: "gcc -MD -c a.c -o out.d/a", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "out.d/a", Deps: "out.d/a.d"}},
		{line: "gcc -MD -c a.c -o out/.b", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "out/.b", Deps: "out/.d"}},
		// The kernel's -Wp,-MD,file form: gcc names the target after the source,
		// which the preprocessing step sees too (ccache argprocessing).
		{line: "gcc -Wp,-MD,out/.a.o.d -c a.c -o out/a.o", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "out/a.o", Deps: "out/.a.o.d"},
			pre: "gcc -Wp,-MD,out/.a.o.d -MQ a.o -E a.c", deps: "-Wp,-MD,out/.a.o.d", pp: "-"},
		{line: "gcc -Wp,-MMD,dep.d -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o", Deps: "dep.d"}},
		// clang rewrites -Wp,-MD,file to -MD -MF file: the target is the object.
		{line: "clang -Wp,-MD,dep.d -c a.c -o out/a.o", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "out/a.o", Deps: "dep.d"},
			pre: "clang -Wp,-MD,dep.d -MQ out/a.o -E a.c"},
		{line: "gcc -Wp,-MD,dep.d,-MT,tgt -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o", Deps: "dep.d"},
			pre: "gcc -Wp,-MD,dep.d,-MT,tgt -E a.c"},
		// ccache: -Wp,-MD with -MF is too hard (gcc and clang disagree).
		{line: "gcc -Wp,-MD,a.d -MF b.d -MD -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "gcc and clang write different dependency files"},
		{line: "gcc -Wp,-MD -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "missing argument to -Wp,-MD"},
		// -M and -MM imply -E (distcc, icecream: must be local).
		{line: "gcc -M a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-M"},
		{line: "gcc -MM -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-MM"},
		{line: "gcc -MD -MG -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-MG"},
		{line: "gcc -MD -MF - -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "standard output"},
		{line: "gcc -MD -c a.i", action: ActionLocal, lang: "cpp-output", source: "a.i", reason: "already preprocessed"},
		// ccache compopt: -MJ is too hard.
		{line: "clang -MJ x.json -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-MJ"},
		// -MF without -MD/-MMD writes nothing while compiling.
		{line: "gcc -MF dep.d -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, deps: "-MF dep.d"},

		// --- Split DWARF, coverage notes, stack usage: named after the object
		// (gcc manual "Debugging Options" -gsplit-dwarf, "Instrumentation Options").
		// gcc 12 writes the .dwo even without -g.
		{line: "gcc -gsplit-dwarf -c dir/a.c", action: ActionRemote, lang: "c", source: "dir/a.c", out: Outputs{Object: "a.o", SplitDwarf: "a.dwo"}},
		{line: "gcc -g -gno-column-info -gsplit-dwarf -c a.c -o out/b.o", action: ActionCache, lang: "c", source: "a.c", wd: true, reason: "source lines",
			out: Outputs{Object: "out/b.o", SplitDwarf: "out/b.dwo"}},
		{line: "gcc -gsplit-dwarf -gno-split-dwarf -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -g -gno-column-info -gsplit-dwarf -c a.c -o out/.b", action: ActionCache, lang: "c", source: "a.c", wd: true, reason: "source lines",
			out: Outputs{Object: "out/.b", SplitDwarf: "out/.b.dwo"}},
		// clang writes it only with debug information on.
		{line: "clang -gsplit-dwarf -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang -gdwarf-4 -gno-column-info -gsplit-dwarf -c a.c -o out/b.o", action: ActionCache, lang: "c", source: "a.c", wd: true, reason: "source lines",
			out:  Outputs{Object: "out/b.o", SplitDwarf: "out/b.dwo"},
			comp: "clang -gdwarf-4 -gno-column-info -gsplit-dwarf -fdebug-compilation-dir={dir} -x cpp-output -c a.i -o out/b.o"},
		{line: "clang -gdwarf-4 -gno-column-info -gsplit-dwarf -c a.c -o out/.b", action: ActionCache, lang: "c", source: "a.c", wd: true, reason: "source lines",
			out: Outputs{Object: "out/.b", SplitDwarf: "out/.dwo"}},
		{line: "clang -gdwarf-4 -gno-column-info -gsplit-dwarf=single -c a.c", action: ActionCache, lang: "c", source: "a.c", wd: true, reason: "source lines",
			out: Outputs{Object: "a.o"}},
		// Coverage: distcc and icecream run it locally; ccache caches it keyed
		// on the directory, which dcc does on this machine.
		{line: "gcc --coverage -c a.c -o out/b.o", action: ActionCache, lang: "c", source: "a.c", wd: true,
			out: Outputs{Object: "out/b.o", Coverage: "out/b.gcno"}, reason: "--coverage"},
		{line: "gcc -ftest-coverage -c a.c", action: ActionCache, lang: "c", source: "a.c", wd: true,
			out: Outputs{Object: "a.o", Coverage: "a.gcno"}, reason: "-ftest-coverage"},
		{line: "gcc -fprofile-arcs -c a.c", action: ActionCache, lang: "c", source: "a.c", wd: true,
			out: Outputs{Object: "a.o"}, reason: "-fprofile-arcs"},
		{line: "clang --coverage -c a.c -o out/.b", action: ActionCache, lang: "c", source: "a.c", wd: true,
			out: Outputs{Object: "out/.b", Coverage: "out/.gcno"}, reason: "--coverage"},
		{line: "gcc -fprofile-note=x.gcno --coverage -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-fprofile-note"},
		// gcc's .su names functions with source columns; clang's does not.
		{line: "gcc -fstack-usage -c a.c -o out/b.o", action: ActionCache, lang: "c", source: "a.c",
			out: Outputs{Object: "out/b.o", StackUsage: "out/b.su"}, reason: "-fstack-usage"},
		{line: "clang -fstack-usage -c a.c -o out/b.o", action: ActionRemote, lang: "c", source: "a.c",
			out: Outputs{Object: "out/b.o", StackUsage: "out/b.su"}},
		{line: "gcc -fstack-usage -c a.i", action: ActionRemote, lang: "cpp-output", source: "a.i",
			out: Outputs{Object: "a.o", StackUsage: "a.su"}},
		// ccache: -fdump-* is too hard; -fcallgraph-info writes .ci files.
		{line: "gcc -fcallgraph-info -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-fcallgraph-info"},
		{line: "gcc -fdump-tree-all -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-fdump-"},
		{line: "gcc -fopt-info-vec=vec.txt -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-fopt-info"},
		{line: "clang -ftime-trace -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-ftime-trace"},

		// --- Cache-only: this machine's processor, plugins, profiles, files read
		// while compiling (ccache hashes them; distcc and icecream run them locally).
		{line: "gcc -O2 -march=native -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-march=native"},
		{line: "gcc -mtune=native -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-mtune=native"},
		{line: "clang -mcpu=native -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-mcpu=native"},
		// A plugin is code that can read any file: not cached (ccache hashes
		// the plugin, which cannot see what it reads).
		{line: "gcc -fplugin=./p.so -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "plugin"},
		{line: "gcc -fplugin=./p.so -fplugin-arg-p-key=v -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "plugin"},
		// icecream: -Xclang -load names a plugin file.
		{line: "clang -Xclang -load -Xclang p.so -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-Xclang -load"},
		{line: "clang -Xclang -add-plugin -Xclang check -Xclang -plugin-arg-check -Xclang v -c a.c", action: ActionLocal, lang: "c", source: "a.c",
			reason: "-Xclang -add-plugin"},
		{line: "gcc -fprofile-use -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fprofile-use"},
		{line: "gcc -fprofile-use=prof/ -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fprofile-use"},
		{line: "gcc -fprofile-generate -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "-fprofile-generate"},
		{line: "clang -fprofile-instr-use=x.profdata -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fprofile-instr-use"},
		{line: "clang -fprofile-sample-use=x.prof -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fprofile-sample-use"},
		{line: "gcc -fauto-profile=x.afdo -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fauto-profile"},
		{line: "gcc -fbranch-probabilities -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fbranch-probabilities"},
		{line: "clang -fsanitize-ignorelist=ign.txt -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fsanitize-ignorelist"},
		// Sanitizers record source columns in the object (measured).
		{line: "gcc -fsanitize=address -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fsanitize"},
		{line: "clang -fsanitize=undefined -fno-sanitize-recover=all -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-fsanitize"},
		// -frecord-gcc-switches: gcc records the same filtered options as in
		// DW_AT_producer, so it is remote unless a preprocessor-only option is
		// recorded; clang records the whole command line.
		{line: "gcc -frecord-gcc-switches -DX=1 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -frecord-gcc-switches -finput-charset=latin1 -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-finput-charset"},
		{line: "clang -frecord-gcc-switches -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "records the full command line"},
		{line: "clang -frecord-command-line -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "records the full command line"},
		{line: "gcc -finput-charset=latin1 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pp: "-finput-charset=latin1", cg: "-"},
		{line: "gcc -g -gno-column-info -finput-charset=latin1 -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "-finput-charset"},
		{line: "gcc -g -gno-column-info -gno-record-gcc-switches -finput-charset=latin1 -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source lines"},
		// gcc's LTO bytecode carries source columns (measured with -frandom-seed).
		{line: "gcc -flto -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-flto"},
		{line: "gcc -flto=auto -O2 -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "-flto"},
		{line: "gcc -flto -fno-lto -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang -flto=thin -O2 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},

		// --- Debug information. Column numbers change when comments or macros
		// are removed by preprocessing (measured), so -g stays on this machine
		// unless -gno-column-info; the object records the working directory
		// unless a prefix map covers it (ccache hashes the directory then).
		{line: "gcc -g -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source columns"},
		{line: "gcc -ggdb3 -O2 -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source columns"},
		{line: "gcc -g -g0 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -ggdb0 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -g3 -gno-column-info -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source lines",
			pre: "gcc -g3 -gno-column-info -E a.c", comp: "gcc -g3 -gno-column-info -x cpp-output -c a.i -o a.o"},
		{line: "gcc -g -gno-column-info -gcolumn-info -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source columns"},
		{line: "gcc -g -gno-column-info -fdebug-prefix-map={dir}=. -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "source lines"},
		{line: "gcc -g -gno-column-info -ffile-prefix-map=/elsewhere=. -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source lines"},
		{line: "gcc -gdwarf-4 -gno-column-info -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source lines"},
		// -gdwarf32 only chooses a format for gcc; clang turns debug info on.
		{line: "gcc -gdwarf32 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang -gdwarf32 -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source columns"},
		{line: "gcc -g -gno-column-info -fno-working-directory -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "-fno-working-directory"},
		// The GNU assembler records its own directory (measured).
		{line: "gcc -g -gno-column-info -c a.S", action: ActionCache, lang: "assembler-with-cpp", source: "a.S", out: Outputs{Object: "a.o"}, wd: true, reason: "GNU assembler"},
		// clang 14 writes DWARF 5 by default, with MD5 sums of the sources.
		{line: "clang -g -gno-column-info -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "MD5"},
		{line: "clang -gdwarf-5 -gno-column-info -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "MD5"},
		{line: "clang -gdwarf-4 -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source columns"},
		// clang records its own working directory, so the compile names the client's.
		{line: "clang -gdwarf-4 -gno-column-info -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source lines",
			comp: "clang -gdwarf-4 -gno-column-info -fdebug-compilation-dir={dir} -x cpp-output -c a.i -o a.o"},
		{line: "clang -g -gno-column-info -fdebug-default-version=4 -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source lines"},
		{line: "clang -gline-tables-only -gdwarf-4 -gno-column-info -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "source lines"},
		{line: "clang -gdwarf-4 -gno-column-info -fdebug-compilation-dir=. -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "source lines",
			comp: "clang -gdwarf-4 -gno-column-info -fdebug-compilation-dir=. -x cpp-output -c a.i -o a.o"},
		{line: "clang -gdwarf-4 -gno-column-info -Xclang -fdebug-compilation-dir -Xclang . -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, reason: "source lines"},
		{line: "clang -gdwarf-4 -gno-column-info -c a.S", action: ActionCache, lang: "assembler-with-cpp", source: "a.S", out: Outputs{Object: "a.o"}, wd: true, reason: "source lines"},
		// Preprocessed input has no preprocessing step to change columns.
		{line: "clang -g -c a.i", action: ActionRemote, lang: "cpp-output", source: "a.i", out: Outputs{Object: "a.o"}, wd: true,
			comp: "clang -g -fdebug-compilation-dir={dir} -x cpp-output -c a.i -o a.o"},
		// ccache compopt: -gtoggle is too hard.
		{line: "gcc -gtoggle -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-gtoggle"},
		{line: "clang -gmodules -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "modules"},
		{line: "clang -gdwarf-5 -gembed-source -c a.c", action: ActionCache, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, wd: true, reason: "-gembed-source"},

		// --- Option arguments, separate and glued (ccache compopt TAKES_ARG and
		// TAKES_CONCAT_ARG; gcc manual "Preprocessor Options", "Directory Options").
		{line: "gcc -I inc -Iinc2 -isystem sys -isystemsys2 -iquote q -idirafter after -include pre.h -imacros m.h -D X=1 -DY -U Z -UW -c a.c",
			action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pp: "-I inc -Iinc2 -isystem sys -isystemsys2 -iquote q -idirafter after -include pre.h -imacros m.h -D X=1 -DY -U Z -UW", cg: "-",
			pre:  "gcc -I inc -Iinc2 -isystem sys -isystemsys2 -iquote q -idirafter after -include pre.h -imacros m.h -D X=1 -DY -U Z -UW -E a.c",
			comp: "gcc -x cpp-output -c a.i -o a.o"},
		{line: "gcc -Xpreprocessor -DFOO -Wp,-DBAR,-UBAZ -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pp: "-Xpreprocessor -DFOO -Wp,-DBAR,-UBAZ", cg: "-"},
		{line: "gcc -Xpreprocessor -include -Xpreprocessor pre.h -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pp: "-Xpreprocessor -include -Xpreprocessor pre.h"},
		{line: "gcc --sysroot=/sr -isysroot /sr2 -nostdinc -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pp: "--sysroot=/sr -isysroot /sr2 -nostdinc"},
		{line: "gcc --sysroot /sr -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, pp: "--sysroot /sr"},
		{line: "gcc -iprefix /p/ -iwithprefix inc -iwithprefixbefore inc2 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang -stdlib=libc++ -nostdinc++ -c a.cc", action: ActionRemote, lang: "c++", source: "a.cc", out: Outputs{Object: "a.o"},
			pp: "-stdlib=libc++ -nostdinc++"},
		// -include of a header with a .gch beside it uses the precompiled header
		// (gcc manual "Using Precompiled Headers"; ccache detects it the same way).
		{line: "gcc -include pch/pre.h -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "precompiled header"},
		{line: "gcc -includepch/pre.h -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "precompiled header"},
		{line: "clang -include-pch pre.pch -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-include-pch"},
		{line: "gcc -fpch-preprocess -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "precompiled header"},
		{line: "clang -Xclang -include-pch -Xclang pre.pch -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "precompiled header"},
		{line: "clang -Xclang -emit-pch -x c-header -c a.h", action: ActionLocal, lang: "c-header", source: "a.h", reason: "precompiled header"},
		// Preprocessor-only output options mean nothing in a compile.
		{line: "gcc -C -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "only meaningful with -E"},
		{line: "gcc -P -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "only meaningful with -E"},
		{line: "gcc -Wp,-P -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "-P"},
		{line: "gcc -dM -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "dump"},
		{line: "gcc -Wp,-foo -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -Wp,-foo"},
		{line: "gcc -Wp,-O2 -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "not a preprocessor option"},
		{line: "gcc -fmodules-ts -c a.cc", action: ActionLocal, lang: "c++", source: "a.cc", reason: "modules"},
		{line: "clang -fmodules -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "modules"},
		// Targets and machine options only change code generation (icecream:
		// -target is a remote argument).
		{line: "clang -target aarch64-linux-gnu -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			cg: "-target aarch64-linux-gnu", comp: "clang -target aarch64-linux-gnu -x cpp-output -c a.i -o a.o"},
		{line: "clang --target=arm-linux-gnueabihf -mfloat-abi=hard -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			cg: "--target=arm-linux-gnueabihf -mfloat-abi=hard"},
		{line: "gcc -m32 -mavx2 -msse4.2 -mno-red-zone -mcmodel=kernel -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			cg: "-m32 -mavx2 -msse4.2 -mno-red-zone -mcmodel=kernel"},
		{line: "gcc -march=x86-64-v3 -mtune=generic -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang -mllvm -inline-threshold=100 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			cg: "-mllvm -inline-threshold=100"},
		{line: "gcc -mllvm -inline-threshold=100 -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -mllvm"},
		// Dialect, warnings and optimisation ("C Dialect Options", "Warning
		// Options", "Optimize Options") are code-generation arguments.
		{line: "gcc -std=c99 -O2 -Wall -Wextra -Werror=format-security -Wno-unused -pedantic -c a.c", action: ActionRemote, lang: "c", source: "a.c",
			out: Outputs{Object: "a.o"}, cg: "-std=c99 -O2 -Wall -Wextra -Werror=format-security -Wno-unused -pedantic", pp: "-"},
		{line: "gcc -O -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, cg: "-O"},
		{line: "gcc -Os -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, cg: "-Os"},
		{line: "gcc -Ofast -ffast-math -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang -Oz -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -w -ansi -pedantic-errors -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc --param max-inline-insns-single=100 --param=l1-cache-size=32 -c a.c", action: ActionRemote, lang: "c", source: "a.c",
			out: Outputs{Object: "a.o"}, cg: "--param max-inline-insns-single=100 --param=l1-cache-size=32"},
		{line: "gcc -fPIC -fvisibility=hidden -fno-strict-aliasing -fstack-protector-strong -fno-omit-frame-pointer -ffunction-sections -fdata-sections -c a.c",
			action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -fno-common -fwrapv -fno-delete-null-pointer-checks -fcf-protection=full -fzero-call-used-regs=used -c a.c",
			action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "g++ -fno-exceptions -fno-rtti -fvisibility-inlines-hidden -fno-threadsafe-statics -std=c++20 -fcoroutines -c a.cc",
			action: ActionRemote, lang: "c++", source: "a.cc", out: Outputs{Object: "a.o"}},
		{line: "gcc -fdiagnostics-color=always -fmessage-length=0 -fno-diagnostics-show-caret -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang -fcolor-diagnostics -Qunused-arguments -ferror-limit=0 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -fno-builtin-memcpy -fexec-charset=latin1 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			cg: "-fno-builtin-memcpy -fexec-charset=latin1"},
		// -fopenmp and -pthread define macros and change code generation.
		{line: "gcc -fopenmp -pthread -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, cg: "-fopenmp -pthread",
			pre: "gcc -fopenmp -pthread -E a.c"},
		// Preprocessor options gcc records in DW_AT_producer go to both steps.
		{line: "gcc -undef -trigraphs -fworking-directory -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			cg: "-undef -trigraphs -fworking-directory", pp: "-"},
		// Assembler options (distcc and icecream: -Wa,-a listings and --MD must be local).
		{line: "gcc -Wa,--noexecstack -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, cg: "-Wa,--noexecstack",
			comp: "gcc -Wa,--noexecstack -x cpp-output -c a.i -o a.o"},
		{line: "gcc -Wa,--64,-mrelax-relocations=no,--compress-debug-sections=zlib -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "gcc -Wa,-adhln=a.lst -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "listing"},
		{line: "gcc -Wa,--MD,x.d -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "dependency file"},
		{line: "gcc -Wa,-I,inc -c a.S", action: ActionLocal, lang: "assembler-with-cpp", source: "a.S", reason: "include files"},
		{line: "gcc -Wa,src/extra.s -c a.c", action: ActionLocal, lang: "c", source: "a.c", reason: "unknown option -Wa,src/extra.s"},
		{line: "gcc -Xassembler --noexecstack -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, cg: "-Xassembler --noexecstack"},
		{line: "gcc -Xassembler --defsym -Xassembler X=1 -c a.S", action: ActionRemote, lang: "assembler-with-cpp", source: "a.S", out: Outputs{Object: "a.o"},
			cg: "-Xassembler --defsym -Xassembler X=1", comp: "gcc -Xassembler --defsym -Xassembler X=1 -x assembler -c a.s -o a.o"},
		// Linker options do nothing with -c (ccache compopt: -L, -l, -Wl, -z).
		{line: "gcc -Wl,--as-needed -lm -L/usr/lib -Xlinker -zdefs -static -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			cg: "-", pp: "-", pre: "gcc -E a.c"},
		{line: "gcc -pipe -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, pre: "gcc -E a.c", comp: "gcc -x cpp-output -c a.i -o a.o"},
		// -Xclang options for clang's compiler proper.
		{line: "clang -Xclang -fno-pch-timestamp -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}, cg: "-Xclang -fno-pch-timestamp"},
		{line: "clang -Xclang -include -Xclang pre.h -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pp: "-Xclang -include -Xclang pre.h", cg: "-"},
		{line: "clang -Xclang -mllvm -Xclang -x86-asm-syntax=intel -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},

		// --- Compiler names: versioned and target-prefixed drivers.
		{line: "gcc-12 -O2 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"},
			pre: "gcc-12 -O2 -E a.c", comp: "gcc-12 -O2 -x cpp-output -c a.i -o a.o"},
		{line: "x86_64-linux-gnu-gcc-12 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "/usr/bin/x86_64-linux-gnu-g++ -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang-14 -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "/usr/lib/llvm-14/bin/clang++ -c a.c", action: ActionRemote, lang: "c++", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "clang++-14 -x c -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "arm-linux-gnueabihf-gcc -mthumb -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},
		{line: "cc -c a.c", action: ActionRemote, lang: "c", source: "a.c", out: Outputs{Object: "a.o"}},

		// --- Real projects' command lines.
		// zlib (Makefile, no debug): remote.
		{line: "gcc -O3 -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN -I. -c -o adler32.o adler32.c", action: ActionRemote, lang: "c", source: "adler32.c",
			out: Outputs{Object: "adler32.o"}, pp: "-D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN -I.", cg: "-O3"},
		{line: "gcc -O3 -fPIC -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN -DPIC -c -o objs/adler32.o adler32.c", action: ActionRemote, lang: "c", source: "adler32.c",
			out: Outputs{Object: "objs/adler32.o"}},
		// zlib as Debian builds it: debug information stays on this machine.
		{line: "gcc -g -O2 -ffile-prefix-map=/build/zlib=. -fstack-protector-strong -Wformat -Werror=format-security -Wdate-time -D_FORTIFY_SOURCE=2 -D_REENTRANT -fPIC -c -o adler32.lo adler32.c",
			action: ActionCache, lang: "c", source: "adler32.c", out: Outputs{Object: "adler32.lo"}, wd: true, reason: "source columns"},
		// lua 5.4's makefile.
		{line: "gcc -std=gnu99 -O2 -Wall -Wextra -DLUA_COMPAT_5_3 -DLUA_USE_LINUX -c -o lapi.o lapi.c", action: ActionRemote, lang: "c", source: "lapi.c",
			out: Outputs{Object: "lapi.o"}, pp: "-DLUA_COMPAT_5_3 -DLUA_USE_LINUX", cg: "-std=gnu99 -O2 -Wall -Wextra"},
		// The Linux kernel's kbuild style.
		{line: "gcc -Wp,-MMD,fs/.inode.o.d -nostdinc -I./include -include ./include/linux/kconfig.h -D__KERNEL__ -fno-PIE -mno-red-zone -mcmodel=kernel -fno-pie -O2 -c -o fs/inode.o fs/inode.c",
			action: ActionRemote, lang: "c", source: "fs/inode.c", out: Outputs{Object: "fs/inode.o", Deps: "fs/.inode.o.d"},
			deps: "-Wp,-MMD,fs/.inode.o.d", pp: "-nostdinc -I./include -include ./include/linux/kconfig.h -D__KERNEL__"},
		// autoconf's feature tests link, so they run unchanged.
		{line: "gcc -o conftest -g -O2 conftest.c -lpthread", action: ActionLocal, lang: "c", source: "conftest.c", reason: "no -c"},
	}

	require.GreaterOrEqual(t, len(cases), 120)
	for _, tc := range cases {
		line := strings.ReplaceAll(tc.line, "{dir}", dir)
		t.Run(tc.line, func(t *testing.T) {
			f := strings.Fields(line)
			a := Classify(Command{Compiler: f[0], Args: f[1:], Dir: dir})
			require.Equal(t, tc.action, a.Action, "reason: %s", a.Reason)
			require.Equal(t, tc.lang, a.Language, "language")
			require.Equal(t, tc.source, a.Source, "source")
			require.Equal(t, tc.out, a.Outputs, "outputs")
			require.Equal(t, tc.wd, a.RecordsWorkingDir, "records working dir")
			require.NotEmpty(t, a.Reason)
			if tc.action != ActionRemote {
				require.NotEmpty(t, tc.reason, "local and cache rows name their reason")
			}
			require.Contains(t, a.Reason, tc.reason)
			gccCheckList(t, "preprocess command", tc.pre, a.PreprocessCommand, dir)
			gccCheckList(t, "compile command", tc.comp, a.CompileCommand, dir)
			gccCheckList(t, "preprocessor args", tc.pp, a.PreprocessorArgs, dir)
			gccCheckList(t, "codegen args", tc.cg, a.CodegenArgs, dir)
			gccCheckList(t, "dependency args", tc.deps, a.DependencyArgs, dir)
			if !a.Cacheable() {
				require.Nil(t, a.CompileCommand)
				return
			}
			// Invariants of every cacheable command: the compile reads the
			// preprocessed text and writes the object, and the preprocessing
			// step writes to stdout and compiles nothing.
			n := len(a.CompileCommand)
			require.Equal(t, []string{"-c", a.PreprocessedInput, "-o", a.Outputs.Object}, a.CompileCommand[n-4:])
			require.Equal(t, f[0], a.CompileCommand[0])
			if a.PreprocessCommand != nil {
				require.Equal(t, f[0], a.PreprocessCommand[0])
				require.Equal(t, a.Source, a.PreprocessCommand[len(a.PreprocessCommand)-1])
				require.Contains(t, a.PreprocessCommand, "-E")
				require.NotContains(t, a.PreprocessCommand, "-c")
				require.NotContains(t, a.PreprocessCommand, "-o")
			}
		})
	}
}

// gccCheckList compares an argument list with its expected spelling: "" skips
// the check, "-" means none.
func gccCheckList(t *testing.T, what, want string, got []string, dir string) {
	t.Helper()
	switch want {
	case "":
	case "-":
		require.Empty(t, got, what)
	default:
		require.Equal(t, strings.Fields(strings.ReplaceAll(want, "{dir}", dir)), got, what)
	}
}

// TestClassifyReadFiles checks the files each option makes the compiler read
// besides sources and headers (Analysis.ReadFiles): their content enters the
// cache key, so each must be named exactly as the compiler looks for it.
func TestClassifyReadFiles(t *testing.T) {
	cases := []struct {
		line  string
		files []string
	}{
		{"gcc -O2 -c a.c", nil},
		// gcc: the .gcda named after the object (gcc manual, -fprofile-use).
		{"gcc -O2 -fprofile-use -c p.c -o p.o", []string{"p.gcda"}},
		{"gcc -O2 -fprofile-use -c sub/p.c -o out/p.o", []string{"out/p.gcda"}},
		{"gcc -O2 -fprofile-use -c p.c", []string{"p.gcda"}},
		{"gcc -fbranch-probabilities -c p.c -o q.o", []string{"q.gcda"}},
		// With a directory, a mangled name inside it: the whole directory.
		{"gcc -fprofile-use=prof -c p.c -o p.o", []string{"prof", "p.gcda"}},
		{"gcc -fprofile-use -fprofile-dir=pd -c p.c -o p.o", []string{"pd", "p.gcda"}},
		{"gcc -fprofile-dir=pd -fprofile-generate -c p.c -o p.o", nil},
		{"gcc -fauto-profile -c p.c", []string{"fbdata.afdo"}},
		{"gcc -fauto-profile=x.afdo -c p.c", []string{"x.afdo"}},
		// clang: one indexed profile, default.profdata without a value.
		{"clang -fprofile-use -c p.c", []string{"default.profdata"}},
		{"clang -fprofile-use=x.profdata -c p.c", []string{"x.profdata"}},
		{"clang -fprofile-instr-use -c p.c", []string{"default.profdata"}},
		{"clang -fprofile-instr-use=pd -c p.c", []string{"pd"}},
		{"clang -fprofile-sample-use=s.prof -c p.c", []string{"s.prof"}},
		{"clang -fprofile-list=l.txt -fprofile-remapping-file=r.txt -c p.c", []string{"l.txt", "r.txt"}},
		{"clang -fsanitize=address -fsanitize-ignorelist=i.txt -fsanitize-blacklist=b.txt -c p.c", []string{"i.txt", "b.txt"}},
		{"clang -fsanitize-system-ignorelist=s.txt -fsanitize-coverage-allowlist=a.txt -fsanitize-coverage-ignorelist=c.txt -c p.c",
			[]string{"s.txt", "a.txt", "c.txt"}},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			args := strings.Fields(c.line)
			a := Classify(Command{Compiler: args[0], Args: args[1:], Dir: t.TempDir()})
			require.True(t, a.Cacheable(), "%s: %s", a.Action, a.Reason)
			assert.Equal(t, c.files, a.ReadFiles)
		})
	}
}
