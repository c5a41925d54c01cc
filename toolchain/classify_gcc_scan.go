package toolchain

import (
	"fmt"
	"strconv"
	"strings"
)

// gccCategory says which argument list an option's arguments belong to.
type gccCategory uint8

const (
	// gccCatCodegen: changes how preprocessed text compiles; passed to both steps.
	gccCatCodegen gccCategory = iota
	// gccCatPreprocessor: only affects preprocessing.
	gccCatPreprocessor
	// gccCatDeps: controls the dependency file; passed to the preprocessing step.
	gccCatDeps
	// gccCatDrop: no effect on a compile (linker options, -pipe).
	gccCatDrop
	// gccCatNone: consumed by the classifier itself (-c, -o, -x).
	gccCatNone
)

// gccCategoryOf sorts a row by its flags.
func gccCategoryOf(f optFlag) gccCategory {
	switch {
	case f&optIgnored != 0:
		return gccCatDrop
	case f&optDeps != 0:
		return gccCatDeps
	case f&optPreprocessor != 0:
		return gccCatPreprocessor
	default:
		return gccCatCodegen
	}
}

// gccInput is one input file named on the command line.
type gccInput struct {
	// name is the file as written.
	name string
	// lang is the -x language in force where the file appeared ("" when the
	// extension decides).
	lang string
}

// gccScan is what one pass over a gcc-style command line found: the facts
// every later decision reads. It records the first local and the first
// cache-only reason rather than stopping, so that the analysis can still name
// the source and language of a command it will not touch.
type gccScan struct {
	fam Family

	localReason string
	cacheReason string

	compile bool
	output  string
	outputs int
	inputs  []gccInput
	lang    string
	// langAfterInput: a -x option came after an input file.
	langAfterInput bool

	// keep holds the preprocessor, code-generation and dependency arguments in
	// their original order; pp, codegen and deps are its three parts.
	keep, pp, codegen, deps []string

	// Dependency file: -MD/-MMD, -MF, -MT/-MQ, and the -Wp,-MD,file form.
	md, hasMF, hasTarget bool
	mf                   string
	wpMD                 bool
	wpDeps               string

	// Debug information.
	debug            bool
	dwarfVersion     int
	dwarfDefault     int
	noColumns        bool
	noRecordSwitches bool
	recordSection    bool
	split            bool
	splitMode        string
	prefixMaps       []string
	compDir          bool
	noWorkingDir     bool
	recordedCPP      []string

	// Other auxiliary outputs and inputs.
	gcno, profileArcs, stackUsage, lto bool
	arches                             int
	includes                           []string

	// Files read besides sources and headers (classify_gcc_reads.go).
	readFiles, profileDirs []string
	profileUse             bool

	// Options passed through one at a time keep their state across pairs.
	xclang, xasm, xcpp *gccSub
}

// newGCCScan prepares a scan for a compiler of family fam.
func newGCCScan(fam Family) *gccScan {
	s := &gccScan{fam: fam}
	s.xclang = &gccSub{prefix: "-Xclang ", tables: []*gccOptionTable{gccXclangTable}, fam: FamilyClang}
	s.xasm = &gccSub{prefix: "-Xassembler ", tables: []*gccOptionTable{gccAssemblerTable}, fam: fam}
	s.xcpp = &gccSub{prefix: "-Xpreprocessor ", tables: []*gccOptionTable{gccCPPTable, gccTable}, fam: fam, cppOnly: true}
	return s
}

// setLocal records why the command must run unchanged; the first reason wins.
func (s *gccScan) setLocal(reason string) {
	if s.localReason == "" {
		s.localReason = reason
	}
}

// setCache records why the command must compile on this machine; the first
// reason wins.
func (s *gccScan) setCache(reason string) {
	if s.cacheReason == "" {
		s.cacheReason = reason
	}
}

