package toolchain

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// msvcDriver is what classification needs to know about one MSVC-style driver:
// its option table and the few rules in which cl.exe and clang-cl differ.
type msvcDriver struct {
	// name is "cl" or "clang-cl".
	name string
	// table indexes the rows of msvcRows that belong to this driver; roles
	// gives the role of each row by name.
	table *optionTable
	roles map[string]msvcRole
	// separators are the characters that end a directory in a path: cl runs on
	// Windows ('\' and '/'); clang-cl uses its host's rules.
	separators string
	// slashPathsAreInputs: an argument starting with '/' that matches no
	// option is an input file (clang-cl on a POSIX host), not an unknown option.
	slashPathsAreInputs bool
	// languages maps a source extension to "c" or "c++"; foldCase compares
	// extensions case-insensitively.
	languages map[string]string
	foldCase  bool
	// preprocessExtra is added after /E in the preprocess command.
	preprocessExtra []string
	// windowsObjectNames applies cl's Windows-only object naming rules: an
	// existing directory named without a trailing separator, a trailing '.',
	// and the NUL device.
	windowsObjectNames bool
	// isDir reports whether path names an existing directory.
	isDir func(path string) bool
}

// The two drivers, built once from the table.
var (
	clDriver = &msvcDriver{
		name:               "cl",
		separators:         `\/`,
		languages:          clSourceLanguages,
		foldCase:           true,
		windowsObjectNames: true,
		isDir:              isDirectory,
	}
	clangCLDriver = &msvcDriver{
		name:                "clang-cl",
		separators:          hostSeparators(),
		slashPathsAreInputs: runtime.GOOS != "windows",
		languages:           clangCLSourceLanguages,
		// /E uses no code-generation option; with /WX clang-cl would turn its
		// "argument unused" warnings into errors.
		preprocessExtra: []string{"-Qunused-arguments"},
		isDir:           isDirectory,
	}
)

// buildMSVCTables indexes the MSVC-style option tables. It runs once, on the
// first classification (see loadTables).
func buildMSVCTables() {
	xclangTable = newOptionTable(xclangRows)
	clangDriverTable = newOptionTable(clangDriverRows)
	clDriver.table, clDriver.roles = buildMSVCTable(forCL)
	clangCLDriver.table, clangCLDriver.roles = buildMSVCTable(forClangCL)
}

// msvcDriverFor picks the driver a compiler name stands for. A name that says
// nothing (a family override on an unknown name) is treated as cl, whose rules
// are the stricter ones.
func msvcDriverFor(name CompilerName) *msvcDriver {
	if name.Driver == "clang-cl" {
		return clangCLDriver
	}
	return clDriver
}

// buildMSVCTable indexes the rows of msvcRows that belong to drivers.
func buildMSVCTable(drivers msvcDrivers) (*optionTable, map[string]msvcRole) {
	var rows []option
	roles := make(map[string]msvcRole)
	for _, r := range msvcRows {
		if r.drivers&drivers == 0 {
			continue
		}
		rows = append(rows, r.opt)
		roles[r.opt.name] = r.role
	}
	return newOptionTable(rows), roles
}

// hostSeparators are the path separators of the machine dcc runs on.
func hostSeparators() string {
	if runtime.GOOS == "windows" {
		return `\/`
	}
	return "/"
}

// isDirectory reports whether path is an existing directory.
func isDirectory(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// lookup finds the row for one argument. Options are written with '/' or '-':
// the argument is looked up as written (clang's own '-' options) and with its
// first character made '/' (cl options), and, as clang's option parser does, an
// exact match beats a prefix match and a longer name beats a shorter one.
func (d *msvcDriver) lookup(arg string) (row option, glued string, ok bool) {
	row, glued, ok = d.table.lookup(arg)
	if len(arg) < 2 || arg[0] != '-' {
		return row, glued, ok
	}
	slashed := "/" + arg[1:]
	alt, altGlued, altOK := d.table.lookup(slashed)
	if !altOK {
		return row, glued, ok
	}
	if !ok || betterMatch(alt, slashed, row, arg) {
		return alt, altGlued, true
	}
	return row, glued, ok
}

// betterMatch reports whether row a (found for key ka) is a better match than
// row b (found for key kb).
func betterMatch(a option, ka string, b option, kb string) bool {
	exactA, exactB := a.name == ka, b.name == kb
	if exactA != exactB {
		return exactA
	}
	return len(a.name) > len(b.name)
}

// lastSeparator returns the index of the last path separator in p, or -1.
func (d *msvcDriver) lastSeparator(p string) int {
	return strings.LastIndexAny(p, d.separators)
}

// base returns the file name part of p.
func (d *msvcDriver) base(p string) string {
	return p[d.lastSeparator(p)+1:]
}

// extension returns the extension of p's file name without its dot, or "".
func (d *msvcDriver) extension(p string) string {
	b := d.base(p)
	if i := strings.LastIndexByte(b, '.'); i >= 0 {
		return b[i+1:]
	}
	return ""
}

// hasExtension reports whether p's file name has an extension, as LLVM's path
// library (and Windows) see it: any '.' counts, so "x." and ".hidden" have one.
func (d *msvcDriver) hasExtension(p string) bool {
	b := d.base(p)
	return strings.LastIndexByte(b, '.') >= 0 && b != "." && b != ".."
}

// language returns the language cl or clang-cl gives a file by its extension,
// or "" for a linker input.
func (d *msvcDriver) language(p string) string {
	ext := d.extension(p)
	if d.foldCase {
		ext = strings.ToLower(ext)
	}
	return d.languages[ext]
}

// defaultObject is the object a source compiles to without /Fo: its file name
// with the extension replaced by .obj, in the working directory.
func (d *msvcDriver) defaultObject(source string) string {
	b := d.base(source)
	if i := strings.LastIndexByte(b, '.'); i >= 0 {
		b = b[:i]
	}
	return b + ".obj"
}

// objectName resolves the object a /Fo (or /o) value names for source, relative
// to dir, as the driver does: a value ending in a separator is a directory, a
// value without extension gets .obj. It returns a reason when the name cannot
// be predicted safely.
func (d *msvcDriver) objectName(value, source, dir string) (object, why string) {
	switch {
	case value == "":
		return "", "object option without a file name"
	case strings.ContainsAny(value[len(value)-1:], d.separators):
		return value + d.defaultObject(source), ""
	}
	if d.windowsObjectNames {
		stem := d.base(value)
		if i := strings.IndexByte(stem, '.'); i >= 0 {
			stem = stem[:i]
		}
		switch {
		case strings.EqualFold(stem, "nul"):
			return "", "the object goes to the NUL device"
		case strings.HasSuffix(value, "."):
			return "", "Windows drops the trailing '.' of the object name"
		case !d.hasExtension(value) && d.isDir(filepath.Join(dir, value)):
			return value + `\` + d.defaultObject(source), ""
		}
	}
	if !d.hasExtension(value) {
		return value + ".obj", ""
	}
	return value, ""
}
