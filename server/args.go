package server

import (
	"regexp"
	"strings"

	"github.com/dcc-build/dcc/protocol"
)

// The compile arguments a client may send are code-generation options only:
// nothing that names a file or directory, runs another program, loads code
// into the compiler, or writes anything but the object the server asked for.
// argRules is the table CheckArgs reads, first matching row first; an
// argument no row matches is refused.

// argVerdict is what a rule decides.
type argVerdict uint8

const (
	argAllow argVerdict = iota // allowed as it is
	argDeny                    // refused with the rule's reason
	argNext                    // allowed with the next argument, which check validates
)

// argRule is one row of the allow-list.
type argRule struct {
	// name is the option, or its prefix when prefix is set.
	name   string
	prefix bool
	// verdict decides the argument (or the pair, for argNext).
	verdict argVerdict
	// check validates an allowed argument's value: the text after name for a
	// prefix row, or the next argument for argNext. nil accepts anything.
	check func(value string) string
	// reason explains a refusal.
	reason string
}

// Reasons shared by several rows.
const (
	whyFile     = "names a file or directory"
	whyServer   = "the server sets it"
	whyProgram  = "runs or loads another program"
	whyOutput   = "writes a file besides the object"
	whyPassthru = "passes options to another program unchecked"
	whyHost     = "depends on the compile host's CPU"
)

var (
	// optLevelRE matches the optimisation levels.
	optLevelRE = regexp.MustCompile(`^-O([0-9]+|s|z|g|fast)?$`)
	// plainValueRE matches values that are words, numbers and lists of them.
	plainValueRE = regexp.MustCompile(`^[A-Za-z0-9_.,+:-]*$`)
	// paramRE matches a --param value: name=value.
	paramRE = regexp.MustCompile(`^[A-Za-z0-9_-]+=[A-Za-z0-9_.-]+$`)
)

// plainValue accepts values without path separators or other punctuation.
func plainValue(v string) string {
	if !plainValueRE.MatchString(v) {
		return "its value is not a plain word or number"
	}
	return ""
}

// optionValue checks the rest of an option such as "fvisibility=hidden"
// after its one-letter prefix: a name, and a plain value after '='.
func optionValue(v string) string {
	if name, val, ok := strings.Cut(v, "="); ok {
		if why := plainValue(name); why != "" {
			return why
		}
		return plainValue(val)
	}
	return plainValue(v)
}

// notNative refuses -march=native and friends.
func notNative(v string) string {
	if v == "native" || strings.HasPrefix(v, "native") {
		return whyHost
	}
	return plainValue(v)
}

// prefixMapValue accepts OLD=NEW of the -f*-prefix-map options: strings
// the compiler writes into debug information, never files it opens.
func prefixMapValue(v string) string {
	if !strings.Contains(v, "=") {
		return "want OLD=NEW"
	}
	return ""
}