// scan reads every argument once.
func (s *gccScan) scan(args []string) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "-" || !strings.HasPrefix(arg, "-") {
			s.inputs = append(s.inputs, gccInput{name: arg, lang: s.lang})
			continue
		}
		row, glued, ok := gccTable.find(arg, s.fam)
		if !ok {
			s.setLocal("unknown option " + arg)
			continue
		}
		span, val := []string{arg}, glued
		if row.flags&optSeparateArg != 0 && arg == row.name {
			if i+1 >= len(args) {
				s.setLocal("missing argument to " + arg)
				continue
			}
			i++
			val = args[i]
			span = append(span, val)
		}
		s.add(s.note(row, val), span...)
	}
	for _, sub := range []*gccSub{s.xclang, s.xasm, s.xcpp} {
		sub.finish(s)
	}
}

// add appends arguments to the list their category names.
func (s *gccScan) add(cat gccCategory, args ...string) {
	switch cat {
	case gccCatCodegen:
		s.codegen = append(s.codegen, args...)
	case gccCatPreprocessor:
		s.pp = append(s.pp, args...)
	case gccCatDeps:
		s.deps = append(s.deps, args...)
	default:
		return
	}
	s.keep = append(s.keep, args...)
}

// note applies one option, whose argument (glued or separate) is val, and
// returns the category of its arguments.
func (s *gccScan) note(row gccRow, val string) gccCategory {
	if row.flags&optLocal != 0 {
		s.setLocal(row.reason)
	}
	if row.flags&optCacheOnly != 0 {
		s.setCache(row.reason)
	}
	cat := gccCategoryOf(row.flags)
	switch row.role {
	case gccRoleCompile:
		s.compile = true
		return gccCatNone
	case gccRoleOutput:
		s.output = val
		s.outputs++
		return gccCatNone
	case gccRoleLanguage:
		s.lang = val
		if val == "none" {
			s.lang = ""
		}
		if len(s.inputs) > 0 {
			s.langAfterInput = true
		}
		return gccCatNone
	case gccRoleMD:
		s.md = true
	case gccRoleMF:
		s.mf, s.hasMF = val, true
	case gccRoleMT:
		s.hasTarget = true
	case gccRoleCPPDeps:
		s.wpMD, s.wpDeps = true, val
	case gccRoleWp:
		return s.passThrough(&gccSub{prefix: "-Wp,", tables: []*gccOptionTable{gccCPPTable, gccTable}, fam: s.fam, cppOnly: true}, val)
	case gccRoleWa:
		s.passThrough(&gccSub{prefix: "-Wa,", tables: []*gccOptionTable{gccAssemblerTable}, fam: s.fam}, val)
		return gccCatCodegen
	case gccRoleXassembler:
		s.xasm.feed(s, val)
		return gccCatCodegen
	case gccRoleXpreprocessor:
		return s.xcpp.feed(s, val)
	case gccRoleXclang:
		return s.xclang.feed(s, val)
	default:
		s.noteDebug(row, val)
		s.noteAux(row, val)
		s.noteReads(row, val)
	}
	return cat
}

// passThrough applies the comma-separated options of -Wp, or -Wa, and returns
// the category of the whole argument: dependency arguments win over
// preprocessor arguments, so that -Wp,-MD,file counts as a dependency option.
func (s *gccScan) passThrough(sub *gccSub, list string) gccCategory {
	cat := gccCatCodegen
	if sub.cppOnly {
		cat = gccCatPreprocessor
	}
	for _, e := range strings.Split(list, ",") {
		if sub.feed(s, e) == gccCatDeps {
			cat = gccCatDeps
		}
	}
	sub.finish(s)
	return cat
}

