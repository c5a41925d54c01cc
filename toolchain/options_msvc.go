package toolchain

// The option table for MSVC-style drivers (cl.exe and clang-cl), as data.
//
// Every row is an option spelled with a leading '/' (cl and clang-cl accept '-'
// for all of them; classification normalises before lookup) or, for clang's own
// GCC-style options that clang-cl accepts, with its leading '-' or '--' (those
// never accept '/'). The flags say how the option takes its argument and what it
// does to a compile; the role marks the few options whose meaning the classifier
// must act on (the compile switch, the object name, the sources, debug info).
//
// Sources of the decisions: Microsoft's cl option reference, ccache's MSVC
// handling (compopt.cpp, argprocessing.cpp), sccache's msvc.rs, clang-cl's
// /? listing, and measurements with clang-cl 14 (see classify_msvc_real_test.go).

// msvcRole is what the classifier does with an option beyond its flags.
type msvcRole uint8

const (
	// roleNone: the flags say everything.
	roleNone msvcRole = iota
	// roleCompile: /c, compile without linking.
	roleCompile
	// roleOutput: names the object file (/Fo, clang-cl's /o and -o).
	roleOutput
	// roleSourceC and roleSourceCXX: /Tc and /Tp name a source and its language.
	roleSourceC
	roleSourceCXX
	// roleLangC and roleLangCXX: /TC and /TP set the language of every source.
	roleLangC
	roleLangCXX
	// roleDebugInfo: debug info in the object (/Z7, clang-cl's /Zi and -g*). The
	// object then records the full command line, the source and object paths and
	// the working directory (CodeView LF_BUILDINFO), which only the original
	// command reproduces.
	roleDebugInfo
	// roleRecordsDir: the result depends on the working directory (absolute
	// paths in diagnostics or in coverage data).
	roleRecordsDir
	// roleXclang: -Xclang passes its argument to clang's cc1 (see xclangRows).
	roleXclang
	// roleClangDriver: /clang:<arg> passes <arg> to the clang driver (see clangDriverRows).
	roleClangDriver
	// roleEndOfOptions: "--", every later argument is an input file.
	roleEndOfOptions
)

// msvcDrivers says which drivers a row belongs to.
type msvcDrivers uint8

const (
	forCL      msvcDrivers = 1 << iota // Microsoft's cl.exe
	forClangCL                         // clang-cl
	forBoth    = forCL | forClangCL
)

// Shorthands for how an option takes its argument.
const (
	argJoined      = optConcatArg                  // "/Fofoo.obj"
	argSeparate    = optSeparateArg                // "-Xclang x"
	argJoinedOrSep = optConcatArg | optSeparateArg // "/Dx" or "/D x"
)

// msvcRow is one option of the MSVC-style table.
type msvcRow struct {
	opt     option
	role    msvcRole
	drivers msvcDrivers
}

// Reasons shared by several rows.
const (
	whyPreprocessOnly = "preprocesses only"
	whyPCH            = "precompiled headers"
	whyListing        = "writes an assembly listing"
	whyModules        = "C++ modules read or write module interface files"
	whyCLR            = "C++/CLI and C++/CX read assemblies or metadata during compilation"
	whyQuery          = "a query, not a compile"
	whyLinkOutput     = "names a file only a link step writes"
	whyColonClangCL   = "clang-cl before 19 reads the ':' as the start of the file name"
	whySanitizer      = "sanitizer metadata records the source path as written"
	whyExternalCL     = "cl's preprocessed text does not mark external headers, so their warning level needs the original compile"
	whyPlugin         = "loads a compiler plugin from this machine"
	whyNative         = "targets the CPU of this machine"
)

