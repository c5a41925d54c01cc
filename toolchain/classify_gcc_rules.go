package toolchain

import "strings"

// recordsWorkingDir reports whether the object (or a file beside it) records
// the working directory: debug information without a prefix map or
// compilation directory that hides it, coverage notes, and the run-time
// profile data path that -fprofile-arcs puts into the object.
func (s *gccScan) recordsWorkingDir(dir string) bool {
	if s.gcno || s.profileArcs {
		return true
	}
	if !s.debug || s.compDir {
		return false
	}
	for _, old := range s.prefixMaps {
		// gcc and clang match a prefix map by plain string prefix.
		if dir != "" && strings.HasPrefix(dir, old) {
			return false
		}
	}
	return true
}

// gccCacheRule is one reason a cacheable compile must stay on this machine
// that depends on several options together; single options say so in the
// option table instead.
type gccCacheRule struct {
	// applies reports whether the rule holds for the scanned command.
	applies func(s *gccScan, lang gccLanguage) bool
	// reason explains it, or reasonFor does when the reason names an option.
	reason    string
	reasonFor func(s *gccScan) string
	// fromSources: a compile of the original sources on another host, laid
	// out at the same paths, writes the same bytes (the difference comes
	// from compiling preprocessed text only).
	fromSources bool
}

// gccCacheRules are the combinations under which a compile of preprocessed
// text (elsewhere, or even here) writes different bytes than the original
// compile. Each was found by the real-compiler test (classify_gcc_real_test.go).
var gccCacheRules = []gccCacheRule{
	{
		// gcc records preprocessor-only options such as -finput-charset in
		// DW_AT_producer and in .GCC.command.line, yet they cannot reach the
		// compile of preprocessed text (the conversion would happen twice).
		applies: func(s *gccScan, _ gccLanguage) bool {
			return s.fam == FamilyGCC && len(s.recordedCPP) > 0 &&
				(s.recordSection || (s.debug && !s.noRecordSwitches))
		},
		reasonFor: func(s *gccScan) string {
			return s.recordedCPP[0] + ": gcc records it in the object, but it must not reach a compile of preprocessed text"
		},
	},
	{
		// clang's -frecord-gcc-switches is -frecord-command-line: the driver's
		// own command line, with the source and -o, goes into the object.
		applies: func(s *gccScan, _ gccLanguage) bool { return s.fam == FamilyClang && s.recordSection },
		reason:  "-frecord-gcc-switches: " + reasonRecords,
	},
	{
		applies: func(s *gccScan, lang gccLanguage) bool {
			return !lang.preprocessed && s.fam == FamilyGCC && s.stackUsage
		},
		reason: "-fstack-usage: gcc's .su file " + reasonColumns,
	},
	{
		applies: func(s *gccScan, lang gccLanguage) bool {
			return !lang.preprocessed && s.fam == FamilyGCC && s.lto
		},
		reason: "-flto: gcc's LTO bytecode " + reasonColumns,
	},
	{
		applies: func(s *gccScan, lang gccLanguage) bool {
			return !lang.preprocessed && s.debug && !s.noColumns
		},
		reason:      "debug information " + reasonColumns,
		fromSources: true,
	},
	{
		applies: func(s *gccScan, lang gccLanguage) bool {
			return !lang.preprocessed && s.debug && s.fam == FamilyClang && s.clangDwarfVersion() >= 5
		},
		reason:      "clang's DWARF 5 line table carries MD5 sums of the source files, which a compile of preprocessed text cannot reproduce",
		fromSources: true,
	},
	{
		applies: func(s *gccScan, lang gccLanguage) bool {
			return !lang.preprocessed && s.debug && s.fam == FamilyGCC && s.noWorkingDir
		},
		reason: "-fno-working-directory: preprocessed text no longer carries the working directory, so the compile would record its own",
	},
	{
		applies: func(s *gccScan, lang gccLanguage) bool {
			return lang.compileAs == "assembler" && s.debug && s.fam == FamilyGCC
		},
		reason: "the GNU assembler records the directory it runs in as the debug information's compilation directory",
	},
	{
		// Last, after the rules with more specific reasons: even without
		// columns, preprocessing joins the lines of a macro call written
		// over several lines, so the line table of a compile of
		// preprocessed text differs (zlib's gzlib.c shows it).
		applies:     func(s *gccScan, lang gccLanguage) bool { return !lang.preprocessed && s.debug },
		reason:      "debug information records source lines, which preprocessing joins where a macro call spans several lines, so only a compile of the original source matches",
		fromSources: true,
	},
}

// cacheOnly returns why a cacheable compile cannot be compiled elsewhere
// from its preprocessed text, or "". fromSources says a compile of its
// original sources elsewhere would still do.
func (s *gccScan) cacheOnly(lang gccLanguage) (why string, fromSources bool) {
	if s.cacheReason != "" {
		return s.cacheReason, false
	}
	for _, r := range gccCacheRules {
		if !r.applies(s, lang) {
			continue
		}
		if r.reasonFor != nil {
			return r.reasonFor(s), r.fromSources
		}
		return r.reason, r.fromSources
	}
	return "", true
}

// clangDwarfVersion is the DWARF version clang 14 writes on Linux: the last
// -gdwarf-N, else -fdebug-default-version, else 5.
func (s *gccScan) clangDwarfVersion() int {
	switch {
	case s.dwarfVersion != 0:
		return s.dwarfVersion
	case s.dwarfDefault != 0:
		return s.dwarfDefault
	default:
		return 5
	}
}
