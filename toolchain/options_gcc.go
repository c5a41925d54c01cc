package toolchain

// The option table of the gcc and clang drivers, as data. Every option dcc
// accepts on a gcc-style command line is a row here; an option that matches no
// row makes the command run unchanged ("unknown option"). The rows follow
// gcc's manual ("Option Summary") and clang's command-line reference; the
// flags follow ccache's compopt table (takes an argument, only affects the
// preprocessor, too hard) with two additions of dcc's own: rows that only
// stop the command from leaving this machine (optCacheOnly), and a role that
// names the few options whose meaning the classifier must act on.

// gccRole names what the classifier does with an option beyond sorting it into
// preprocessor, code-generation or dependency arguments.
type gccRole uint8

const (
	// gccRoleNone: the flags say everything.
	gccRoleNone gccRole = iota
	// gccRoleCompile: -c, compile without linking.
	gccRoleCompile
	// gccRoleOutput: -o file.
	gccRoleOutput
	// gccRoleLanguage: -x lang, the language of the inputs that follow.
	gccRoleLanguage
	// gccRoleMD: -MD or -MMD, write a dependency file while compiling.
	gccRoleMD
	// gccRoleMF: -MF file, the dependency file's name.
	gccRoleMF
	// gccRoleMT: -MT or -MQ, a dependency target.
	gccRoleMT
	// gccRoleCPPDeps: -MD file / -MMD file in the preprocessor's own syntax,
	// as passed by -Wp,-MD,file.
	gccRoleCPPDeps
	// gccRoleWp: -Wp,a,b: options for the preprocessor.
	gccRoleWp
	// gccRoleWa: -Wa,a,b: options for the assembler.
	gccRoleWa
	// gccRoleXassembler: -Xassembler a: one option for the assembler.
	gccRoleXassembler
	// gccRoleXpreprocessor: -Xpreprocessor a: one option for the preprocessor.
	gccRoleXpreprocessor
	// gccRoleXclang: -Xclang a: one option for clang's compiler proper (cc1).
	gccRoleXclang
	// gccRoleDebugLevel: -g, -gN, -ggdbN, ...: turns debug information on, or
	// off when the option ends in 0.
	gccRoleDebugLevel
	// gccRoleDwarf: -gdwarf or -gdwarf-N: DWARF debug information, version N.
	gccRoleDwarf
	// gccRoleDwarfFormat: -gdwarf32/-gdwarf64: a modifier for gcc, but turns
	// debug information on for clang.
	gccRoleDwarfFormat
	// gccRoleDwarfDefault: clang's -fdebug-default-version=N.
	gccRoleDwarfDefault
	// gccRoleColumns, gccRoleNoColumns: -gcolumn-info and -gno-column-info.
	gccRoleColumns
	gccRoleNoColumns
	// gccRoleRecordSwitches, gccRoleNoRecordSwitches: -g[no-]record-gcc-switches.
	gccRoleRecordSwitches
	gccRoleNoRecordSwitches
	// gccRoleRecordSection: -frecord-gcc-switches, which writes the recorded
	// options into a .GCC.command.line section.
	gccRoleRecordSection
	// gccRoleLTO, gccRoleNoLTO: -flto[=...] and -fno-lto.
	gccRoleLTO
	gccRoleNoLTO
	// gccRoleSplitDwarf, gccRoleNoSplitDwarf: -gsplit-dwarf[=mode], -gno-split-dwarf.
	gccRoleSplitDwarf
	gccRoleNoSplitDwarf
	// gccRoleCoverage: --coverage, both -fprofile-arcs and -ftest-coverage.
	gccRoleCoverage
	// gccRoleTestCoverage: -ftest-coverage, writes the .gcno notes file.
	gccRoleTestCoverage
	// gccRoleProfileArcs: -fprofile-arcs and the profile generators, which put
	// the absolute path of the run-time data file into the object.
	gccRoleProfileArcs
	// gccRoleStackUsage: -fstack-usage, writes the .su file.
	gccRoleStackUsage
	// gccRolePrefixMap: -fdebug-prefix-map=old=new, -ffile-prefix-map=old=new.
	gccRolePrefixMap
	// gccRoleCompDir: -fdebug-compilation-dir / -ffile-compilation-dir.
	gccRoleCompDir
	// gccRoleArch: -arch name (Apple clang); several mean several objects.
	gccRoleArch
	// gccRoleInclude: -include file, which may name a precompiled header.
	gccRoleInclude
	// gccRoleRecordedCPP: a preprocessor-only option that gcc nevertheless
	// records in DW_AT_producer, so a compile of preprocessed text without it
	// writes a different object when debug information is on.
	gccRoleRecordedCPP
	// gccRoleNoWorkingDir: -fno-working-directory: gcc's preprocessed text no
	// longer carries the working directory, so the compile records its own.
	gccRoleNoWorkingDir
	// gccRoleTakesNext: the option consumes the next argument even when the
	// row matched as a prefix (clang's -plugin-arg-NAME ARG).
	gccRoleTakesNext
	// gccRoleReadsFile: the option's value (or, without one, a default name)
	// is a file or directory the compiler reads (classify_gcc_reads.go).
	gccRoleReadsFile
	// gccRoleProfileUse: gcc's -fprofile-use[=dir] and -fbranch-probabilities,
	// which read the object's .gcda profile; clang's -fprofile-use[=path].
	gccRoleProfileUse
	// gccRoleProfileDir: -fprofile-dir=dir, where profile feedback is read.
	gccRoleProfileDir
)

// gccRow is one row of a gcc-style option table.
type gccRow struct {
	// name, flags and reason become the optionTable row.
	name   string
	flags  optFlag
	role   gccRole
	reason string
	// only restricts the row to one family (FamilyGCC or FamilyClang); for the
	// other family the option is unknown, as the real driver would say.
	only Family
}

// Short names for the flag combinations the tables use.
const (
	gSep   = optSeparateArg
	gCat   = optConcatArg
	gBoth  = optSeparateArg | optConcatArg
	gPath  = optPath
	gCPP   = optPreprocessor
	gDeps  = optDeps
	gOut   = optOutput
	gLocal = optLocal
	gHere  = optCacheOnly
	gDrop  = optIgnored
)

// Reasons shared by several rows.
const (
	reasonQuery     = "a query, not a compile"
	reasonNotObject = "does not compile to an object file"
	reasonDumps     = "writes extra dump or report files"
	reasonPCH       = "uses or builds a precompiled header"
	reasonModules   = "uses compiler modules, which read and write a module cache"
	reasonNative    = "tunes code for this machine's processor"
	reasonPlugin    = "loads a compiler plugin, which can read any file: run unchanged"
	reasonProfile   = "reads or writes profile data on this machine"
	reasonCoverage  = "coverage notes and data paths depend on this machine's directories"
	reasonReadsFile = "reads a file during compilation that preprocessing does not capture"
	reasonRecords   = "records the full command line in the object, which differs for a compile of preprocessed text"
	reasonColumns   = "embeds source columns, which preprocessing shifts (comments and macro expansions), so only a compile of the original source matches"
	reasonDriver    = "changes which programs or specs the driver uses"
	reasonAuxNames  = "changes the names of auxiliary output files"
	reasonTemps     = "keeps intermediate files"
	reasonCPPOnly   = "only meaningful with -E"
)

