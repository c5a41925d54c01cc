package toolchain

import "strings"

// gccExtensions maps a source file's extension to its language in gcc's -x
// spelling (gcc manual, "Options Controlling the Kind of Output"). Extensions
// not listed are not sources dcc compiles.
var gccExtensions = map[string]string{
	"c": "c", "i": "cpp-output", "h": "c-header",
	"cc": "c++", "cp": "c++", "cxx": "c++", "cpp": "c++", "CPP": "c++", "c++": "c++", "C": "c++",
	"ii": "c++-cpp-output",
	"hh": "c++-header", "H": "c++-header", "hp": "c++-header", "hxx": "c++-header",
	"hpp": "c++-header", "HPP": "c++-header", "h++": "c++-header", "tcc": "c++-header",
	"m": "objective-c", "mi": "objective-c-cpp-output",
	"mm": "objective-c++", "M": "objective-c++", "mii": "objective-c++-cpp-output",
	"s": "assembler", "S": "assembler-with-cpp", "sx": "assembler-with-cpp",
}

// gccCXXLanguages is how the C++ drivers (g++, c++, clang++) read the C
// extensions: "g++ ... treats .c, .h and .i files as C++ source files instead
// of C source files unless -x is used" (gcc manual, "Compiling C++ Programs").
var gccCXXLanguages = map[string]string{
	"c": "c++", "cpp-output": "c++-cpp-output", "c-header": "c++-header",
}

// gccLanguage describes what dcc does with one source language.
type gccLanguage struct {
	// compileAs is the -x language of the language's preprocessed text.
	compileAs string
	// ext is the extension of preprocessed text (".i" for C).
	ext string
	// preprocessed is true when the source already is preprocessed text.
	preprocessed bool
	// local, when set, is why sources of this language run unchanged.
	local string
}

// gccLanguages lists every -x language dcc recognises. A language not listed
// ("f95", "ada", "cuda", "go", ...) runs unchanged.
var gccLanguages = map[string]gccLanguage{
	"c":                        {compileAs: "cpp-output", ext: ".i"},
	"c++":                      {compileAs: "c++-cpp-output", ext: ".ii"},
	"objective-c":              {compileAs: "objective-c-cpp-output", ext: ".mi"},
	"objective-c++":            {compileAs: "objective-c++-cpp-output", ext: ".mii"},
	"assembler-with-cpp":       {compileAs: "assembler", ext: ".s"},
	"cpp-output":               {compileAs: "cpp-output", preprocessed: true},
	"c++-cpp-output":           {compileAs: "c++-cpp-output", preprocessed: true},
	"objective-c-cpp-output":   {compileAs: "objective-c-cpp-output", preprocessed: true},
	"objective-c++-cpp-output": {compileAs: "objective-c++-cpp-output", preprocessed: true},
	"assembler":                {local: "assembler source is not preprocessed, and .include reads files dcc cannot see"},
	"c-header":                 {local: "generates a precompiled header"},
	"c++-header":               {local: "generates a precompiled header"},
	"objective-c-header":       {local: "generates a precompiled header"},
	"objective-c++-header":     {local: "generates a precompiled header"},
	"c-header-cpp-output":      {local: "generates a precompiled header"},
	"c++-header-cpp-output":    {local: "generates a precompiled header"},
}

// gccSourceLanguage is the language a driver compiles input in: the -x in
// force, else the extension as the driver reads it. The empty string means the
// extension names no source language.
func gccSourceLanguage(in gccInput, cxx bool) string {
	if in.lang != "" {
		return in.lang
	}
	lang := gccExtensions[gccExt(in.name)]
	if cxx {
		if l, ok := gccCXXLanguages[lang]; ok {
			return l
		}
	}
	return lang
}

// gccExt is the extension of a file name without its dot ("" when none).
func gccExt(name string) string {
	base := gccBase(name)
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		return base[i+1:]
	}
	return ""
}

// gccBase is the last element of a path as written.
func gccBase(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}

// gccReplaceExt replaces the extension of the last element of p with ext, or
// appends ext when there is none. leadingDot says whether a name starting with
// a dot (".b") counts as all extension, as it does for clang's names and gcc's
// dependency file, but not for gcc's auxiliary files.
func gccReplaceExt(p, ext string, leadingDot bool) string {
	slash := strings.LastIndexByte(p, '/') + 1
	dir, base := p[:slash], p[slash:]
	if i := strings.LastIndexByte(base, '.'); i > 0 || (i == 0 && leadingDot) {
		base = base[:i]
	}
	return dir + base + ext
}

// gccAuxName is the name gcc or clang gives an auxiliary output (.dwo, .gcno,
// .su): the object's name with its extension replaced. Both drivers derive it
// from -o when given, else from the source's base name in the working
// directory, which is what the object's name already says.
func gccAuxName(fam Family, object, ext string) string {
	return gccReplaceExt(object, ext, fam == FamilyClang)
}
