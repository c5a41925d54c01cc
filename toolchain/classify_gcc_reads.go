package toolchain

import "strings"

// Files a compile reads that no preprocessor reports: profile data, sample
// profiles, sanitizer and profile lists. Each option that names one has the
// role gccRoleReadsFile (or gccRoleProfileUse, gccRoleProfileDir for gcc's
// profile feedback); the classifier lists the files in Analysis.ReadFiles,
// and the daemon puts their content (or their absence) into every cache key
// of the compile, so a new profile gives a miss and the compiler's new object.

// gccDefaultReadFiles is the file an option reads when given without a value.
// gcc's -fprofile-use is not listed: without a value it reads the .gcda
// file named after the object (see readInputs).
var gccDefaultReadFiles = map[Family]map[string]string{
	FamilyGCC: {
		"-fauto-profile": "fbdata.afdo",
	},
	FamilyClang: {
		"-fprofile-use":       "default.profdata",
		"-fprofile-instr-use": "default.profdata",
	},
}

// noteReads applies the options that make the compiler read a file.
func (s *gccScan) noteReads(row gccRow, val string) {
	val = strings.TrimPrefix(val, "=")
	switch row.role {
	case gccRoleReadsFile:
		if val == "" {
			val = gccDefaultReadFiles[s.fam][row.name]
		}
		if val != "" {
			s.readFiles = append(s.readFiles, val)
		}
	case gccRoleProfileUse:
		if s.fam == FamilyClang {
			// clang's -fprofile-use[=path] reads one indexed profile: path,
			// or default.profdata in it when it is a directory.
			s.noteReads(gccRow{name: row.name, role: gccRoleReadsFile}, val)
			return
		}
		s.profileUse = true
		if val != "" {
			s.profileDirs = append(s.profileDirs, val)
		}
	case gccRoleProfileDir:
		if val != "" {
			s.profileDirs = append(s.profileDirs, val)
		}
	}
}

// readInputs returns the files and directories the compile reads besides its
// sources and headers. gcc's profile feedback (-fprofile-use,
// -fbranch-probabilities) reads the .gcda file named after the object, or,
// with -fprofile-use=DIR or -fprofile-dir=DIR, a file with a mangled name in
// DIR: the whole directory is listed then.
func (s *gccScan) readInputs(object string) []string {
	out := append([]string(nil), s.readFiles...)
	if s.profileUse {
		out = append(out, s.profileDirs...)
		out = append(out, gccAuxName(s.fam, object, ".gcda"))
	}
	return out
}