// argRules is the allow-list, read in order.
var argRules = []argRule{
	// What the server decides itself.
	{name: "-o", prefix: true, verdict: argDeny, reason: whyServer + " (the output)"},
	{name: "-x", prefix: true, verdict: argDeny, reason: whyServer + " (the language)"},
	{name: "-c", verdict: argDeny, reason: whyServer},
	{name: "-S", verdict: argDeny, reason: "the server compiles to an object"},
	{name: "-E", verdict: argDeny, reason: "the server compiles to an object"},
	{name: "-fsyntax-only", verdict: argDeny, reason: "the server compiles to an object"},
	// Files, directories and other programs.
	{name: "-I", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-i", prefix: true, verdict: argDeny, reason: whyFile}, // -include, -isystem, -isysroot, -iplugindir, ...
	{name: "-B", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-L", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-l", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-specs", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "--specs", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "--sysroot", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-M", prefix: true, verdict: argDeny, reason: whyOutput + " (dependencies are the client's)"},
	{name: "-save-temps", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "--save-temps", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-dump", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-aux-info", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-d", prefix: true, verdict: argDeny, reason: whyOutput + " (compiler dumps)"},
	{name: "-wrapper", verdict: argDeny, reason: whyProgram},
	{name: "-X", prefix: true, verdict: argDeny, reason: whyPassthru}, // -Xclang, -Xassembler, -Xlinker, -Xpreprocessor
	{name: "-Wa,", prefix: true, verdict: argDeny, reason: whyPassthru},
	{name: "-Wl,", prefix: true, verdict: argDeny, reason: whyPassthru},
	{name: "-Wp,", prefix: true, verdict: argDeny, reason: whyPassthru},
	{name: "-mllvm", verdict: argDeny, reason: whyPassthru},
	// -f options: allowed unless they load code, read or write files.
	{name: "-fplugin", prefix: true, verdict: argDeny, reason: whyProgram},
	{name: "-fpass-plugin", prefix: true, verdict: argDeny, reason: whyProgram},
	{name: "-fuse-ld", prefix: true, verdict: argDeny, reason: whyProgram},
	{name: "-fprofile-prefix-map=", prefix: true, verdict: argAllow, check: prefixMapValue},
	{name: "-fprofile", prefix: true, verdict: argDeny, reason: "profile data is read or written as files"},
	{name: "-fauto-profile", prefix: true, verdict: argDeny, reason: "profile data is read as a file"},
	{name: "-fcs-profile", prefix: true, verdict: argDeny, reason: "profile data is written as files"},
	{name: "-fcoverage", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-ftest-coverage", verdict: argDeny, reason: whyOutput},
	{name: "--coverage", verdict: argDeny, reason: whyOutput},
	{name: "-fdump-", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fcallgraph-info", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fstack-usage", verdict: argDeny, reason: whyOutput},
	{name: "-fsave-optimization-record", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-foptimization-record-", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fdeps-", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fdepfile", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fopt-info", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-ftime-trace", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fproc-stat-report", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fcompare-debug", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fdiagnostics-add-output", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fdiagnostics-set-output", prefix: true, verdict: argDeny, reason: whyOutput},
	{name: "-fdiagnostics-format=", prefix: true, verdict: argAllow, check: func(v string) string {
		if strings.HasSuffix(v, "-file") {
			return whyOutput
		}
		return plainValue(v)
	}},
	{name: "-fmodule", prefix: true, verdict: argDeny, reason: whyFile}, // -fmodules, -fmodule-file=, -fmodule-map-file=, ...
	{name: "-fimplicit-module", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fprebuilt-module", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fcrash-diagnostics", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-frewrite-map-file", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fthinlto-index", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fembed-offload-object", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fbasic-block-sections", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-flto-incremental", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fsanitize-blacklist", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fsanitize-ignorelist", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fsanitize-system-", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fsanitize-coverage-allowlist", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fsanitize-coverage-ignorelist", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fsanitize-coverage-blocklist", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fxray-always-instrument", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fxray-never-instrument", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fxray-attr-list", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fopenmp-host-ir-file-path", prefix: true, verdict: argDeny, reason: whyFile},
	{name: "-fsplit-dwarf", prefix: true, verdict: argAllow}, // -fsplit-dwarf-inlining: no file
	// Strings written into the object, never opened.
	{name: "-fdebug-prefix-map=", prefix: true, verdict: argAllow, check: prefixMapValue},
	{name: "-ffile-prefix-map=", prefix: true, verdict: argAllow, check: prefixMapValue},
	{name: "-fmacro-prefix-map=", prefix: true, verdict: argAllow, check: prefixMapValue},
	{name: "-fdebug-compilation-dir=", prefix: true, verdict: argAllow},
	{name: "-ffile-compilation-dir=", prefix: true, verdict: argAllow},
	{name: "-frandom-seed=", prefix: true, verdict: argAllow},
	{name: "-f", prefix: true, verdict: argAllow, check: optionValue},
	// Debug information: anything but split DWARF (a .dwo file), embedded
	// sources (read from files) and clang's module references.
	{name: "-gsplit-dwarf", prefix: true, verdict: argDeny, reason: whyOutput + " (.dwo)"},
	{name: "-gembed-source", verdict: argDeny, reason: "reads the sources as files"},
	{name: "-gmodules", verdict: argDeny, reason: whyFile},
	{name: "-g", prefix: true, verdict: argAllow, check: optionValue},
	// Machine options, but not tuned to this host's CPU.
	{name: "-march=", prefix: true, verdict: argAllow, check: notNative},
	{name: "-mtune=", prefix: true, verdict: argAllow, check: notNative},
	{name: "-mcpu=", prefix: true, verdict: argAllow, check: notNative},
	{name: "-m", prefix: true, verdict: argAllow, check: optionValue},
	// Warnings (the pass-through forms were refused above).
	{name: "-W", prefix: true, verdict: argAllow, check: optionValue},
	{name: "-w", verdict: argAllow},
	{name: "-std=", prefix: true, verdict: argAllow, check: plainValue},
	{name: "--std=", prefix: true, verdict: argAllow, check: plainValue},
	{name: "-ansi", verdict: argAllow},
	{name: "-pedantic", prefix: true, verdict: argAllow, check: plainValue},
	{name: "--pedantic", prefix: true, verdict: argAllow, check: plainValue},
	{name: "-pipe", verdict: argAllow},
	{name: "-pthread", verdict: argAllow},
	{name: "-pg", verdict: argAllow},
	{name: "-p", verdict: argAllow},
	{name: "--param=", prefix: true, verdict: argAllow, check: paramValue},
	{name: "--param", verdict: argNext, check: paramValue},
	{name: "-stdlib=", prefix: true, verdict: argAllow, check: plainValue},
	{name: "--stdlib=", prefix: true, verdict: argAllow, check: plainValue},
	{name: "-integrated-as", verdict: argAllow},
	{name: "-no-integrated-as", verdict: argAllow},
	{name: "--target=", prefix: true, verdict: argAllow, check: plainValue},
	{name: "-target", verdict: argNext, check: plainValue},
	// Macros do nothing to preprocessed text, but are harmless.
	{name: "-D", prefix: true, verdict: argAllow},
	{name: "-U", prefix: true, verdict: argAllow},
}

// paramValue checks a --param name=value.
func paramValue(v string) string {
	if !paramRE.MatchString(v) {
		return "want --param NAME=VALUE"
	}
	return ""
}

// CheckArgs checks a CompileRequest's arguments against the allow-list. The
// first argument refused is a *Refusal with code "forbidden-arg" naming it.
func CheckArgs(args []string) error {
	if len(args) > protocol.MaxArgs {
		return refuse(protocol.CodeForbiddenArg, "%d arguments, more than the %d allowed", len(args), protocol.MaxArgs)
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if strings.ContainsAny(arg, "\x00\n\r") {
			return refuse(protocol.CodeForbiddenArg, "argument %s refused: it contains a NUL or line break", quoteArg(arg))
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			return refuse(protocol.CodeForbiddenArg, "argument %s refused: %s (input files, response files and other operands are not sent)", quoteArg(arg), whyFile)
		}
		rule, value, ok := findRule(arg)
		if !ok {
			return refuse(protocol.CodeForbiddenArg, "argument %s refused: not a code-generation option this server allows", quoteArg(arg))
		}
		switch rule.verdict {
		case argDeny:
			return refuse(protocol.CodeForbiddenArg, "argument %s refused: %s", quoteArg(arg), rule.reason)
		case argNext:
			if i+1 >= len(args) {
				return refuse(protocol.CodeForbiddenArg, "argument %s refused: its value is missing", quoteArg(arg))
			}
			i++
			value = args[i]
			if strings.ContainsAny(value, "\x00\n\r") {
				return refuse(protocol.CodeForbiddenArg, "argument %s refused: it contains a NUL or line break", quoteArg(value))
			}
		}
		if rule.check != nil {
			if why := rule.check(value); why != "" {
				return refuse(protocol.CodeForbiddenArg, "argument %s refused: %s", quoteArg(arg), why)
			}
		}
	}
	return nil
}

// findRule returns the first rule matching arg and the value after its name.
func findRule(arg string) (argRule, string, bool) {
	if optLevelRE.MatchString(arg) {
		return argRule{name: arg, verdict: argAllow}, "", true
	}
	for _, r := range argRules {
		if r.prefix {
			if rest, ok := strings.CutPrefix(arg, r.name); ok {
				return r, rest, true
			}
		} else if arg == r.name {
			return r, "", true
		}
	}
	return argRule{}, "", false
}

// debugInfo reports whether args ask for debug information: the last
// debug-level option other than -g0 (or -ggdb0, -gdwarf-...) wins.
func debugInfo(args []string) bool {
	debug := false
	for _, a := range args {
		if !strings.HasPrefix(a, "-g") {
			continue
		}
		switch {
		case a == "-g0" || a == "-ggdb0" || a == "-gstabs0" || a == "-gxcoff0" || a == "-gvms0":
			debug = false
		case strings.HasPrefix(a, "-gno-") || strings.HasPrefix(a, "-gz") || a == "-gstrict-dwarf" ||
			a == "-gcolumn-info" || a == "-grecord-gcc-switches" || a == "-grecord-command-line" ||
			strings.HasPrefix(a, "-gdwarf32") || strings.HasPrefix(a, "-gdwarf64") || a == "-gpubnames" ||
			a == "-ggnu-pubnames" || a == "-gdescribe-dies" || a == "-gas-loc-support" ||
			a == "-gas-locview-support" || a == "-ginline-points" || a == "-gstatement-frontiers" ||
			a == "-gvariable-location-views" || a == "-ginternal-reset-location-views" || a == "-gtoggle":
			// Options on the form of debug information; they don't turn it on.
		default:
			debug = true
		}
	}
	return debug
}

// clientPrefixMaps returns the OLD=NEW pairs of the debug-info prefix maps
// in args, in order (-fdebug-prefix-map and -ffile-prefix-map share gcc's
// list).
func clientPrefixMaps(args []string) [][2]string {
	var maps [][2]string
	for _, a := range args {
		v, ok := strings.CutPrefix(a, "-fdebug-prefix-map=")
		if !ok {
			v, ok = strings.CutPrefix(a, "-ffile-prefix-map=")
		}
		if !ok {
			continue
		}
		if old, repl, ok := strings.Cut(v, "="); ok {
			maps = append(maps, [2]string{old, repl})
		}
	}
	return maps
}

// remapGCC applies gcc's prefix maps to path as gcc does: the last map whose
// OLD is a plain string prefix of path replaces it; only one applies.
func remapGCC(path string, maps [][2]string) string {
	for i := len(maps) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(path, maps[i][0]); ok {
			return maps[i][1] + rest
		}
	}
	return path
}

// hasCompilationDir reports whether args set clang's compilation directory.
func hasCompilationDir(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "-fdebug-compilation-dir=") || strings.HasPrefix(a, "-ffile-compilation-dir=") {
			return true
		}
	}
	return false
}