// gccRows is the main table for the gcc and clang drivers.
var gccRows = []gccRow{
	// Overall options (gcc manual "Overall Options").
	{name: "-c", role: gccRoleCompile},
	{name: "--compile", role: gccRoleCompile},
	{name: "-o", flags: gBoth | gPath | gOut, role: gccRoleOutput},
	{name: "--output", flags: gSep | gPath | gOut, role: gccRoleOutput},
	{name: "--output=", flags: gCat | gPath | gOut, role: gccRoleOutput},
	{name: "-x", flags: gBoth, role: gccRoleLanguage},
	{name: "--language", flags: gSep, role: gccRoleLanguage},
	{name: "--language=", flags: gCat, role: gccRoleLanguage},
	{name: "-E", flags: gLocal, reason: "-E: preprocessing only"},
	{name: "--preprocess", flags: gLocal, reason: "--preprocess: preprocessing only"},
	{name: "-S", flags: gLocal, reason: "-S: " + reasonNotObject + " (assembly text)"},
	{name: "--assemble", flags: gLocal, reason: "--assemble: " + reasonNotObject + " (assembly text)"},
	{name: "-fsyntax-only", flags: gLocal, reason: "-fsyntax-only: " + reasonNotObject},
	{name: "--analyze", flags: gLocal, reason: "--analyze: " + reasonNotObject, only: FamilyClang},
	{name: "-emit-llvm", flags: gLocal, reason: "-emit-llvm: " + reasonNotObject + " (LLVM IR)", only: FamilyClang},
	{name: "-v", flags: gLocal, reason: "-v: the driver's trace must come from the real command"},
	{name: "-###", flags: gLocal, reason: "-###: " + reasonQuery},
	{name: "--version", flags: gLocal, reason: "--version: " + reasonQuery},
	{name: "--help", flags: gLocal, reason: "--help: " + reasonQuery},
	{name: "--help=", flags: gCat | gLocal, reason: "--help: " + reasonQuery, only: FamilyGCC},
	{name: "--target-help", flags: gLocal, reason: "--target-help: " + reasonQuery},
	{name: "-dumpversion", flags: gLocal, reason: "-dumpversion: " + reasonQuery},
	{name: "-dumpfullversion", flags: gLocal, reason: "-dumpfullversion: " + reasonQuery},
	{name: "-dumpmachine", flags: gLocal, reason: "-dumpmachine: " + reasonQuery},
	{name: "-dumpspecs", flags: gLocal, reason: "-dumpspecs: " + reasonQuery},
	{name: "-print-", flags: gCat | gLocal, reason: "-print-*: " + reasonQuery},
	{name: "--print-", flags: gCat | gLocal, reason: "--print-*: " + reasonQuery},
	{name: "-dumpbase", flags: gSep | gLocal, reason: "-dumpbase: " + reasonAuxNames},
	{name: "-dumpbase-ext", flags: gSep | gLocal, reason: "-dumpbase-ext: " + reasonAuxNames},
	{name: "-dumpdir", flags: gSep | gLocal, reason: "-dumpdir: " + reasonAuxNames},
	{name: "-save-temps", flags: gCat | gLocal, reason: "-save-temps: " + reasonTemps},
	{name: "--save-temps", flags: gLocal, reason: "--save-temps: " + reasonTemps},
	{name: "-pipe", flags: gDrop},
	{name: "-pass-exit-codes", flags: gDrop, only: FamilyGCC},
	{name: "-no-canonical-prefixes", flags: 0},
	{name: "-wrapper", flags: gSep | gLocal, reason: "-wrapper: " + reasonDriver},
	{name: "-B", flags: gBoth | gPath | gLocal, reason: "-B: " + reasonDriver},
	{name: "-specs=", flags: gCat | gLocal, reason: "-specs: " + reasonDriver, only: FamilyGCC},
	{name: "--specs=", flags: gCat | gLocal, reason: "--specs: " + reasonDriver, only: FamilyGCC},
	{name: "-specs", flags: gSep | gLocal, reason: "-specs: " + reasonDriver, only: FamilyGCC},
	{name: "--specs", flags: gSep | gLocal, reason: "--specs: " + reasonDriver, only: FamilyGCC},
	{name: "-time", flags: gLocal, reason: "-time: " + reasonQuery},
	{name: "-Q", flags: gLocal, reason: "-Q: prints what the compiler does"},
	{name: "--config", flags: gSep | gLocal, reason: "--config: " + reasonDriver, only: FamilyClang},
	{name: "-Qunused-arguments", only: FamilyClang},
	{name: "-ObjC", flags: gLocal, reason: "-ObjC: a language switch dcc does not model", only: FamilyClang},
	{name: "-ObjC++", flags: gLocal, reason: "-ObjC++: a language switch dcc does not model", only: FamilyClang},
	{name: "-Xarch_", flags: gCat | gLocal, reason: "-Xarch_*: per-architecture options", only: FamilyClang},
	{name: "-arch", flags: gSep, role: gccRoleArch, only: FamilyClang},
	{name: "-target", flags: gSep, only: FamilyClang},
	{name: "--target=", flags: gCat, only: FamilyClang},
	{name: "--driver-mode=", flags: gCat, only: FamilyClang},
	{name: "--gcc-toolchain=", flags: gCat | gPath | gCPP, only: FamilyClang},
	{name: "-resource-dir", flags: gSep | gPath, only: FamilyClang},
	{name: "-resource-dir=", flags: gCat | gPath, only: FamilyClang},
	{name: "-MJ", flags: gBoth | gLocal, reason: "-MJ: writes a compilation database entry", only: FamilyClang},
	{name: "-Xanalyzer", flags: gSep | gLocal, reason: "-Xanalyzer: " + reasonNotObject, only: FamilyClang},

	// Dependency files (gcc manual "Preprocessor Options", -M family).
	{name: "-M", flags: gLocal, reason: "-M without -MD/-MMD implies -E: preprocessing only"},
	{name: "-MM", flags: gLocal, reason: "-MM without -MD/-MMD implies -E: preprocessing only"},
	{name: "-MG", flags: gLocal, reason: "-MG: only valid with -M/-MM"},
	{name: "-MD", flags: gDeps, role: gccRoleMD},
	{name: "-MMD", flags: gDeps, role: gccRoleMD},
	{name: "-MF", flags: gBoth | gPath | gDeps, role: gccRoleMF},
	{name: "-MT", flags: gBoth | gDeps, role: gccRoleMT},
	{name: "-MQ", flags: gBoth | gDeps, role: gccRoleMT},
	{name: "-MP", flags: gDeps},

	// Preprocessor options (gcc manual "Preprocessor Options", "Directory Options").
	{name: "-D", flags: gBoth | gCPP},
	{name: "-U", flags: gBoth | gCPP},
	{name: "-I", flags: gBoth | gPath | gCPP},
	{name: "-I-", flags: gCPP},
	{name: "-iquote", flags: gBoth | gPath | gCPP},
	{name: "-isystem", flags: gBoth | gPath | gCPP},
	{name: "-idirafter", flags: gBoth | gPath | gCPP},
	{name: "-iprefix", flags: gBoth | gPath | gCPP},
	{name: "-iwithprefix", flags: gBoth | gPath | gCPP},
	{name: "-iwithprefixbefore", flags: gBoth | gPath | gCPP},
	{name: "-isysroot", flags: gBoth | gPath | gCPP},
	{name: "-imultilib", flags: gBoth | gPath | gCPP},
	{name: "-imultiarch", flags: gBoth | gCPP},
	{name: "-iframework", flags: gBoth | gPath | gCPP},
	{name: "-F", flags: gBoth | gPath | gCPP, only: FamilyClang},
	{name: "-cxx-isystem", flags: gBoth | gPath | gCPP, only: FamilyClang},
	{name: "-isystem-after", flags: gBoth | gPath | gCPP, only: FamilyClang},
	{name: "-iwithsysroot", flags: gBoth | gPath | gCPP, only: FamilyClang},
	{name: "--include-directory", flags: gSep | gPath | gCPP},
	{name: "--include-directory=", flags: gCat | gPath | gCPP},
	{name: "--sysroot", flags: gSep | gPath | gCPP},
	{name: "--sysroot=", flags: gCat | gPath | gCPP},
	{name: "-include", flags: gBoth | gPath | gCPP, role: gccRoleInclude},
	{name: "--include", flags: gSep | gPath | gCPP, role: gccRoleInclude},
	{name: "--include=", flags: gCat | gPath | gCPP, role: gccRoleInclude},
	{name: "-imacros", flags: gBoth | gPath | gCPP},
	{name: "-include-pch", flags: gSep | gPath | gLocal, reason: "-include-pch: " + reasonPCH},
	{name: "-include-pth", flags: gSep | gPath | gLocal, reason: "-include-pth: " + reasonPCH},
	{name: "-nostdinc", flags: gCPP},
	{name: "-nostdinc++", flags: gCPP},
	{name: "-nostdlibinc", flags: gCPP, only: FamilyClang},
	{name: "-nobuiltininc", flags: gCPP, only: FamilyClang},
	{name: "-stdlib=", flags: gCat | gCPP, only: FamilyClang},
	{name: "--stdlib=", flags: gCat | gCPP, only: FamilyClang},
	{name: "-fmacro-prefix-map=", flags: gCat | gCPP},
	{name: "-finput-charset=", flags: gCat | gCPP, role: gccRoleRecordedCPP},
	{name: "-fno-working-directory", flags: gCPP, role: gccRoleNoWorkingDir},
	{name: "-Xpreprocessor", flags: gSep | gCPP, role: gccRoleXpreprocessor},
	{name: "-Wp,", flags: gCat, role: gccRoleWp},
	{name: "-Wa,", flags: gCat, role: gccRoleWa},
	{name: "-Xassembler", flags: gSep, role: gccRoleXassembler},
	{name: "-Xclang", flags: gSep, role: gccRoleXclang, only: FamilyClang},
	// Preprocessor options gcc records in DW_AT_producer: they go to both steps.
	{name: "-undef"},
	{name: "-remap"},
	{name: "-trigraphs"},
	{name: "-A", flags: gBoth},
	{name: "-fworking-directory", only: FamilyGCC},
	{name: "-fdirectives-only", only: FamilyGCC},
	{name: "-fno-directives-only", only: FamilyGCC},
	{name: "-ftrack-macro-expansion", flags: gCat, only: FamilyGCC},
	{name: "-fmax-include-depth=", flags: gCat, only: FamilyGCC},
	{name: "-fcanonical-system-headers", only: FamilyGCC},
	{name: "-fno-canonical-system-headers", only: FamilyGCC},
	// Preprocessor options with no meaning in a compile.
	{name: "-C", flags: gLocal, reason: "-C: " + reasonCPPOnly},
	{name: "-CC", flags: gLocal, reason: "-CC: " + reasonCPPOnly},
	{name: "-P", flags: gLocal, reason: "-P: " + reasonCPPOnly},
	{name: "-H", flags: gLocal, reason: "-H: prints every header the preprocessor opens"},
	{name: "-d", flags: gCat | gLocal, reason: "-d*: " + reasonDumps},
	{name: "-fdebug-cpp", flags: gLocal, reason: "-fdebug-cpp: " + reasonDumps, only: FamilyGCC},
	{name: "-fpch-deps", flags: gLocal, reason: "-fpch-deps: " + reasonPCH, only: FamilyGCC},
	{name: "-fpch-preprocess", flags: gLocal, reason: "-fpch-preprocess: " + reasonPCH},
	{name: "-fpch-", flags: gCat | gLocal, reason: "-fpch-*: " + reasonPCH},
	{name: "-fno-pch-", flags: gCat | gLocal, reason: "-fno-pch-*: " + reasonPCH},
	{name: "-fpreprocessed", flags: gLocal, reason: "-fpreprocessed: input preprocessing mode dcc does not model", only: FamilyGCC},

	// Language dialect, warnings and optimisation (gcc manual "C Dialect Options",
	// "Warning Options", "Optimize Options"): code generation.
	{name: "-flto", flags: gCat, role: gccRoleLTO},
	{name: "-fno-lto", role: gccRoleNoLTO},
	{name: "-std=", flags: gCat},
	{name: "--std=", flags: gCat},
	{name: "-ansi"},
	{name: "-pedantic"},
	{name: "-pedantic-errors"},
	{name: "--pedantic"},
	{name: "-w"},
	{name: "-W", flags: gCat},
	{name: "-O", flags: gCat},
	{name: "--param", flags: gSep},
	{name: "--param=", flags: gCat},
	{name: "-pthread"},
	{name: "-p"},
	{name: "-pg"},
	{name: "-m", flags: gCat},
	{name: "-march=native", flags: gHere, reason: "-march=native: " + reasonNative},
	{name: "-mtune=native", flags: gHere, reason: "-mtune=native: " + reasonNative},
	{name: "-mcpu=native", flags: gHere, reason: "-mcpu=native: " + reasonNative},
	{name: "-mllvm", flags: gSep, only: FamilyClang},
	{name: "-ferror-limit=", flags: gCat, only: FamilyClang},

	// Linker options: no effect on a compile (-c), so dropped.
	{name: "-l", flags: gBoth | gDrop},
	{name: "-L", flags: gBoth | gPath | gDrop},
	{name: "-Wl,", flags: gCat | gDrop},
	{name: "-Xlinker", flags: gSep | gDrop},
	{name: "-u", flags: gBoth | gDrop},
	{name: "-T", flags: gBoth | gPath | gDrop},
	{name: "-z", flags: gBoth | gDrop},
	{name: "-e", flags: gBoth | gDrop},
	{name: "--entry", flags: gSep | gDrop},
	{name: "-s", flags: gDrop},
	{name: "-shared", flags: gDrop},
	{name: "-static", flags: gDrop},
	{name: "-static-pie", flags: gDrop},
	{name: "-pie", flags: gDrop},
	{name: "-no-pie", flags: gDrop},
	{name: "-rdynamic", flags: gDrop},
	{name: "-nostdlib", flags: gDrop},
	{name: "-nostdlib++", flags: gDrop, only: FamilyClang},
	{name: "-nodefaultlibs", flags: gDrop},
	{name: "-nostartfiles", flags: gDrop},
	{name: "-nolibc", flags: gDrop},
	{name: "-static-libgcc", flags: gDrop},
	{name: "-shared-libgcc", flags: gDrop},
	{name: "-static-libstdc++", flags: gDrop},
	{name: "-static-libasan", flags: gDrop, only: FamilyGCC},
	{name: "-static-libtsan", flags: gDrop, only: FamilyGCC},
	{name: "-static-libubsan", flags: gDrop, only: FamilyGCC},
	{name: "-symbolic", flags: gDrop, only: FamilyGCC},
	{name: "-fuse-ld=", flags: gCat | gDrop},
	{name: "--ld-path=", flags: gCat | gDrop, only: FamilyClang},
	{name: "-rtlib=", flags: gCat | gDrop, only: FamilyClang},
	{name: "--rtlib=", flags: gCat | gDrop, only: FamilyClang},
	{name: "-unwindlib=", flags: gCat | gDrop, only: FamilyClang},
	{name: "-rpath", flags: gSep | gDrop, only: FamilyClang},
	{name: "-framework", flags: gSep | gDrop, only: FamilyClang},

	// Debugging options (gcc manual "Debugging Options").
	{name: "-g", role: gccRoleDebugLevel},
	{name: "-g0", role: gccRoleDebugLevel},
	{name: "-g1", role: gccRoleDebugLevel},
	{name: "-g2", role: gccRoleDebugLevel},
	{name: "-g3", role: gccRoleDebugLevel},
	{name: "--debug", role: gccRoleDebugLevel},
	{name: "-ggdb", flags: gCat, role: gccRoleDebugLevel},
	{name: "-gstabs", flags: gCat, role: gccRoleDebugLevel, only: FamilyGCC},
	{name: "-gxcoff", flags: gCat, role: gccRoleDebugLevel, only: FamilyGCC},
	{name: "-gvms", flags: gCat, role: gccRoleDebugLevel, only: FamilyGCC},
	{name: "-gctf", flags: gCat, role: gccRoleDebugLevel, only: FamilyGCC},
	{name: "-gbtf", role: gccRoleDebugLevel, only: FamilyGCC},
	{name: "-glldb", role: gccRoleDebugLevel, only: FamilyClang},
	{name: "-gsce", role: gccRoleDebugLevel, only: FamilyClang},
	{name: "-gdbx", role: gccRoleDebugLevel, only: FamilyClang},
	{name: "-gline-tables-only", role: gccRoleDebugLevel, only: FamilyClang},
	{name: "-gmlt", role: gccRoleDebugLevel, only: FamilyClang},
	{name: "-gline-directives-only", role: gccRoleDebugLevel, only: FamilyClang},
	{name: "-gcodeview", only: FamilyClang},
	{name: "-gdwarf", flags: gCat, role: gccRoleDwarf},
	{name: "-gdwarf32", role: gccRoleDwarfFormat},
	{name: "-gdwarf64", role: gccRoleDwarfFormat},
	{name: "-fdebug-default-version=", flags: gCat, role: gccRoleDwarfDefault, only: FamilyClang},
	{name: "-gcolumn-info", role: gccRoleColumns},
	{name: "-gno-column-info", role: gccRoleNoColumns},
	{name: "-grecord-gcc-switches", role: gccRoleRecordSwitches},
	{name: "-gno-record-gcc-switches", role: gccRoleNoRecordSwitches},
	{name: "-gsplit-dwarf", role: gccRoleSplitDwarf},
	{name: "-gsplit-dwarf=", flags: gCat, role: gccRoleSplitDwarf, only: FamilyClang},
	{name: "-gno-split-dwarf", role: gccRoleNoSplitDwarf},
	{name: "-gno-", flags: gCat},
	{name: "-gz", flags: gCat},
	{name: "-gstrict-dwarf"},
	{name: "-gas-loc-support", only: FamilyGCC},
	{name: "-gas-locview-support", only: FamilyGCC},
	{name: "-gstatement-frontiers", only: FamilyGCC},
	{name: "-gvariable-location-views", flags: gCat, only: FamilyGCC},
	{name: "-ginline-points", only: FamilyGCC},
	{name: "-ginternal-reset-location-views", only: FamilyGCC},
	{name: "-gdescribe-dies", only: FamilyGCC},
	{name: "-gpubnames"},
	{name: "-ggnu-pubnames"},
	{name: "-gfull", only: FamilyClang},
	{name: "-gused", only: FamilyClang},
	{name: "-gdwarf-aranges", only: FamilyClang},
	{name: "-ginline-line-tables", only: FamilyClang},
	{name: "-gsimple-template-names", flags: gCat, only: FamilyClang},
	{name: "-gtoggle", flags: gLocal, reason: "-gtoggle: debug level depends on option order in ways dcc does not model", only: FamilyGCC},
	{name: "-gmodules", flags: gLocal, reason: "-gmodules: " + reasonModules, only: FamilyClang},
	{name: "-gembed-source", flags: gHere, reason: "-gembed-source: embeds the original source text", only: FamilyClang},
	{name: "-grecord-command-line", flags: gHere, reason: "-grecord-command-line: " + reasonRecords, only: FamilyClang},
	{name: "-fdebug-prefix-map=", flags: gCat, role: gccRolePrefixMap},
	{name: "-ffile-prefix-map=", flags: gCat, role: gccRolePrefixMap},
	{name: "-fdebug-compilation-dir=", flags: gCat, role: gccRoleCompDir, only: FamilyClang},
	{name: "-fdebug-compilation-dir", flags: gSep, role: gccRoleCompDir, only: FamilyClang},
	{name: "-ffile-compilation-dir=", flags: gCat, role: gccRoleCompDir, only: FamilyClang},
	{name: "-fcoverage-compilation-dir=", flags: gCat, only: FamilyClang},
	{name: "-fcoverage-prefix-map=", flags: gCat, only: FamilyClang},
	{name: "-frecord-gcc-switches", role: gccRoleRecordSection},
	{name: "-fno-record-gcc-switches"},
	{name: "-frecord-command-line", flags: gHere, reason: "-frecord-command-line: " + reasonRecords, only: FamilyClang},
	{name: "-fno-record-command-line", only: FamilyClang},
	{name: "-fembed-bitcode", flags: gCat | gHere, reason: "-fembed-bitcode: " + reasonRecords, only: FamilyClang},

	// Instrumentation (gcc manual "Instrumentation Options").
	{name: "--coverage", flags: gHere, role: gccRoleCoverage, reason: "--coverage: " + reasonCoverage},
	{name: "-coverage", flags: gHere, role: gccRoleCoverage, reason: "-coverage: " + reasonCoverage},
	{name: "-ftest-coverage", flags: gHere, role: gccRoleTestCoverage, reason: "-ftest-coverage: " + reasonCoverage},
	{name: "-fno-test-coverage"},
	{name: "-fprofile-arcs", flags: gHere, role: gccRoleProfileArcs, reason: "-fprofile-arcs: " + reasonCoverage},
	{name: "-fno-profile-arcs"},
	{name: "-fprofile-abs-path", flags: gHere, reason: "-fprofile-abs-path: " + reasonCoverage, only: FamilyGCC},
	{name: "-fprofile-note=", flags: gCat | gLocal, reason: "-fprofile-note: " + reasonAuxNames, only: FamilyGCC},
	{name: "-fprofile-generate", flags: gCat | gHere, role: gccRoleProfileArcs, reason: "-fprofile-generate: " + reasonProfile},
	{name: "-fno-profile-generate", only: FamilyClang},
	{name: "-fcs-profile-generate", flags: gCat | gHere, role: gccRoleProfileArcs, reason: "-fcs-profile-generate: " + reasonProfile, only: FamilyClang},
	{name: "-fprofile-instr-generate", flags: gCat | gHere, role: gccRoleProfileArcs, reason: "-fprofile-instr-generate: " + reasonProfile, only: FamilyClang},
	{name: "-fno-profile-instr-generate", only: FamilyClang},
	{name: "-fprofile-use", flags: gCat | gHere, role: gccRoleProfileUse, reason: "-fprofile-use: " + reasonProfile},
	{name: "-fprofile-instr-use", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fprofile-instr-use: " + reasonProfile, only: FamilyClang},
	{name: "-fno-profile-instr-use", only: FamilyClang},
	{name: "-fprofile-sample-use=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fprofile-sample-use: " + reasonProfile, only: FamilyClang},
	{name: "-fauto-profile", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fauto-profile: " + reasonProfile},
	{name: "-fbranch-probabilities", flags: gHere, role: gccRoleProfileUse, reason: "-fbranch-probabilities: " + reasonProfile, only: FamilyGCC},
	{name: "-fprofile-dir=", flags: gCat | gHere, role: gccRoleProfileDir, reason: "-fprofile-dir: " + reasonProfile},
	{name: "-fprofile-prefix-path=", flags: gCat | gHere, reason: "-fprofile-prefix-path: " + reasonProfile, only: FamilyGCC},
	{name: "-fprofile-prefix-map=", flags: gCat | gHere, reason: "-fprofile-prefix-map: " + reasonProfile, only: FamilyGCC},
	{name: "-fprofile-exclude-files=", flags: gCat | gHere, reason: "-fprofile-exclude-files: " + reasonProfile},
	{name: "-fprofile-filter-files=", flags: gCat | gHere, reason: "-fprofile-filter-files: " + reasonProfile},
	{name: "-fprofile-list=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fprofile-list: " + reasonReadsFile, only: FamilyClang},
	{name: "-fprofile-remapping-file=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fprofile-remapping-file: " + reasonReadsFile, only: FamilyClang},
	{name: "-fprofile-update=", flags: gCat},
	{name: "-fprofile-correction"},
	{name: "-fprofile-values"},
	{name: "-fprofile-reorder-functions", only: FamilyGCC},
	{name: "-fprofile-partial-training", only: FamilyGCC},
	{name: "-fprofile-sample-accurate", only: FamilyClang},
	{name: "-fcoverage-mapping", flags: gHere, reason: "-fcoverage-mapping: " + reasonCoverage, only: FamilyClang},
	{name: "-fno-coverage-mapping", only: FamilyClang},
	{name: "-fstack-usage", role: gccRoleStackUsage},
	{name: "-fsanitize=", flags: gCat | gHere, reason: "-fsanitize: sanitizer instrumentation " + reasonColumns},
	{name: "-fno-sanitize=", flags: gCat},
	{name: "-fsanitize-blacklist=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fsanitize-blacklist: " + reasonReadsFile, only: FamilyClang},
	{name: "-fsanitize-ignorelist=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fsanitize-ignorelist: " + reasonReadsFile, only: FamilyClang},
	{name: "-fsanitize-system-blacklist=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fsanitize-system-blacklist: " + reasonReadsFile, only: FamilyClang},
	{name: "-fsanitize-system-ignorelist=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fsanitize-system-ignorelist: " + reasonReadsFile, only: FamilyClang},
	{name: "-fsanitize-coverage-allowlist=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fsanitize-coverage-allowlist: " + reasonReadsFile, only: FamilyClang},
	{name: "-fsanitize-coverage-whitelist=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fsanitize-coverage-whitelist: " + reasonReadsFile, only: FamilyClang},
	{name: "-fsanitize-coverage-ignorelist=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fsanitize-coverage-ignorelist: " + reasonReadsFile, only: FamilyClang},
	{name: "-fsanitize-coverage-blacklist=", flags: gCat | gHere, role: gccRoleReadsFile, reason: "-fsanitize-coverage-blacklist: " + reasonReadsFile, only: FamilyClang},
	{name: "-fno-sanitize-ignorelist", only: FamilyClang},
	{name: "-fno-sanitize-blacklist", only: FamilyClang},
	{name: "-fsanitize-coverage=", flags: gCat},
	{name: "-fno-sanitize-coverage=", flags: gCat, only: FamilyClang},
	{name: "-fsanitize-recover", flags: gCat},
	{name: "-fno-sanitize-recover", flags: gCat},
	{name: "-fsanitize-trap", flags: gCat, only: FamilyClang},
	{name: "-fno-sanitize-trap", flags: gCat, only: FamilyClang},
	{name: "-fsanitize-address-", flags: gCat},
	{name: "-fno-sanitize-address-", flags: gCat},
	{name: "-fsanitize-memory-", flags: gCat, only: FamilyClang},
	{name: "-fno-sanitize-memory-", flags: gCat, only: FamilyClang},
	{name: "-fsanitize-thread-", flags: gCat, only: FamilyClang},
	{name: "-fno-sanitize-thread-", flags: gCat, only: FamilyClang},
	{name: "-fsanitize-cfi-", flags: gCat, only: FamilyClang},
	{name: "-fno-sanitize-cfi-", flags: gCat, only: FamilyClang},
	{name: "-fsanitize-undefined-trap-on-error"},
	{name: "-fno-sanitize-undefined-trap-on-error"},
	{name: "-fsanitize-undefined-strip-path-components=", flags: gCat, only: FamilyClang},
	{name: "-fsanitize-stats", only: FamilyClang},
	{name: "-fsanitize-sections=", flags: gCat, only: FamilyGCC},
	{name: "-fasan-shadow-offset=", flags: gCat, only: FamilyGCC},
	{name: "-fxray-attr-list=", flags: gCat | gHere, reason: "-fxray-attr-list: " + reasonReadsFile, only: FamilyClang},
	{name: "-fxray-always-instrument=", flags: gCat | gHere, reason: "-fxray-always-instrument: " + reasonReadsFile, only: FamilyClang},
	{name: "-fxray-never-instrument=", flags: gCat | gHere, reason: "-fxray-never-instrument: " + reasonReadsFile, only: FamilyClang},
	{name: "-fxray-", flags: gCat, only: FamilyClang},
	{name: "-fno-xray-", flags: gCat, only: FamilyClang},
	{name: "-finstrument-functions-exclude-file-list=", flags: gCat, only: FamilyGCC},
	{name: "-finstrument-functions-exclude-function-list=", flags: gCat, only: FamilyGCC},
	{name: "-fplugin=", flags: gCat | gPath | gLocal, reason: "-fplugin: " + reasonPlugin},
	{name: "-fplugin-arg-", flags: gCat | gLocal, reason: "-fplugin-arg: " + reasonPlugin},
	{name: "-fpass-plugin=", flags: gCat | gPath | gLocal, reason: "-fpass-plugin: " + reasonPlugin, only: FamilyClang},

	// Options that write extra files or reports (ccache: too hard; icecream: -fdump*).
	{name: "-fdump-", flags: gCat | gLocal, reason: "-fdump-*: " + reasonDumps},
	{name: "-fcallgraph-info", flags: gCat | gLocal, reason: "-fcallgraph-info: " + reasonDumps, only: FamilyGCC},
	{name: "-fopt-info", flags: gCat | gLocal, reason: "-fopt-info: " + reasonDumps, only: FamilyGCC},
	{name: "-fsave-optimization-record", flags: gCat | gLocal, reason: "-fsave-optimization-record: " + reasonDumps, only: FamilyClang},
	{name: "-foptimization-record-file=", flags: gCat | gLocal, reason: "-foptimization-record-file: " + reasonDumps, only: FamilyClang},
	{name: "-foptimization-record-passes=", flags: gCat, only: FamilyClang},
	{name: "-ftime-trace", flags: gCat | gLocal, reason: "-ftime-trace: " + reasonDumps, only: FamilyClang},
	{name: "-ftime-report", flags: gCat | gLocal, reason: "-ftime-report: prints this run's timings"},
	{name: "-fmem-report", flags: gCat | gLocal, reason: "-fmem-report: prints this run's memory use", only: FamilyGCC},
	{name: "-fstats", flags: gLocal, reason: "-fstats: prints this run's statistics", only: FamilyGCC},
	{name: "-fproc-stat-report", flags: gCat | gLocal, reason: "-fproc-stat-report: prints this run's statistics", only: FamilyClang},
	{name: "-fcompare-debug", flags: gCat | gLocal, reason: "-fcompare-debug: " + reasonDumps},
	{name: "-fcompare-debug-second", flags: gLocal, reason: "-fcompare-debug-second: " + reasonDumps, only: FamilyGCC},
	{name: "-frepo", flags: gLocal, reason: "-frepo: writes .rpo files", only: FamilyGCC},
	{name: "-fdiagnostics-format=sarif-file", flags: gLocal, reason: "-fdiagnostics-format=sarif-file: writes a diagnostics file"},
	{name: "-fthinlto-index=", flags: gCat | gLocal, reason: "-fthinlto-index: a ThinLTO backend step", only: FamilyClang},
	{name: "-fmodules", flags: gCat | gLocal, reason: "-fmodules: " + reasonModules},
	{name: "-fmodule-", flags: gCat | gLocal, reason: "-fmodule-*: " + reasonModules},
	{name: "-fcxx-modules", flags: gLocal, reason: "-fcxx-modules: " + reasonModules, only: FamilyClang},
	{name: "-fimplicit-modules", flags: gLocal, reason: "-fimplicit-modules: " + reasonModules, only: FamilyClang},
	{name: "-fimplicit-module-maps", flags: gLocal, reason: "-fimplicit-module-maps: " + reasonModules, only: FamilyClang},
	{name: "-fprebuilt-module-path=", flags: gCat | gLocal, reason: "-fprebuilt-module-path: " + reasonModules, only: FamilyClang},
	{name: "-fbuild-session-file=", flags: gCat | gLocal, reason: "-fbuild-session-file: " + reasonModules, only: FamilyClang},
	{name: "-ivfsoverlay", flags: gSep | gLocal, reason: "-ivfsoverlay: a virtual file system dcc does not model", only: FamilyClang},

	// Clang-only code generation and diagnostics options.
	{name: "-fcolor-diagnostics", only: FamilyClang},
	{name: "-fno-color-diagnostics", only: FamilyClang},
	{name: "-fansi-escape-codes", only: FamilyClang},
	{name: "-fcrash-diagnostics-dir=", flags: gCat, only: FamilyClang},
	{name: "-fno-crash-diagnostics", only: FamilyClang},
	{name: "-fgnuc-version=", flags: gCat, only: FamilyClang},
	{name: "-fms-compatibility-version=", flags: gCat, only: FamilyClang},
	{name: "-fmsc-version=", flags: gCat, only: FamilyClang},
	{name: "-fobjc-runtime=", flags: gCat, only: FamilyClang},
	{name: "-fnew-alignment=", flags: gCat, only: FamilyClang},
	{name: "-fmacro-backtrace-limit=", flags: gCat, only: FamilyClang},
	{name: "-ftemplate-backtrace-limit=", flags: gCat, only: FamilyClang},
	{name: "-fspell-checking-limit=", flags: gCat, only: FamilyClang},
	{name: "-fconstexpr-steps=", flags: gCat, only: FamilyClang},
	{name: "-fconstexpr-backtrace-limit=", flags: gCat, only: FamilyClang},
	{name: "-fbracket-depth=", flags: gCat, only: FamilyClang},
	{name: "-ffp-model=", flags: gCat, only: FamilyClang},
	{name: "-ffp-exception-behavior=", flags: gCat, only: FamilyClang},
	{name: "-fdenormal-fp-math=", flags: gCat, only: FamilyClang},
	{name: "-fbasic-block-sections=", flags: gCat, only: FamilyClang},
	{name: "-fbinutils-version=", flags: gCat, only: FamilyClang},
	{name: "-fc++-abi=", flags: gCat, only: FamilyClang},
	{name: "-fclang-abi-compat=", flags: gCat, only: FamilyClang},
	{name: "-fveclib=", flags: gCat, only: FamilyClang},
	{name: "-fmax-type-align=", flags: gCat, only: FamilyClang},
	{name: "-fmax-tokens=", flags: gCat, only: FamilyClang},
	{name: "-fextend-arguments=", flags: gCat, only: FamilyClang},
	{name: "-flax-vector-conversions=", flags: gCat, only: FamilyClang},
	{name: "-fdiagnostics-hotness-threshold=", flags: gCat, only: FamilyClang},
	{name: "-fshow-overloads=", flags: gCat, only: FamilyClang},
	{name: "-fopenmp-version=", flags: gCat, only: FamilyClang},
	{name: "-fopenmp-targets=", flags: gLocal | gCat, reason: "-fopenmp-targets: offloading compiles for several targets", only: FamilyClang},
	{name: "-ftrivial-auto-var-init-stop-after=", flags: gCat, only: FamilyClang},
	{name: "-ftrap-function=", flags: gCat, only: FamilyClang},
	{name: "-flto-jobs=", flags: gCat, only: FamilyClang},
	{name: "-fvisibility-dllexport=", flags: gCat, only: FamilyClang},
	{name: "-fcomment-block-commands=", flags: gCat, only: FamilyClang},
	{name: "-fswift-async-fp=", flags: gCat, only: FamilyClang},
	{name: "-ftime-trace-granularity=", flags: gCat, only: FamilyClang},
}

// gccFlagsBoth are -f switches without an argument that gcc 12 and clang 14
// both accept and that only change code generation, language rules or
// diagnostics (clang accepts many of gcc's optimisation switches and ignores
// them).
var gccFlagsBoth = []string{
	"-fPIC", "-fno-PIC", "-fpic", "-fno-pic", "-fPIE", "-fno-PIE", "-fpie", "-fno-pie", "-fcommon",
	"-fno-common", "-fplt", "-fno-plt", "-fident", "-fno-ident", "-fexceptions", "-fno-exceptions",
	"-fnon-call-exceptions", "-fno-non-call-exceptions", "-fasynchronous-unwind-tables",
	"-fno-asynchronous-unwind-tables", "-funwind-tables", "-fno-unwind-tables", "-fshort-enums",
	"-fno-short-enums", "-fshort-wchar", "-fno-short-wchar", "-fpack-struct",
	"-fno-pack-struct", "-fverbose-asm", "-fno-verbose-asm", "-ftrapv", "-fwrapv", "-fno-wrapv",
	"-fstack-check", "-fno-stack-check", "-fstack-clash-protection", "-fno-stack-clash-protection",
	"-fstack-protector", "-fno-stack-protector", "-fstack-protector-all", "-fstack-protector-strong",
	"-fsplit-stack", "-fno-split-stack", "-ffunction-sections", "-fno-function-sections",
	"-fdata-sections", "-fno-data-sections", "-fzero-initialized-in-bss",
	"-fno-zero-initialized-in-bss", "-fsemantic-interposition", "-fno-semantic-interposition",
	"-fkeep-static-consts", "-fno-keep-static-consts", "-fkeep-inline-functions",
	"-fno-keep-inline-functions", "-fmerge-all-constants", "-fno-merge-all-constants",
	"-fmerge-constants", "-fno-merge-constants", "-fjump-tables", "-fno-jump-tables", "-fasm",
	"-fno-asm", "-fbuiltin", "-fno-builtin", "-fhosted", "-ffreestanding", "-fsigned-char",
	"-fno-signed-char", "-funsigned-char", "-fno-unsigned-char", "-fsigned-bitfields",
	"-funsigned-bitfields", "-fgnu89-inline", "-fno-gnu89-inline", "-fgnu-keywords",
	"-fno-gnu-keywords", "-fms-extensions", "-fno-ms-extensions", "-flax-vector-conversions",
	"-fno-lax-vector-conversions", "-finstrument-functions", "-fvisibility-inlines-hidden",
	"-fno-visibility-inlines-hidden", "-fvisibility-ms-compat", "-fuse-cxa-atexit",
	"-fno-use-cxa-atexit", "-fthreadsafe-statics", "-fno-threadsafe-statics", "-frtti", "-fno-rtti",
	"-faccess-control", "-fno-access-control", "-felide-constructors", "-fno-elide-constructors",
	"-fimplicit-templates", "-fno-implicit-templates", "-fimplement-inlines",
	"-fno-implement-inlines", "-fdefault-inline", "-fno-default-inline", "-foperator-names",
	"-fno-operator-names", "-fpermissive", "-fno-permissive", "-fsized-deallocation",
	"-fno-sized-deallocation", "-faligned-new", "-fno-aligned-new", "-fchar8_t", "-fno-char8_t",
	"-fstrict-enums", "-fno-strict-enums", "-fcheck-new", "-fno-check-new",
	"-fdollars-in-identifiers", "-fno-dollars-in-identifiers", "-fextended-identifiers",
	"-ffat-lto-objects", "-fno-fat-lto-objects", "-fwhole-program", "-fno-whole-program",
	"-fuse-linker-plugin", "-fno-use-linker-plugin", "-fopenmp", "-fno-openmp", "-fopenmp-simd",
	"-fno-openmp-simd", "-fobjc-exceptions", "-fno-objc-exceptions", "-fobjc-call-cxx-cdtors",
	"-fnext-runtime", "-fgnu-runtime", "-fdwarf2-cfi-asm", "-fno-dwarf2-cfi-asm",
	"-feliminate-unused-debug-symbols", "-fno-eliminate-unused-debug-symbols",
	"-feliminate-unused-debug-types", "-fno-eliminate-unused-debug-types", "-fdebug-types-section",
	"-fno-debug-types-section", "-fno-var-tracking", "-fcf-protection", "-fshow-column",
	"-fno-show-column", "-fdiagnostics-color", "-fno-diagnostics-color", "-fdiagnostics-show-option",
	"-fno-diagnostics-show-option", "-fdiagnostics-parseable-fixits",
	"-fdiagnostics-show-template-tree", "-fno-elide-type", "-ffinite-loops", "-fno-finite-loops",
	"-fdelete-null-pointer-checks", "-fno-delete-null-pointer-checks", "-fsingle-precision-constant",
	"-fno-single-precision-constant", "-ffloat-store", "-fno-float-store", "-ffast-math",
	"-fno-fast-math", "-ffinite-math-only", "-fno-finite-math-only", "-fmath-errno",
	"-fno-math-errno", "-fassociative-math", "-fno-associative-math", "-freciprocal-math",
	"-fno-reciprocal-math", "-fsigned-zeros", "-fno-signed-zeros", "-ftrapping-math",
	"-fno-trapping-math", "-frounding-math", "-fno-rounding-math", "-fsignaling-nans",
	"-fno-signaling-nans", "-funsafe-math-optimizations", "-fno-unsafe-math-optimizations",
	"-falign-functions", "-fno-align-functions", "-falign-jumps", "-fno-align-jumps",
	"-falign-labels", "-fno-align-labels", "-falign-loops", "-fno-align-loops", "-fbranch-count-reg",
	"-fno-branch-count-reg", "-fcaller-saves", "-fno-caller-saves", "-fdefer-pop", "-fno-defer-pop",
	"-fdevirtualize", "-fno-devirtualize", "-fdevirtualize-speculatively",
	"-fno-devirtualize-speculatively", "-fexpensive-optimizations", "-fno-expensive-optimizations",
	"-fgcse", "-fno-gcse", "-fgcse-after-reload", "-fno-gcse-after-reload", "-fgcse-las",
	"-fno-gcse-las", "-fgcse-sm", "-fno-gcse-sm", "-finline", "-fno-inline", "-finline-functions",
	"-fno-inline-functions", "-finline-functions-called-once", "-fno-inline-functions-called-once",
	"-finline-small-functions", "-fno-inline-small-functions", "-fipa-cp", "-fno-ipa-cp", "-fivopts",
	"-fno-ivopts", "-fmodulo-sched", "-fno-modulo-sched", "-fmodulo-sched-allow-regmoves",
	"-fno-modulo-sched-allow-regmoves", "-fomit-frame-pointer", "-fno-omit-frame-pointer",
	"-foptimize-sibling-calls", "-fno-optimize-sibling-calls", "-fpeel-loops", "-fno-peel-loops",
	"-fprefetch-loop-arrays", "-fno-prefetch-loop-arrays", "-frename-registers",
	"-fno-rename-registers", "-freorder-blocks", "-fno-reorder-blocks", "-fsched-interblock",
	"-fschedule-insns", "-fno-schedule-insns", "-fschedule-insns2", "-fno-schedule-insns2",
	"-fstrict-aliasing", "-fno-strict-aliasing", "-fstrict-overflow", "-fno-strict-overflow",
	"-ftracer", "-fno-tracer", "-ftree-dce", "-fno-tree-dce", "-ftree-slp-vectorize",
	"-fno-tree-slp-vectorize", "-ftree-ter", "-fno-tree-ter", "-ftree-vectorize",
	"-fno-tree-vectorize", "-ftree-vrp", "-fno-tree-vrp", "-funroll-all-loops",
	"-fno-unroll-all-loops", "-funroll-loops", "-fno-unroll-loops", "-funsafe-loop-optimizations",
	"-fno-unsafe-loop-optimizations", "-funswitch-loops", "-fno-unswitch-loops",
	"-fvariable-expansion-in-unroller", "-fno-variable-expansion-in-unroller", "-fvect-cost-model",
	"-fno-vect-cost-model", "-fweb", "-fno-web", "-fprotect-parens", "-fno-protect-parens",
	"-ffixed-point",
}

// gccFlagsGCC are such switches that only gcc accepts.
var gccFlagsGCC = []string{
	"-fpcc-struct-return",
	"-fdelete-dead-exceptions", "-fno-delete-dead-exceptions", "-fno-pcc-struct-return",
	"-freg-struct-return", "-fno-reg-struct-return", "-fleading-underscore",
	"-fno-leading-underscore", "-fno-trapv", "-fwrapv-pointer", "-fno-wrapv-pointer",
	"-fstack-protector-explicit", "-ftrampolines", "-fno-trampolines", "-finhibit-size-directive",
	"-fno-inhibit-size-directive", "-fkeep-static-functions", "-fno-keep-static-functions",
	"-fmerge-debug-strings", "-fno-merge-debug-strings", "-fbit-tests", "-fno-bit-tests",
	"-fno-hosted", "-fno-freestanding", "-fno-signed-bitfields", "-fno-unsigned-bitfields",
	"-fplan9-extensions", "-fno-plan9-extensions", "-fcond-mismatch", "-fno-cond-mismatch",
	"-fno-instrument-functions", "-fno-visibility-ms-compat", "-fenforce-eh-specs",
	"-fno-enforce-eh-specs", "-fimplicit-inline-templates", "-fno-implicit-inline-templates",
	"-fnonansi-builtins", "-fno-nonansi-builtins", "-foptional-diags", "-fno-optional-diags",
	"-fpretty-templates", "-fno-pretty-templates", "-fcoroutines", "-fno-coroutines", "-fconcepts",
	"-fno-concepts", "-fstrong-eval-order", "-fno-strong-eval-order", "-fnew-inheriting-ctors",
	"-fno-new-inheriting-ctors", "-fnew-ttp-matching", "-fno-new-ttp-matching", "-fextern-tls-init",
	"-fno-extern-tls-init", "-fgnu-unique", "-fno-gnu-unique", "-fuse-cxa-get-exception-ptr",
	"-fno-use-cxa-get-exception-ptr", "-fweak", "-fno-weak", "-fno-extended-identifiers",
	"-fext-numeric-literals", "-fno-ext-numeric-literals", "-fopenacc", "-fno-openacc", "-fgnu-tm",
	"-fno-gnu-tm", "-fobjc-gc", "-fno-objc-gc", "-fobjc-nilcheck", "-fno-objc-nilcheck",
	"-fno-objc-call-cxx-cdtors", "-fobjc-direct-dispatch", "-fno-objc-direct-dispatch",
	"-femit-class-debug-always", "-fno-emit-class-debug-always", "-fvar-tracking",
	"-fvar-tracking-assignments", "-fno-var-tracking-assignments", "-fharden-compares",
	"-fno-harden-compares", "-fharden-conditional-branches", "-fno-harden-conditional-branches",
	"-finline-atomics", "-fno-inline-atomics", "-fsync-libcalls", "-fno-sync-libcalls",
	"-fallow-store-data-races", "-fno-allow-store-data-races", "-fhuge-objects", "-fno-huge-objects",
	"-flarge-source-files", "-fno-large-source-files", "-fdiagnostics-show-caret",
	"-fno-diagnostics-show-caret", "-fdiagnostics-show-labels", "-fno-diagnostics-show-labels",
	"-fdiagnostics-show-line-numbers", "-fno-diagnostics-show-line-numbers",
	"-fno-diagnostics-parseable-fixits", "-fno-diagnostics-show-template-tree",
	"-fdiagnostics-show-cwe", "-fno-diagnostics-show-cwe", "-fdiagnostics-plain-output",
	"-fdiagnostics-generate-patch", "-fno-diagnostics-generate-patch", "-felide-type",
	"-fimplicit-constexpr", "-fno-implicit-constexpr", "-fmodule-implicit-inline",
	"-fno-module-implicit-inline", "-fanalyzer", "-fno-analyzer", "-fgimple", "-fno-gimple",
	"-flifetime-dse", "-fno-lifetime-dse", "-fstrict-volatile-bitfields",
	"-fno-strict-volatile-bitfields", "-fisolate-erroneous-paths-dereference",
	"-fno-isolate-erroneous-paths-dereference", "-fisolate-erroneous-paths-attribute",
	"-fno-isolate-erroneous-paths-attribute", "-fprintf-return-value", "-fno-printf-return-value",
	"-fcx-limited-range", "-fno-cx-limited-range", "-fcx-fortran-rules", "-fno-cx-fortran-rules",
	"-ffp-int-builtin-inexact", "-fno-fp-int-builtin-inexact", "-faggressive-loop-optimizations",
	"-fno-aggressive-loop-optimizations", "-fallocation-dce", "-fno-allocation-dce", "-fauto-inc-dec",
	"-fno-auto-inc-dec", "-fcode-hoisting", "-fno-code-hoisting", "-fcombine-stack-adjustments",
	"-fno-combine-stack-adjustments", "-fcompare-elim", "-fno-compare-elim", "-fconserve-stack",
	"-fno-conserve-stack", "-fcprop-registers", "-fno-cprop-registers", "-fcrossjumping",
	"-fno-crossjumping", "-fcse-follow-jumps", "-fno-cse-follow-jumps", "-fcse-skip-blocks",
	"-fno-cse-skip-blocks", "-fdce", "-fno-dce", "-fdelayed-branch", "-fno-delayed-branch",
	"-fdevirtualize-at-ltrans", "-fno-devirtualize-at-ltrans", "-fdse", "-fno-dse",
	"-fearly-inlining", "-fno-early-inlining", "-fforward-propagate", "-fno-forward-propagate",
	"-ffunction-cse", "-fno-function-cse", "-fgcse-lm", "-fno-gcse-lm", "-fgraphite", "-fno-graphite",
	"-fgraphite-identity", "-fno-graphite-identity", "-fguess-branch-probability",
	"-fno-guess-branch-probability", "-fhoist-adjacent-loads", "-fno-hoist-adjacent-loads",
	"-fif-conversion", "-fno-if-conversion", "-fif-conversion2", "-fno-if-conversion2",
	"-findirect-inlining", "-fno-indirect-inlining", "-fipa-bit-cp", "-fno-ipa-bit-cp",
	"-fipa-cp-clone", "-fno-ipa-cp-clone", "-fipa-icf", "-fno-ipa-icf", "-fipa-icf-functions",
	"-fno-ipa-icf-functions", "-fipa-icf-variables", "-fno-ipa-icf-variables", "-fipa-modref",
	"-fno-ipa-modref", "-fipa-profile", "-fno-ipa-profile", "-fipa-pta", "-fno-ipa-pta",
	"-fipa-pure-const", "-fno-ipa-pure-const", "-fipa-ra", "-fno-ipa-ra", "-fipa-reference",
	"-fno-ipa-reference", "-fipa-reference-addressable", "-fno-ipa-reference-addressable",
	"-fipa-sra", "-fno-ipa-sra", "-fipa-stack-alignment", "-fno-ipa-stack-alignment",
	"-fipa-strict-aliasing", "-fno-ipa-strict-aliasing", "-fipa-vrp", "-fno-ipa-vrp",
	"-fira-hoist-pressure", "-fno-ira-hoist-pressure", "-fira-loop-pressure",
	"-fno-ira-loop-pressure", "-fira-share-save-slots", "-fno-ira-share-save-slots",
	"-fira-share-spill-slots", "-fno-ira-share-spill-slots", "-flimit-function-alignment",
	"-fno-limit-function-alignment", "-flive-range-shrinkage", "-fno-live-range-shrinkage",
	"-floop-block", "-fno-loop-block", "-floop-interchange", "-fno-loop-interchange",
	"-floop-nest-optimize", "-fno-loop-nest-optimize", "-floop-parallelize-all",
	"-fno-loop-parallelize-all", "-floop-strip-mine", "-fno-loop-strip-mine", "-floop-unroll-and-jam",
	"-fno-loop-unroll-and-jam", "-flra-remat", "-fno-lra-remat", "-fmove-loop-invariants",
	"-fno-move-loop-invariants", "-fmove-loop-stores", "-fno-move-loop-stores", "-foptimize-strlen",
	"-fno-optimize-strlen", "-fpartial-inlining", "-fno-partial-inlining", "-fpeephole",
	"-fno-peephole", "-fpeephole2", "-fno-peephole2", "-fpredictive-commoning",
	"-fno-predictive-commoning", "-free", "-fno-ree", "-freorder-blocks-and-partition",
	"-fno-reorder-blocks-and-partition", "-freorder-functions", "-fno-reorder-functions",
	"-frerun-cse-after-loop", "-fno-rerun-cse-after-loop", "-freschedule-modulo-scheduled-loops",
	"-fno-reschedule-modulo-scheduled-loops", "-fsched-critical-path-heuristic",
	"-fno-sched-critical-path-heuristic", "-fsched-dep-count-heuristic",
	"-fno-sched-dep-count-heuristic", "-fsched-group-heuristic", "-fno-sched-group-heuristic",
	"-fno-sched-interblock", "-fsched-last-insn-heuristic", "-fno-sched-last-insn-heuristic",
	"-fsched-pressure", "-fno-sched-pressure", "-fsched-rank-heuristic", "-fno-sched-rank-heuristic",
	"-fsched-spec", "-fno-sched-spec", "-fsched-spec-insn-heuristic",
	"-fno-sched-spec-insn-heuristic", "-fsched-spec-load", "-fno-sched-spec-load",
	"-fsched-spec-load-dangerous", "-fno-sched-spec-load-dangerous", "-fsched-stalled-insns",
	"-fno-sched-stalled-insns", "-fsched-stalled-insns-dep", "-fno-sched-stalled-insns-dep",
	"-fsched2-use-superblocks", "-fno-sched2-use-superblocks", "-fschedule-fusion",
	"-fno-schedule-fusion", "-fsection-anchors", "-fno-section-anchors", "-fsel-sched-pipelining",
	"-fno-sel-sched-pipelining", "-fsel-sched-pipelining-outer-loops",
	"-fno-sel-sched-pipelining-outer-loops", "-fsel-sched-reschedule-pipelined",
	"-fno-sel-sched-reschedule-pipelined", "-fselective-scheduling", "-fno-selective-scheduling",
	"-fselective-scheduling2", "-fno-selective-scheduling2", "-fshrink-wrap", "-fno-shrink-wrap",
	"-fshrink-wrap-separate", "-fno-shrink-wrap-separate", "-fsplit-ivs-in-unroller",
	"-fno-split-ivs-in-unroller", "-fsplit-loops", "-fno-split-loops", "-fsplit-paths",
	"-fno-split-paths", "-fsplit-wide-types", "-fno-split-wide-types", "-fsplit-wide-types-early",
	"-fno-split-wide-types-early", "-fssa-backprop", "-fno-ssa-backprop", "-fssa-phiopt",
	"-fno-ssa-phiopt", "-fstdarg-opt", "-fno-stdarg-opt", "-fstore-merging", "-fno-store-merging",
	"-fthread-jumps", "-fno-thread-jumps", "-ftoplevel-reorder", "-fno-toplevel-reorder",
	"-ftree-bit-ccp", "-fno-tree-bit-ccp", "-ftree-builtin-call-dce", "-fno-tree-builtin-call-dce",
	"-ftree-ccp", "-fno-tree-ccp", "-ftree-ch", "-fno-tree-ch", "-ftree-coalesce-vars",
	"-fno-tree-coalesce-vars", "-ftree-copy-prop", "-fno-tree-copy-prop", "-ftree-cselim",
	"-fno-tree-cselim", "-ftree-dominator-opts", "-fno-tree-dominator-opts", "-ftree-dse",
	"-fno-tree-dse", "-ftree-forwprop", "-fno-tree-forwprop", "-ftree-fre", "-fno-tree-fre",
	"-ftree-loop-distribute-patterns", "-fno-tree-loop-distribute-patterns",
	"-ftree-loop-distribution", "-fno-tree-loop-distribution", "-ftree-loop-if-convert",
	"-fno-tree-loop-if-convert", "-ftree-loop-im", "-fno-tree-loop-im", "-ftree-loop-ivcanon",
	"-fno-tree-loop-ivcanon", "-ftree-loop-optimize", "-fno-tree-loop-optimize",
	"-ftree-loop-vectorize", "-fno-tree-loop-vectorize", "-ftree-partial-pre",
	"-fno-tree-partial-pre", "-ftree-phiprop", "-fno-tree-phiprop", "-ftree-pre", "-fno-tree-pre",
	"-ftree-pta", "-fno-tree-pta", "-ftree-reassoc", "-fno-tree-reassoc", "-ftree-scev-cprop",
	"-fno-tree-scev-cprop", "-ftree-sink", "-fno-tree-sink", "-ftree-slsr", "-fno-tree-slsr",
	"-ftree-sra", "-fno-tree-sra", "-ftree-switch-conversion", "-fno-tree-switch-conversion",
	"-ftree-tail-merge", "-fno-tree-tail-merge", "-funconstrained-commons",
	"-fno-unconstrained-commons", "-fversion-loops-for-strides", "-fno-version-loops-for-strides",
	"-fvpt", "-fno-vpt", "-flive-patching",
}

// gccFlagsClang are such switches that only clang accepts.
var gccFlagsClang = []string{
	"-funique-section-names", "-fno-unique-section-names", "-finstrument-functions-after-inlining",
	"-faddrsig", "-fno-addrsig", "-fblocks", "-fno-blocks", "-fborland-extensions",
	"-fno-borland-extensions", "-fcomplete-member-pointers", "-fno-complete-member-pointers",
	"-fcxx-exceptions", "-fno-cxx-exceptions", "-fdebug-info-for-profiling",
	"-fno-debug-info-for-profiling", "-fdebug-macro", "-fno-debug-macro",
	"-fdebug-ranges-base-address", "-fno-debug-ranges-base-address", "-fdeclspec", "-fno-declspec",
	"-fdelayed-template-parsing", "-fno-delayed-template-parsing", "-fdiagnostics-absolute-paths",
	"-fdiagnostics-fixit-info", "-fno-diagnostics-fixit-info",
	"-fdiagnostics-print-source-range-info", "-fdiagnostics-show-hotness",
	"-fno-diagnostics-show-hotness", "-fdiagnostics-show-note-include-stack",
	"-fno-diagnostics-show-note-include-stack", "-fdigraphs", "-fno-digraphs",
	"-fdirect-access-external-data", "-fno-direct-access-external-data", "-fdiscard-value-names",
	"-fno-discard-value-names", "-fdouble-square-bracket-attributes",
	"-fno-double-square-bracket-attributes", "-femulated-tls", "-fno-emulated-tls",
	"-fforce-dwarf-frame", "-fno-force-dwarf-frame", "-fforce-emit-vtables",
	"-fno-force-emit-vtables", "-fforce-enable-int128", "-fno-force-enable-int128",
	"-fgnu-inline-asm", "-fno-gnu-inline-asm", "-fglobal-isel", "-fno-global-isel", "-fintegrated-as",
	"-fno-integrated-as", "-fintegrated-cc1", "-fno-integrated-cc1", "-flegacy-pass-manager",
	"-fno-legacy-pass-manager", "-fexperimental-new-pass-manager", "-fms-compatibility",
	"-fno-ms-compatibility", "-fnew-infallible", "-fno-new-infallible", "-fobjc-arc", "-fno-objc-arc",
	"-fobjc-arc-exceptions", "-fno-objc-arc-exceptions", "-fobjc-weak", "-fno-objc-weak",
	"-fopenmp-extensions", "-fno-openmp-extensions", "-fpascal-strings", "-fno-pascal-strings",
	"-fpreserve-as-comments", "-fno-preserve-as-comments", "-fpseudo-probe-for-profiling",
	"-fno-pseudo-probe-for-profiling", "-fregister-global-dtors-with-atexit",
	"-fno-register-global-dtors-with-atexit", "-frelaxed-template-template-args",
	"-fno-relaxed-template-template-args", "-frtti-data", "-fno-rtti-data", "-fshow-source-location",
	"-fno-show-source-location", "-fslp-vectorize", "-fno-slp-vectorize", "-fspell-checking",
	"-fno-spell-checking", "-fsplit-dwarf-inlining", "-fno-split-dwarf-inlining", "-fsplit-lto-unit",
	"-fno-split-lto-unit", "-fsplit-machine-functions", "-fno-split-machine-functions",
	"-fstack-size-section", "-fno-stack-size-section", "-fstandalone-debug", "-fno-standalone-debug",
	"-flimit-debug-info", "-fno-limit-debug-info", "-fstrict-float-cast-overflow",
	"-fno-strict-float-cast-overflow", "-fstrict-return", "-fno-strict-return",
	"-fstrict-vtable-pointers", "-fno-strict-vtable-pointers", "-funique-basic-block-section-names",
	"-fno-unique-basic-block-section-names", "-funique-internal-linkage-names",
	"-fno-unique-internal-linkage-names", "-fuse-init-array", "-fno-use-init-array", "-fvectorize",
	"-fno-vectorize", "-fvirtual-function-elimination", "-fno-virtual-function-elimination",
	"-fwhole-program-vtables", "-fno-whole-program-vtables", "-fwritable-strings",
	"-fassume-sane-operator-new", "-fno-assume-sane-operator-new", "-fconstant-cfstrings",
	"-fno-constant-cfstrings", "-fautolink", "-fno-autolink", "-fapple-pragma-pack",
	"-fno-apple-pragma-pack", "-fc++-static-destructors", "-fno-c++-static-destructors",
	"-fno-fixed-point", "-ffine-grained-bitfield-accesses", "-fno-fine-grained-bitfield-accesses",
	"-fexperimental-relative-c++-abi-vtables", "-fno-experimental-relative-c++-abi-vtables",
	"-ftrigraphs", "-fno-trigraphs", "-fcaret-diagnostics", "-fno-caret-diagnostics", "-fapprox-func",
	"-fno-approx-func", "-freroll-loops", "-fno-reroll-loops", "-fcoroutines-ts",
	"-fno-coroutines-ts", "-fmodules-decluse", "-fno-modules-decluse",
	"-fvisibility-inlines-hidden-static-local-var", "-fno-visibility-inlines-hidden-static-local-var",
	"-fvisibility-global-new-delete-hidden", "-fmemory-profile", "-fno-memory-profile",
	"-fopenmp-implicit-rpath", "-fno-openmp-implicit-rpath", "-frtlib-add-rpath",
	"-fno-rtlib-add-rpath", "-fno-temp-file", "-fminimize-whitespace", "-fno-minimize-whitespace",
	"-fuse-line-directives", "-fno-use-line-directives",
}

// gccValuesBoth are -f options with a glued argument (-fNAME=value) that gcc
// and clang both accept and that only change code generation, language rules
// or diagnostics.
var gccValuesBoth = []string{
	"-falign-functions=", "-falign-jumps=", "-falign-labels=", "-falign-loops=", "-faligned-new=",
	"-fcf-protection=", "-fconstexpr-depth=", "-fdiagnostics-color=", "-fdiagnostics-format=",
	"-fdiagnostics-show-location=", "-fexcess-precision=", "-fexec-charset=", "-ffp-contract=",
	"-fmax-errors=", "-fmessage-length=", "-fpatchable-function-entry=", "-frandom-seed=",
	"-ftabstop=", "-ftemplate-depth=", "-ftls-model=", "-ftrivial-auto-var-init=", "-fvisibility=",
	"-fobjc-abi-version=", "-ffixed-", "-fno-builtin-",
}

// gccValuesGCC are such options that only gcc accepts.
var gccValuesGCC = []string{
	"-fabi-version=", "-fabi-compat-version=", "-fchecking=", "-fconstexpr-loop-limit=",
	"-fconstexpr-ops-limit=", "-fconstexpr-cache-depth=", "-fconcepts-diagnostics-depth=",
	"-fdiagnostics-column-origin=", "-fdiagnostics-column-unit=", "-fdiagnostics-escape-format=",
	"-fdiagnostics-minimum-margin-width=", "-fdiagnostics-path-format=", "-fdiagnostics-urls=",
	"-fwide-exec-charset=", "-finline-limit=", "-fira-algorithm=", "-fira-region=", "-flifetime-dse=",
	"-flive-patching=", "-flto-partition=", "-flto-compression-level=", "-fpack-struct=",
	"-fpermitted-flt-eval-methods=", "-freorder-blocks-algorithm=", "-fsched-stalled-insns=",
	"-fsched-stalled-insns-dep=", "-fsimd-cost-model=", "-fvect-cost-model=", "-fstack-check=",
	"-fstack-limit-register=", "-fstack-limit-symbol=", "-fstack-reuse=", "-fzero-call-used-regs=",
	"-fstrong-eval-order=", "-fobjc-std=", "-fcall-saved-", "-fcall-used-", "-femit-struct-debug-",
	"-fsched-verbose=", "-fira-verbose=", "-fopenacc-dim=",
}

// gccTable is the index of the main gcc-style option table.
var gccTable *gccOptionTable // built by buildGCCTables

// gccMainRows is gccRows plus one code-generation row for every switch in the
// flag lists.
func gccMainRows() []gccRow {
	rows := append([]gccRow(nil), gccRows...)
	for _, list := range []struct {
		names []string
		flags optFlag
		only  Family
	}{
		{gccFlagsBoth, 0, FamilyUnknown},
		{gccFlagsGCC, 0, FamilyGCC},
		{gccFlagsClang, 0, FamilyClang},
		{gccValuesBoth, gCat, FamilyUnknown},
		{gccValuesGCC, gCat, FamilyGCC},
	} {
		for _, n := range list.names {
			rows = append(rows, gccRow{name: n, flags: list.flags, only: list.only})
		}
	}
	return rows
}

// gccCPPRows are the options whose meaning differs in the preprocessor's own
// syntax, as seen through -Wp, and -Xpreprocessor: there -MD and -MMD take the
// dependency file as their argument (gcc manual, "-Wp,-MD,file"). Other
// options seen there are looked up in gccRows.
var gccCPPRows = []gccRow{
	{name: "-MD", flags: gSep | gPath | gDeps, role: gccRoleCPPDeps},
	{name: "-MMD", flags: gSep | gPath | gDeps, role: gccRoleCPPDeps},
}

// gccCPPTable is the index of gccCPPRows.
var gccCPPTable *gccOptionTable // built by buildGCCTables

// gccXclangRows describe the options dcc accepts after -Xclang (arguments for
// clang's compiler proper); anything else after -Xclang runs unchanged.
var gccXclangRows = []gccRow{
	{name: "-load", flags: gSep | gPath | gLocal, reason: "-Xclang -load: " + reasonPlugin},
	{name: "-add-plugin", flags: gSep | gLocal, reason: "-Xclang -add-plugin: " + reasonPlugin},
	{name: "-plugin", flags: gSep | gLocal, reason: "-Xclang -plugin: " + reasonPlugin},
	{name: "-plugin-arg-", flags: gCat | gSep | gLocal, role: gccRoleTakesNext, reason: "-Xclang -plugin-arg: " + reasonPlugin},
	{name: "-emit-pch", flags: gLocal, reason: "-Xclang -emit-pch: " + reasonPCH},
	{name: "-include-pch", flags: gSep | gLocal, reason: "-Xclang -include-pch: " + reasonPCH},
	{name: "-fno-validate-pch", flags: gLocal, reason: "-Xclang -fno-validate-pch: " + reasonPCH},
	{name: "-fno-pch-timestamp"},
	{name: "-main-file-name", flags: gSep | gLocal, reason: "-Xclang -main-file-name: changes the recorded source name"},
	{name: "-include", flags: gSep | gPath | gCPP, role: gccRoleInclude},
	{name: "-fcolor-diagnostics"},
	{name: "-fno-color-diagnostics"},
	{name: "-fdebug-compilation-dir", flags: gSep, role: gccRoleCompDir},
	{name: "-fdebug-compilation-dir=", flags: gCat, role: gccRoleCompDir},
	{name: "-fdebug-prefix-map=", flags: gCat, role: gccRolePrefixMap},
	{name: "-mllvm", flags: gSep},
	{name: "-target-feature", flags: gSep},
	{name: "-target-cpu", flags: gSep},
	{name: "-mrelax-all"},
	{name: "-disable-llvm-passes"},
	{name: "-disable-llvm-optzns"},
	{name: "-disable-O0-optnone"},
	{name: "-fexperimental-", flags: gCat},
	{name: "-W", flags: gCat},
	{name: "-ast-", flags: gCat | gLocal, reason: "-Xclang -ast-*: " + reasonNotObject},
	{name: "-fdump-", flags: gCat | gLocal, reason: "-Xclang -fdump-*: " + reasonDumps},
}

// gccXclangTable is the index of gccXclangRows.
var gccXclangTable *gccOptionTable // built by buildGCCTables

// gccAssemblerRows describe the assembler options dcc accepts in -Wa,... and
// -Xassembler; listings and dependency output (distcc's and icecream's rule:
// "-Wa,-a..." and "-Wa,--MD" must be local) and include paths run unchanged.
var gccAssemblerRows = []gccRow{
	{name: "--noexecstack"},
	{name: "--execstack"},
	{name: "--compress-debug-sections", flags: gCat},
	{name: "--nocompress-debug-sections"},
	{name: "--gdwarf", flags: gCat},
	{name: "--gen-debug"},
	{name: "-g"},
	{name: "--fatal-warnings"},
	{name: "--warn"},
	{name: "--no-warn"},
	{name: "-W"},
	{name: "--32"},
	{name: "--64"},
	{name: "--x32"},
	{name: "-EL"},
	{name: "-EB"},
	{name: "-m", flags: gCat},
	{name: "-O", flags: gCat},
	{name: "-Q", flags: gCat},
	{name: "-n"},
	{name: "--defsym", flags: gSep},
	{name: "--generate-missing-build-notes=", flags: gCat},
	{name: "--elf-stt-common=", flags: gCat},
	{name: "--size-check=", flags: gCat},
	{name: "--strip-local-absolute"},
	{name: "--reduce-memory-overheads"},
	{name: "--no-pad-sections"},
	{name: "--sectname-subst"},
	{name: "--divide"},
	{name: "-a", flags: gCat | gLocal, reason: "-Wa,-a: writes an assembler listing"},
	{name: "--MD", flags: gSep | gLocal, reason: "-Wa,--MD: the assembler writes a dependency file"},
	{name: "-I", flags: gBoth | gPath | gLocal, reason: "-Wa,-I: the assembler reads include files preprocessing does not capture"},
	{name: "-o", flags: gSep | gLocal, reason: "-Wa,-o: the assembler's output is redirected"},
}

// gccAssemblerTable is the index of gccAssemblerRows.
var gccAssemblerTable *gccOptionTable // built by buildGCCTables

// gccOptionTable is an optionTable with the gcc-specific column of each row.
type gccOptionTable struct {
	*optionTable
	// rows maps a row's name to its full description.
	rows map[string]gccRow
}

// newGCCTable indexes rows. A name listed twice, a local or cache-only row
// without a reason, or a row restricted to a family other than gcc or clang is
// a programming error and panics, as newOptionTable does for duplicates.
func newGCCTable(rows []gccRow) *gccOptionTable {
	t := &gccOptionTable{rows: make(map[string]gccRow, len(rows))}
	opts := make([]option, 0, len(rows))
	for _, r := range rows {
		if r.flags&(optLocal|optCacheOnly) != 0 && r.reason == "" {
			panic("toolchain: option row without a reason: " + r.name)
		}
		if r.only != FamilyUnknown && r.only != FamilyGCC && r.only != FamilyClang {
			panic("toolchain: option row for family " + string(r.only) + ": " + r.name)
		}
		opts = append(opts, option{name: r.name, flags: r.flags, reason: r.reason})
		t.rows[r.name] = r
	}
	t.optionTable = newOptionTable(opts)
	return t
}

// find returns the full row describing arg for a compiler of family fam, and
// the argument glued to it. ok is false when no row matches or the row belongs
// to the other family.
func (t *gccOptionTable) find(arg string, fam Family) (row gccRow, glued string, ok bool) {
	o, glued, found := t.lookup(arg)
	if !found {
		return gccRow{}, "", false
	}
	row = t.rows[o.name]
	if row.only != FamilyUnknown && row.only != fam {
		return gccRow{}, "", false
	}
	return row, glued, true
}

// buildGCCTables indexes the gcc-style option tables. It runs once, on the
// first classification (see loadTables), so that starting dcc as a plain
// pass-through wrapper pays nothing for tables it does not read.
func buildGCCTables() {
	gccTable = newGCCTable(gccMainRows())
	gccCPPTable = newGCCTable(gccCPPRows)
	gccXclangTable = newGCCTable(gccXclangRows)
	gccAssemblerTable = newGCCTable(gccAssemblerRows)
}