// msvcRows is the option table. Rows without optPreprocessor, optDeps, optOutput,
// optIgnored or optLocal are code-generation options: they reach both the
// preprocessor (many define macros: /MD, /EHsc, /std:, /arch:) and the compile.
var msvcRows = []msvcRow{
	// Compile, object, sources, language.
	{option{"/c", 0, ""}, roleCompile, forBoth},
	{option{"/Fo", argJoined | optPath | optOutput, ""}, roleOutput, forBoth},
	{option{"/Fo:", argJoinedOrSep | optPath | optOutput, ""}, roleOutput, forCL},
	{option{"/Fo:", argJoinedOrSep | optLocal, whyColonClangCL}, roleNone, forClangCL},
	{option{"/o", argJoinedOrSep | optPath | optOutput, ""}, roleOutput, forClangCL},
	{option{"/o", argJoinedOrSep | optLocal, "deprecated output option"}, roleNone, forCL},
	{option{"/Tc", argJoinedOrSep | optPath, ""}, roleSourceC, forBoth},
	{option{"/Tp", argJoinedOrSep | optPath, ""}, roleSourceCXX, forBoth},
	{option{"/TC", 0, ""}, roleLangC, forBoth},
	{option{"/TP", 0, ""}, roleLangCXX, forBoth},
	{option{"--", 0, ""}, roleEndOfOptions, forClangCL},

	// Preprocessor only.
	{option{"/D", argJoinedOrSep | optPreprocessor, ""}, roleNone, forBoth},
	{option{"/U", argJoinedOrSep | optPreprocessor, ""}, roleNone, forBoth},
	{option{"/I", argJoinedOrSep | optPath | optPreprocessor, ""}, roleNone, forBoth},
	{option{"/FI", argJoinedOrSep | optPath | optPreprocessor, ""}, roleNone, forBoth},
	{option{"/X", optPreprocessor, ""}, roleNone, forBoth},
	{option{"/u", optPreprocessor, ""}, roleNone, forBoth},
	{option{"/external:I", argJoinedOrSep | optPath | optPreprocessor, ""}, roleNone, forBoth},
	{option{"/external:env:", argJoined | optPreprocessor, ""}, roleNone, forBoth},
	{option{"/imsvc", argJoinedOrSep | optPath | optPreprocessor, ""}, roleNone, forClangCL},
	{option{"/winsysroot", argJoinedOrSep | optPath | optPreprocessor, ""}, roleNone, forClangCL},
	{option{"/vctoolsdir", argJoinedOrSep | optPath | optPreprocessor, ""}, roleNone, forClangCL},
	{option{"/vctoolsversion", argJoinedOrSep | optPreprocessor, ""}, roleNone, forClangCL},
	{option{"/winsdkdir", argJoinedOrSep | optPath | optPreprocessor, ""}, roleNone, forClangCL},
	{option{"/winsdkversion", argJoinedOrSep | optPreprocessor, ""}, roleNone, forClangCL},
	{option{"/diasdkdir", argJoinedOrSep | optPath | optPreprocessor, ""}, roleNone, forClangCL},
	{option{"-nostdinc", optPreprocessor, ""}, roleNone, forClangCL},
	{option{"-nobuiltininc", optPreprocessor, ""}, roleNone, forClangCL},

	// Dependency listing on stdout: replayed exactly, so compiled here.
	{option{"/showIncludes", optDeps | optCacheOnly, "the header list printed on stdout needs the original compile"}, roleNone, forBoth},
	{option{"/showIncludes:user", optDeps | optCacheOnly, "the header list printed on stdout needs the original compile"}, roleNone, forClangCL},

	// Debug information.
	{option{"/Z7", 0, ""}, roleDebugInfo, forBoth},
	{option{"/Zi", optLocal, "cl writes debug info to a PDB shared through mspdbsrv"}, roleNone, forCL},
	{option{"/Zi", 0, ""}, roleDebugInfo, forClangCL}, // clang-cl: "Like /Z7"
	{option{"/ZI", optLocal, "edit-and-continue debug info goes to a shared PDB"}, roleNone, forCL},
	{option{"/ZI", 0, ""}, roleNone, forClangCL}, // clang-cl ignores it (warns "unused")
	{option{"/Fd", argJoined | optPath | optIgnored, ""}, roleNone, forBoth},
	{option{"/Fd:", argJoinedOrSep | optPath | optIgnored, ""}, roleNone, forCL},
	{option{"/Fd:", argJoinedOrSep | optLocal, whyColonClangCL}, roleNone, forClangCL},
	{option{"/FS", optIgnored, ""}, roleNone, forBoth},
	{option{"-g", argJoined, ""}, roleDebugInfo, forClangCL},
	{option{"-gcodeview", 0, ""}, roleNone, forClangCL},
	{option{"-gcodeview-ghash", 0, ""}, roleNone, forClangCL},
	{option{"-gno-codeview-ghash", 0, ""}, roleNone, forClangCL},

	// Run unchanged: not a single compile to an object.
	{option{"/E", optLocal, whyPreprocessOnly}, roleNone, forBoth},
	{option{"/EP", optLocal, whyPreprocessOnly}, roleNone, forBoth},
	{option{"/P", optLocal, whyPreprocessOnly}, roleNone, forBoth},
	{option{"/C", optLocal, "keeps comments only when preprocessing"}, roleNone, forBoth},
	{option{"/d1PP", optLocal, "keeps macro definitions only when preprocessing"}, roleNone, forClangCL},
	{option{"/Zs", optLocal, "checks syntax only"}, roleNone, forBoth},
	{option{"-fsyntax-only", optLocal, "checks syntax only"}, roleNone, forClangCL},
	{option{"/link", optLocal, "passes options to the linker"}, roleNone, forBoth},
	{option{"/Fe", argJoined | optLocal, whyLinkOutput}, roleNone, forBoth},
	{option{"/Fm", argJoined | optLocal, whyLinkOutput}, roleNone, forBoth},
	{option{"/F", argJoinedOrSep | optLocal, "sets the stack size of a linked image"}, roleNone, forBoth},
	{option{"/LN", optLocal, "builds a .netmodule"}, roleNone, forBoth},
	{option{"/Yc", argJoined | optLocal, whyPCH}, roleNone, forBoth},
	{option{"/Yu", argJoined | optLocal, whyPCH}, roleNone, forBoth},
	{option{"/Fp", argJoined | optLocal, whyPCH}, roleNone, forBoth},
	{option{"/FA", argJoined | optLocal, whyListing}, roleNone, forBoth},
	{option{"/Fa", argJoined | optLocal, whyListing}, roleNone, forBoth},
	{option{"/Fi", argJoined | optLocal, "names the output of /P"}, roleNone, forBoth},
	{option{"/FR", argJoined | optLocal, "writes browse information"}, roleNone, forBoth},
	{option{"/Fr", argJoined | optLocal, "writes browse information"}, roleNone, forBoth},
	{option{"/Fx", optLocal, "writes injected code to a file"}, roleNone, forBoth},
	{option{"/doc", argJoined | optLocal, "writes XML documentation"}, roleNone, forBoth},
	{option{"/Gm", optLocal, "minimal rebuild keeps state in an .idb file"}, roleNone, forBoth},
	{option{"/analyze", optLocal, "code analysis writes its own results"}, roleNone, forBoth},
	{option{"/analyze:", argJoined | optLocal, "code analysis writes its own results"}, roleNone, forBoth},
	{option{"--analyze", optLocal, "runs the static analyzer"}, roleNone, forClangCL},
	{option{"/sourceDependencies", argSeparate | optLocal, "writes a JSON dependency file"}, roleNone, forBoth},
	{option{"/sourceDependencies-", optLocal, "prints a JSON dependency list"}, roleNone, forCL},
	{option{"/sourceDependencies:directives", argSeparate | optLocal, "writes a JSON dependency file"}, roleNone, forCL},
	{option{"/scanDependencies", argSeparate | optLocal, "scans module dependencies without compiling"}, roleNone, forCL},
	{option{"/?", optLocal, whyQuery}, roleNone, forBoth},
	{option{"/help", optLocal, whyQuery}, roleNone, forBoth},
	{option{"/HELP", optLocal, whyQuery}, roleNone, forCL},
	{option{"/Bv", optLocal, whyQuery}, roleNone, forCL},
	{option{"--version", optLocal, whyQuery}, roleNone, forClangCL},
	{option{"--help", optLocal, whyQuery}, roleNone, forClangCL},
	{option{"-###", optLocal, whyQuery}, roleNone, forClangCL},
	{option{"-print-", argJoined | optLocal, whyQuery}, roleNone, forClangCL},
	{option{"-", optLocal, "reads the source from stdin"}, roleNone, forClangCL},
	{option{"/clr", optLocal, whyCLR}, roleNone, forBoth},
	{option{"/clr:", argJoined | optLocal, whyCLR}, roleNone, forBoth},
	{option{"/ZW", argJoined | optLocal, whyCLR}, roleNone, forBoth},
	{option{"/FU", argJoinedOrSep | optLocal, whyCLR}, roleNone, forBoth},
	{option{"/experimental:module", optLocal, whyModules}, roleNone, forCL},
	{option{"/interface", optLocal, whyModules}, roleNone, forCL},
	{option{"/internalPartition", optLocal, whyModules}, roleNone, forCL},
	{option{"/exportHeader", optLocal, whyModules}, roleNone, forCL},
	{option{"/reference", argSeparate | optLocal, whyModules}, roleNone, forCL},
	{option{"/headerUnit", argJoinedOrSep | optLocal, whyModules}, roleNone, forCL},
	{option{"/headerName:", argJoinedOrSep | optLocal, whyModules}, roleNone, forCL},
	{option{"/ifcOutput", argSeparate | optLocal, whyModules}, roleNone, forCL},
	{option{"/ifcSearchDir", argSeparate | optLocal, whyModules}, roleNone, forCL},
	{option{"/translateInclude", optLocal, whyModules}, roleNone, forCL},
	{option{"-fmodule", argJoined | optLocal, whyModules}, roleNone, forClangCL},
	{option{"-fimplicit-module-maps", optLocal, whyModules}, roleNone, forClangCL},
	{option{"/experimental:", argJoined | optLocal, "experimental option dcc does not know"}, roleNone, forCL},
	{option{"/d1reportAllClassLayout", optLocal, "prints class layouts"}, roleNone, forClangCL},
	{option{"-mllvm", argSeparate | optLocal, "passes options to LLVM that dcc does not understand"}, roleNone, forClangCL},
	{option{"-fthinlto-index=", argJoined | optLocal, "a ThinLTO backend compile reads a summary index"}, roleNone, forClangCL},
	{option{"-ftime-trace", argJoined | optLocal, "writes a time trace next to the object"}, roleNone, forClangCL},
	{option{"-ftime-trace-granularity=", argJoined, ""}, roleNone, forClangCL},
	{option{"-Wp,", argJoined | optLocal, "passes options to the preprocessor that dcc does not understand"}, roleNone, forClangCL},
	{option{"-Wa,", argJoined | optLocal, "passes options to the assembler"}, roleNone, forClangCL},
	{option{"-Wl,", argJoined | optLocal, "passes options to the linker"}, roleNone, forClangCL},

	// Cacheable, but compiled here only.
	{option{"/FC", 0, "diagnostics and __FILE__ name full paths of this machine"}, roleRecordsDir, forCL},
	{option{"/FC", optIgnored, ""}, roleNone, forClangCL}, // ignored by clang-cl
	{option{"-fdiagnostics-absolute-paths", 0, "diagnostics name absolute paths of this machine"}, roleRecordsDir, forClangCL},
	{option{"-fcoverage-mapping", 0, "coverage mapping records the compilation directory"}, roleRecordsDir, forClangCL},
	{option{"/AI", argJoinedOrSep | optPath | optCacheOnly, "#using reads assemblies from these directories while compiling"}, roleNone, forBoth},
	{option{"/JMC", optCacheOnly, "Just My Code records source paths"}, roleNone, forBoth},
	{option{"/external:W", argJoined | optCacheOnly, whyExternalCL}, roleNone, forCL},
	{option{"/external:anglebrackets", optCacheOnly, whyExternalCL}, roleNone, forCL},
	{option{"/external:templates", argJoined | optCacheOnly, whyExternalCL}, roleNone, forCL},
	{option{"/external:W", argJoined, ""}, roleNone, forClangCL}, // system-header flags survive in clang's line markers
	{option{"/external:anglebrackets", 0, ""}, roleNone, forClangCL},
	{option{"/fsanitize=address", optCacheOnly, whySanitizer}, roleNone, forClangCL},
	{option{"-fsanitize", argJoined | optCacheOnly, whySanitizer}, roleNone, forClangCL},
	{option{"-flto", argJoined | optCacheOnly, "LTO bitcode records the source path as written"}, roleNone, forClangCL},
	{option{"-fprofile-instr-use", argJoined | optPath | optCacheOnly, "reads a profile while compiling"}, roleNone, forClangCL},
	{option{"-fprofile-use", argJoined | optPath | optCacheOnly, "reads a profile while compiling"}, roleNone, forClangCL},
	{option{"-march=native", optCacheOnly, whyNative}, roleNone, forClangCL},
	{option{"/showFilenames", optCacheOnly, "prints the source name on stdout"}, roleNone, forClangCL},
	{option{"-v", optCacheOnly, "verbose output prints this machine's commands"}, roleNone, forClangCL},

	// Neither the object nor the diagnostics change.
	{option{"/errorReport:", argJoined | optIgnored, ""}, roleNone, forBoth},
	{option{"-fno-integrated-cc1", optIgnored, ""}, roleNone, forClangCL},
	{option{"-fintegrated-cc1", optIgnored, ""}, roleNone, forClangCL},
	{option{"-fno-temp-file", optIgnored, ""}, roleNone, forClangCL},
	{option{"-fno-crash-diagnostics", optIgnored, ""}, roleNone, forClangCL},
	{option{"-fcrash-diagnostics-dir=", argJoined | optIgnored, ""}, roleNone, forClangCL},

	// Code generation, diagnostics and language options (also seen by the preprocessor).
	{option{"/nologo", 0, ""}, roleNone, forBoth},
	{option{"/Brepro", 0, ""}, roleNone, forBoth},
	{option{"/Brepro-", 0, ""}, roleNone, forBoth},
	{option{"/bigobj", 0, ""}, roleNone, forBoth},
	{option{"/O", argJoined, ""}, roleNone, forBoth},
	{option{"/openmp", 0, ""}, roleNone, forBoth},
	{option{"/openmp-", 0, ""}, roleNone, forClangCL},
	{option{"/openmp:", argJoined, ""}, roleNone, forBoth},
	{option{"/EH", argJoined, ""}, roleNone, forBoth},
	{option{"/GX", 0, ""}, roleNone, forBoth},
	{option{"/GX-", 0, ""}, roleNone, forBoth},
	{option{"/GA", 0, ""}, roleNone, forBoth},
	{option{"/Gd", 0, ""}, roleNone, forBoth},
	{option{"/Ge", 0, ""}, roleNone, forBoth},
	{option{"/GF", 0, ""}, roleNone, forBoth},
	{option{"/GF-", 0, ""}, roleNone, forBoth},
	{option{"/Gh", 0, ""}, roleNone, forBoth},
	{option{"/GH", 0, ""}, roleNone, forBoth},
	{option{"/GL", 0, ""}, roleNone, forBoth},
	{option{"/GL-", 0, ""}, roleNone, forBoth},
	{option{"/Gm-", 0, ""}, roleNone, forBoth},
	{option{"/Gr", 0, ""}, roleNone, forBoth},
	{option{"/GR", 0, ""}, roleNone, forBoth},
	{option{"/GR-", 0, ""}, roleNone, forBoth},
	{option{"/Gregcall", 0, ""}, roleNone, forClangCL},
	{option{"/GS", 0, ""}, roleNone, forBoth},
	{option{"/GS-", 0, ""}, roleNone, forBoth},
	{option{"/Gs", argJoined, ""}, roleNone, forBoth},
	{option{"/GT", 0, ""}, roleNone, forBoth},
	{option{"/guard:", argJoined, ""}, roleNone, forBoth},
	{option{"/Gv", 0, ""}, roleNone, forBoth},
	{option{"/Gw", 0, ""}, roleNone, forBoth},
	{option{"/Gw-", 0, ""}, roleNone, forBoth},
	{option{"/Gy", 0, ""}, roleNone, forBoth},
	{option{"/Gy-", 0, ""}, roleNone, forBoth},
	{option{"/GZ", 0, ""}, roleNone, forBoth},
	{option{"/Gz", 0, ""}, roleNone, forBoth},
	{option{"/H", argJoined, ""}, roleNone, forBoth},
	{option{"/homeparams", 0, ""}, roleNone, forBoth},
	{option{"/hotpatch", 0, ""}, roleNone, forBoth},
	{option{"/J", 0, ""}, roleNone, forBoth},
	{option{"/JMC-", 0, ""}, roleNone, forBoth},
	{option{"/jumptablerdata", 0, ""}, roleNone, forCL},
	{option{"/kernel", 0, ""}, roleNone, forBoth},
	{option{"/kernel-", 0, ""}, roleNone, forBoth},
	{option{"/LD", 0, ""}, roleNone, forBoth},
	{option{"/LDd", 0, ""}, roleNone, forBoth},
	{option{"/MD", 0, ""}, roleNone, forBoth},
	{option{"/MDd", 0, ""}, roleNone, forBoth},
	{option{"/MT", 0, ""}, roleNone, forBoth},
	{option{"/MTd", 0, ""}, roleNone, forBoth},
	{option{"/MP", argJoined, ""}, roleNone, forBoth},
	{option{"/options:strict", 0, ""}, roleNone, forCL},
	{option{"/permissive", 0, ""}, roleNone, forClangCL},
	{option{"/permissive-", 0, ""}, roleNone, forBoth},
	{option{"/QIfist", 0, ""}, roleNone, forBoth},
	{option{"/QIntel-jcc-erratum", 0, ""}, roleNone, forBoth},
	{option{"/Qfast_transcendentals", 0, ""}, roleNone, forBoth},
	{option{"/Qimprecise_fwaits", 0, ""}, roleNone, forBoth},
	{option{"/Qpar", 0, ""}, roleNone, forBoth},
	{option{"/Qpar-report:", argJoined, ""}, roleNone, forBoth},
	{option{"/Qsafe_fp_loads", 0, ""}, roleNone, forBoth},
	{option{"/Qspectre", 0, ""}, roleNone, forBoth},
	{option{"/Qspectre-load", 0, ""}, roleNone, forBoth},
	{option{"/Qspectre-load-cf", 0, ""}, roleNone, forBoth},
	{option{"/Qvec", 0, ""}, roleNone, forClangCL},
	{option{"/Qvec-", 0, ""}, roleNone, forClangCL},
	{option{"/Qvec-report:", argJoined, ""}, roleNone, forBoth},
	{option{"/RTC", argJoined, ""}, roleNone, forBoth},
	{option{"/sdl", 0, ""}, roleNone, forBoth},
	{option{"/sdl-", 0, ""}, roleNone, forBoth},
	{option{"/std:", argJoined, ""}, roleNone, forBoth},
	{option{"/tune:", argJoined, ""}, roleNone, forClangCL},
	{option{"/arch:", argJoined, ""}, roleNone, forBoth},
	{option{"/favor:", argJoined, ""}, roleNone, forBoth},
	{option{"/fp:", argJoined, ""}, roleNone, forBoth},
	{option{"/fpcvt:", argJoined, ""}, roleNone, forCL},
	{option{"/cgthreads", argJoined, ""}, roleNone, forBoth},
	{option{"/constexpr:", argJoined, ""}, roleNone, forBoth},
	{option{"/diagnostics:", argJoined, ""}, roleNone, forBoth},
	{option{"/await", 0, ""}, roleNone, forBoth},
	{option{"/await:", argJoined, ""}, roleNone, forBoth},
	{option{"/experimental:deterministic", 0, ""}, roleNone, forCL},
	{option{"/experimental:external", 0, ""}, roleNone, forBoth},
	{option{"/experimental:preprocessor", 0, ""}, roleNone, forCL},
	{option{"/experimental:module-", 0, ""}, roleNone, forCL},
	{option{"/utf-8", 0, ""}, roleNone, forBoth},
	{option{"/source-charset:", argJoined, ""}, roleNone, forBoth},
	{option{"/execution-charset:", argJoined, ""}, roleNone, forBoth},
	{option{"/validate-charset", 0, ""}, roleNone, forBoth},
	{option{"/validate-charset-", 0, ""}, roleNone, forBoth},
	{option{"/vd", argJoined, ""}, roleNone, forBoth},
	{option{"/vmb", 0, ""}, roleNone, forBoth},
	{option{"/vmg", 0, ""}, roleNone, forBoth},
	{option{"/vmm", 0, ""}, roleNone, forBoth},
	{option{"/vms", 0, ""}, roleNone, forBoth},
	{option{"/vmv", 0, ""}, roleNone, forBoth},
	{option{"/volatile:", argJoined, ""}, roleNone, forBoth},
	{option{"/w", 0, ""}, roleNone, forBoth},
	{option{"/W0", 0, ""}, roleNone, forBoth},
	{option{"/W1", 0, ""}, roleNone, forBoth},
	{option{"/W2", 0, ""}, roleNone, forBoth},
	{option{"/W3", 0, ""}, roleNone, forBoth},
	{option{"/W4", 0, ""}, roleNone, forBoth},
	{option{"/Wall", 0, ""}, roleNone, forBoth},
	{option{"/WL", 0, ""}, roleNone, forBoth},
	{option{"/Wp64", 0, ""}, roleNone, forBoth},
	{option{"/WX", 0, ""}, roleNone, forBoth},
	{option{"/WX-", 0, ""}, roleNone, forBoth},
	{option{"/Wv:", argJoined, ""}, roleNone, forCL},
	{option{"/wd", argJoined, ""}, roleNone, forBoth},
	{option{"/we", argJoined, ""}, roleNone, forBoth},
	{option{"/wo", argJoined, ""}, roleNone, forBoth},
	{option{"/w1", argJoined, ""}, roleNone, forBoth},
	{option{"/w2", argJoined, ""}, roleNone, forBoth},
	{option{"/w3", argJoined, ""}, roleNone, forBoth},
	{option{"/w4", argJoined, ""}, roleNone, forBoth},
	{option{"/Y-", 0, ""}, roleNone, forBoth},
	{option{"/Yd", 0, ""}, roleNone, forBoth},
	{option{"/Yl", argJoined, ""}, roleNone, forBoth},
	{option{"/Za", 0, ""}, roleNone, forBoth},
	{option{"/Ze", 0, ""}, roleNone, forBoth},
	{option{"/Zc:", argJoined, ""}, roleNone, forBoth},
	{option{"/Zf", 0, ""}, roleNone, forCL},
	{option{"/ZH:", argJoined, ""}, roleNone, forBoth},
	{option{"/Zl", 0, ""}, roleNone, forBoth},
	{option{"/Zm", argJoined, ""}, roleNone, forBoth},
	{option{"/Zo", 0, ""}, roleNone, forBoth},
	{option{"/Zo-", 0, ""}, roleNone, forBoth},
	{option{"/Zp", argJoined, ""}, roleNone, forBoth},
	{option{"/showFilenames-", 0, ""}, roleNone, forClangCL},
	{option{"/analyze-", 0, ""}, roleNone, forBoth},
	{option{"/clang:", argJoined, ""}, roleClangDriver, forClangCL},

	// clang's own options that clang-cl accepts (spelled with '-' only).
	{option{"-Xclang", argSeparate, ""}, roleXclang, forClangCL},
	{option{"--target=", argJoined, ""}, roleNone, forClangCL},
	{option{"--driver-mode=", argJoined, ""}, roleNone, forClangCL},
	{option{"-target", argSeparate, ""}, roleNone, forClangCL},
	{option{"-m32", 0, ""}, roleNone, forClangCL},
	{option{"-m64", 0, ""}, roleNone, forClangCL},
	{option{"-march=", argJoined, ""}, roleNone, forClangCL},
	{option{"-msse2", 0, ""}, roleNone, forClangCL},
	{option{"-msse3", 0, ""}, roleNone, forClangCL},
	{option{"-mssse3", 0, ""}, roleNone, forClangCL},
	{option{"-msse4.1", 0, ""}, roleNone, forClangCL},
	{option{"-msse4.2", 0, ""}, roleNone, forClangCL},
	{option{"-mavx", 0, ""}, roleNone, forClangCL},
	{option{"-mavx2", 0, ""}, roleNone, forClangCL},
	{option{"-mavx512f", 0, ""}, roleNone, forClangCL},
	{option{"-mfma", 0, ""}, roleNone, forClangCL},
	{option{"-mf16c", 0, ""}, roleNone, forClangCL},
	{option{"-mbmi", 0, ""}, roleNone, forClangCL},
	{option{"-mbmi2", 0, ""}, roleNone, forClangCL},
	{option{"-mlzcnt", 0, ""}, roleNone, forClangCL},
	{option{"-mpopcnt", 0, ""}, roleNone, forClangCL},
	{option{"-maes", 0, ""}, roleNone, forClangCL},
	{option{"-mpclmul", 0, ""}, roleNone, forClangCL},
	{option{"-mcx16", 0, ""}, roleNone, forClangCL},
	{option{"-W", argJoined, ""}, roleNone, forClangCL},
	{option{"-R", argJoined, ""}, roleNone, forClangCL},
	{option{"-Qunused-arguments", 0, ""}, roleNone, forClangCL},
	{option{"--start-no-unused-arguments", 0, ""}, roleNone, forClangCL},
	{option{"--end-no-unused-arguments", 0, ""}, roleNone, forClangCL},
	{option{"-fcolor-diagnostics", 0, ""}, roleNone, forClangCL},
	{option{"-fno-color-diagnostics", 0, ""}, roleNone, forClangCL},
	{option{"-fansi-escape-codes", 0, ""}, roleNone, forClangCL},
	{option{"-fdiagnostics-parseable-fixits", 0, ""}, roleNone, forClangCL},
	{option{"-fms-compatibility-version=", argJoined, ""}, roleNone, forClangCL},
	{option{"-fmsc-version=", argJoined, ""}, roleNone, forClangCL},
	{option{"-fms-compatibility", 0, ""}, roleNone, forClangCL},
	{option{"-fno-ms-compatibility", 0, ""}, roleNone, forClangCL},
	{option{"-fms-extensions", 0, ""}, roleNone, forClangCL},
	{option{"-fno-ms-extensions", 0, ""}, roleNone, forClangCL},
	{option{"-fms-hotpatch", 0, ""}, roleNone, forClangCL},
	{option{"-fdelayed-template-parsing", 0, ""}, roleNone, forClangCL},
	{option{"-fno-delayed-template-parsing", 0, ""}, roleNone, forClangCL},
	{option{"-fno-sanitize", argJoined, ""}, roleNone, forClangCL},
	{option{"-fprofile-instr-generate", argJoined, ""}, roleNone, forClangCL},
	{option{"-fprofile-generate", argJoined, ""}, roleNone, forClangCL},
	{option{"-fcs-profile-generate", argJoined, ""}, roleNone, forClangCL},
	{option{"-fno-profile-instr-generate", 0, ""}, roleNone, forClangCL},
	{option{"-fno-profile-instr-use", 0, ""}, roleNone, forClangCL},
	{option{"-fno-profile-generate", 0, ""}, roleNone, forClangCL},
	{option{"-fno-coverage-mapping", 0, ""}, roleNone, forClangCL},
	{option{"-fcoverage-compilation-dir=", argJoined, ""}, roleNone, forClangCL},
	{option{"-fdebug-compilation-dir=", argJoined, ""}, roleNone, forClangCL},
	{option{"-ffile-compilation-dir=", argJoined, ""}, roleNone, forClangCL},
	{option{"-fno-lto", 0, ""}, roleNone, forClangCL},
	{option{"-fsplit-lto-unit", 0, ""}, roleNone, forClangCL},
	{option{"-fwhole-program-vtables", 0, ""}, roleNone, forClangCL},
	{option{"-fvirtual-function-elimination", 0, ""}, roleNone, forClangCL},
	{option{"-fno-builtin", argJoined, ""}, roleNone, forClangCL},
	{option{"-fstrict-aliasing", 0, ""}, roleNone, forClangCL},
	{option{"-fno-strict-aliasing", 0, ""}, roleNone, forClangCL},
	{option{"-fdelete-null-pointer-checks", 0, ""}, roleNone, forClangCL},
	{option{"-fno-delete-null-pointer-checks", 0, ""}, roleNone, forClangCL},
	{option{"-fmerge-all-constants", 0, ""}, roleNone, forClangCL},
	{option{"-fno-merge-all-constants", 0, ""}, roleNone, forClangCL},
	{option{"-faddrsig", 0, ""}, roleNone, forClangCL},
	{option{"-fno-addrsig", 0, ""}, roleNone, forClangCL},
	{option{"-fcf-protection", argJoined, ""}, roleNone, forClangCL},
	{option{"-fcomplete-member-pointers", 0, ""}, roleNone, forClangCL},
	{option{"-fno-complete-member-pointers", 0, ""}, roleNone, forClangCL},
	{option{"-fforce-emit-vtables", 0, ""}, roleNone, forClangCL},
	{option{"-fno-force-emit-vtables", 0, ""}, roleNone, forClangCL},
	{option{"-ftrivial-auto-var-init=", argJoined, ""}, roleNone, forClangCL},
	{option{"-ftrivial-auto-var-init-stop-after=", argJoined, ""}, roleNone, forClangCL},
	{option{"-fstandalone-debug", 0, ""}, roleNone, forClangCL},
	{option{"-fno-standalone-debug", 0, ""}, roleNone, forClangCL},
	{option{"-fblocks", 0, ""}, roleNone, forClangCL},
	{option{"-fcommon", 0, ""}, roleNone, forClangCL},
	{option{"-fgnuc-version=", argJoined, ""}, roleNone, forClangCL},
	{option{"-object-file-name=", argJoined, ""}, roleNone, forClangCL},
}

