package toolchain

import (
	"strings"
)

// CompilerName is what a compiler's file name says about it: "x86_64-linux-gnu-g++-12"
// is the g++ driver of the gcc family, for target x86_64-linux-gnu, version 12.
type CompilerName struct {
	// Family is the command-line syntax the driver uses.
	Family Family
	// Driver is the driver's base name without target prefix, version or ".exe":
	// "gcc", "g++", "cc", "c++", "clang", "clang++", "clang-cl" or "cl".
	Driver string
	// CXX is true for drivers that compile every source as C++ and link the C++
	// runtime (g++, c++, clang++).
	CXX bool
	// Target is the target-triple prefix of the name, if any ("arm-linux-gnueabihf").
	Target string
	// Version is the version suffix of the name, if any ("12", "14.0").
	Version string
}

// drivers lists the compiler driver names dcc recognises, longest first so that
// "clang-cl" is found before "cl" and "clang++" before "clang".
var drivers = []struct {
	name   string
	family Family
	cxx    bool
}{
	{"clang-cl", FamilyMSVC, false},
	{"clang++", FamilyClang, true},
	{"clang", FamilyClang, false},
	{"gcc", FamilyGCC, false},
	{"g++", FamilyGCC, true},
	{"c++", FamilyGCC, true},
	{"cc", FamilyGCC, false},
	{"cl", FamilyMSVC, false},
}

// threadVariants are the thread-model suffixes of Debian's mingw-w64 drivers.
var threadVariants = []string{"-posix", "-win32"}

// versionSuffixStart returns where a version suffix ("-12", "-14.0.6":
// a dash, then numbers joined by dots) starts at the end of stem, or -1. It
// is written out rather than a regular expression, whose compilation would
// cost every wrapper start.
func versionSuffixStart(stem string) int {
	dash := strings.LastIndexByte(stem, '-')
	if dash < 0 || dash == len(stem)-1 {
		return -1
	}
	prevDot := true // a number must start right after the dash or a dot
	for _, c := range stem[dash+1:] {
		switch {
		case c >= '0' && c <= '9':
			prevDot = false
		case c == '.' && !prevDot:
			prevDot = true
		default:
			return -1
		}
	}
	if prevDot {
		return -1 // ends with a dot
	}
	return dash
}

// ParseCompilerName reads a compiler's path or name ("gcc", "/usr/bin/clang++-14",
// `C:\VC\bin\cl.exe`) and says which driver it names. ok is false for names that are
// not a known compiler driver.
func ParseCompilerName(path string) (name CompilerName, ok bool) {
	base := path
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if len(base) > 4 && strings.EqualFold(base[len(base)-4:], ".exe") {
		// Windows file names are case-insensitive: CL.EXE is cl.exe.
		base = strings.ToLower(base[:len(base)-4])
	}
	stem := base
	for _, variant := range threadVariants {
		// Debian's mingw cross compilers come as x86_64-w64-mingw32-gcc-posix and -win32.
		if t, ok := strings.CutSuffix(stem, variant); ok && t != "" {
			stem = t
			break
		}
	}
	if at := versionSuffixStart(stem); at > 0 {
		name.Version = stem[at+1:]
		stem = stem[:at]
	}
	for _, d := range drivers {
		if !strings.HasSuffix(stem, d.name) {
			continue
		}
		prefix := stem[:len(stem)-len(d.name)]
		if prefix != "" && (len(prefix) < 2 || !strings.HasSuffix(prefix, "-") || prefix[0] == '-') {
			continue // "xgcc", "-gcc" or "--gcc" is not a target-prefixed driver
		}
		name.Family, name.Driver, name.CXX = d.family, d.name, d.cxx
		name.Target = strings.TrimSuffix(prefix, "-")
		return name, true
	}
	return CompilerName{}, false
}

// IsCompilerName reports whether a program name (argv[0]) names a compiler
// driver dcc stands in for when it is started through a masquerade link.
func IsCompilerName(path string) bool {
	_, ok := ParseCompilerName(path)
	return ok
}
