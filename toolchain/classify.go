package toolchain

import (
	"fmt"
	"strings"
	"sync"
)

// tablesOnce guards the one-time indexing of the option tables.
var tablesOnce sync.Once

// loadTables indexes every option table on first use rather than at program
// start: the wrapper starts once per compile and often classifies nothing.
func loadTables() {
	tablesOnce.Do(func() {
		buildGCCTables()
		buildMSVCTables()
	})
}

// Classify decides what dcc may do with cmd: cache it and compile it elsewhere,
// cache it but compile it here, or run it unchanged. It never runs the compiler
// and never fails: a command it does not understand is ActionLocal with a reason.
// Response files are expanded (relative to cmd.Dir) before classification.
func Classify(cmd Command) Analysis {
	loadTables()
	name, _ := ParseCompilerName(cmd.Compiler)
	if cmd.Driver != "" {
		if d, ok := ParseCompilerName(cmd.Driver); ok {
			name.Driver, name.CXX = d.Driver, d.CXX
		}
	}
	if cmd.Family != FamilyUnknown {
		name.Family = cmd.Family
	}
	name = withDriverMode(name, cmd.Args)
	fam := name.Family
	a := Analysis{Family: fam, Args: cmd.Args}
	if fam == FamilyUnknown {
		return a.local(fmt.Sprintf("%q is not a compiler dcc knows", cmd.Compiler))
	}
	args, err := ExpandResponseFiles(cmd.Args, cmd.Dir, QuotingFor(fam))
	if err != nil {
		return a.local(fmt.Sprintf("response file: %v", err))
	}
	a.Args = args
	if fam == FamilyMSVC {
		classifyMSVC(&a, name, cmd)
	} else {
		classifyGCC(&a, name, cmd)
	}
	if !a.Cacheable() {
		a.clearCacheFields()
	}
	return a
}

// local marks the analysis as run-unchanged with the given reason.
func (a *Analysis) local(reason string) Analysis {
	a.Action, a.Reason = ActionLocal, reason
	a.clearCacheFields()
	return *a
}

// clearCacheFields drops what only a cacheable command carries.
func (a *Analysis) clearCacheFields() {
	a.PreprocessorArgs, a.CodegenArgs, a.DependencyArgs = nil, nil, nil
	a.PreprocessCommand, a.CompileCommand, a.PreprocessedInput = nil, nil, ""
	a.RecordsWorkingDir = false
}

// withDriverMode applies clang's --driver-mode= option, which overrides what the
// program name says: clang --driver-mode=cl is clang-cl, --driver-mode=g++ is clang++.
func withDriverMode(name CompilerName, args []string) CompilerName {
	if name.Family != FamilyClang && name.Family != FamilyMSVC {
		return name
	}
	for _, a := range args {
		mode, ok := strings.CutPrefix(a, "--driver-mode=")
		if !ok {
			continue
		}
		switch mode {
		case "cl":
			name.Family, name.Driver, name.CXX = FamilyMSVC, "clang-cl", false
		case "g++":
			name.Family, name.Driver, name.CXX = FamilyClang, "clang++", true
		case "gcc":
			name.Family, name.Driver, name.CXX = FamilyClang, "clang", false
		}
	}
	return name
}