// noteDebug applies the options that decide whether the object carries debug
// information and in which form.
func (s *gccScan) noteDebug(row gccRow, val string) {
	switch row.role {
	case gccRoleDebugLevel:
		s.debug = !strings.HasSuffix(row.name+val, "0")
	case gccRoleDwarf:
		s.debug = true
		if n, err := strconv.Atoi(strings.TrimPrefix(val, "-")); err == nil {
			s.dwarfVersion = n
		}
	case gccRoleDwarfFormat:
		if s.fam == FamilyClang {
			s.debug = true
		}
	case gccRoleDwarfDefault:
		if n, err := strconv.Atoi(val); err == nil {
			s.dwarfDefault = n
		}
	case gccRoleColumns:
		s.noColumns = false
	case gccRoleNoColumns:
		s.noColumns = true
	case gccRoleRecordSwitches:
		s.noRecordSwitches = false
	case gccRoleNoRecordSwitches:
		s.noRecordSwitches = true
	case gccRoleRecordSection:
		s.recordSection = true
	case gccRoleSplitDwarf:
		s.split, s.splitMode = true, val
	case gccRoleNoSplitDwarf:
		s.split = false
	case gccRolePrefixMap:
		if old, _, ok := strings.Cut(val, "="); ok {
			s.prefixMaps = append(s.prefixMaps, old)
		}
	case gccRoleCompDir:
		s.compDir = true
	}
}

// noteAux applies the options that add auxiliary outputs or inputs.
func (s *gccScan) noteAux(row gccRow, val string) {
	switch row.role {
	case gccRoleCoverage:
		s.gcno, s.profileArcs = true, true
	case gccRoleTestCoverage:
		s.gcno = true
	case gccRoleProfileArcs:
		s.profileArcs = true
	case gccRoleStackUsage:
		s.stackUsage = true
	case gccRoleLTO:
		s.lto = true
	case gccRoleNoLTO:
		s.lto = false
	case gccRoleArch:
		s.arches++
	case gccRoleInclude:
		s.includes = append(s.includes, val)
	case gccRoleRecordedCPP:
		s.recordedCPP = append(s.recordedCPP, row.name)
	case gccRoleNoWorkingDir:
		s.noWorkingDir = true
	}
}

// gccSub walks the options a driver option hands on to another program:
// -Wp,a,b and -Xpreprocessor a (the preprocessor), -Wa,a,b and -Xassembler a
// (the assembler), -Xclang a (clang's compiler proper). An option that takes a
// separate argument takes the next element, as the program itself would.
type gccSub struct {
	// prefix names the pass-through option in messages ("-Wa,").
	prefix string
	// tables are consulted in order; the first match wins.
	tables []*gccOptionTable
	fam    Family
	// cppOnly admits only preprocessor and dependency options.
	cppOnly bool
	// pending is an option still waiting for its separate argument.
	pending *gccRow
}

// feed applies one element and returns its category.
func (sub *gccSub) feed(s *gccScan, e string) gccCategory {
	if p := sub.pending; p != nil {
		sub.pending = nil
		return s.note(*p, e)
	}
	row, glued, ok := sub.find(e)
	if !ok {
		s.setLocal("unknown option " + sub.prefix + e)
		return gccCatCodegen
	}
	if sub.cppOnly && row.flags&(optPreprocessor|optDeps|optLocal) == 0 {
		s.setLocal(fmt.Sprintf("%s%s: not a preprocessor option", sub.prefix, e))
		return gccCatPreprocessor
	}
	if row.flags&optSeparateArg != 0 && (e == row.name || row.role == gccRoleTakesNext) {
		sub.pending = &row
		return gccCategoryOf(row.flags)
	}
	return s.note(row, glued)
}

// find looks e up in the sub-option tables.
func (sub *gccSub) find(e string) (gccRow, string, bool) {
	for _, t := range sub.tables {
		if row, glued, ok := t.find(e, sub.fam); ok {
			return row, glued, true
		}
	}
	return gccRow{}, "", false
}

// finish reports an option left without its argument.
func (sub *gccSub) finish(s *gccScan) {
	if p := sub.pending; p != nil {
		sub.pending = nil
		s.setLocal("missing argument to " + sub.prefix + p.name)
	}
}