// xclangRows are the cc1 options dcc understands behind -Xclang. A row with
// optSeparateArg takes its value from the next "-Xclang <value>" pair.
var xclangRows = []option{
	{"-fno-pch-timestamp", 0, ""},
	{"-fcolor-diagnostics", 0, ""},
	{"-fno-color-diagnostics", 0, ""},
	{"-load", argSeparate | optPath | optCacheOnly, whyPlugin},
	{"-add-plugin", argSeparate | optCacheOnly, whyPlugin},
	{"-plugin-arg-", argJoined | optCacheOnly, whyPlugin},
	{"-include-pch", argSeparate | optLocal, whyPCH},
	{"-emit-pch", optLocal, whyPCH},
}

// clangDriverRows are the clang driver options dcc understands behind /clang:.
var clangDriverRows = []option{
	{"-march=native", optCacheOnly, whyNative},
	{"-mtune=native", optCacheOnly, whyNative},
	{"-mcpu=native", optCacheOnly, whyNative},
	{"-march=", argJoined, ""},
	{"-mtune=", argJoined, ""},
	{"-O", argJoined, ""},
	{"-std=", argJoined, ""},
	{"-ffunction-sections", 0, ""},
	{"-fno-function-sections", 0, ""},
	{"-fdata-sections", 0, ""},
	{"-fno-data-sections", 0, ""},
	{"-fomit-frame-pointer", 0, ""},
	{"-fno-omit-frame-pointer", 0, ""},
	{"-fstrict-aliasing", 0, ""},
	{"-fno-strict-aliasing", 0, ""},
	{"-fprofile-use=", argJoined | optPath | optCacheOnly, "reads a profile while compiling"},
	{"-fprofile-instr-use=", argJoined | optPath | optCacheOnly, "reads a profile while compiling"},
	{"-fsanitize", argJoined | optCacheOnly, whySanitizer},
}

// msvcSourceLanguages maps a source extension to its language, per driver. cl
// compares extensions case-insensitively (Windows file names); clang-cl uses
// clang's case-sensitive types table, where ".C" is C++. Any other extension is a
// linker input for both drivers, unless /TC or /TP says otherwise.
var (
	clSourceLanguages = map[string]string{
		"c": "c", "cpp": "c++", "cxx": "c++", "cc": "c++",
	}
	clangCLSourceLanguages = map[string]string{
		"c": "c", "C": "c++", "cc": "c++", "CC": "c++", "cp": "c++", "cpp": "c++",
		"CPP": "c++", "cxx": "c++", "CXX": "c++", "c++": "c++", "C++": "c++",
	}
	// msvcObjectExtensions stay linker inputs even under /TC and /TP.
	msvcObjectExtensions = map[string]bool{"obj": true, "o": true, "lib": true, "res": true}
)
