package toolchain

// TEMPORARY: replaced by classify_msvc.go.
func classifyMSVC(a *Analysis, name CompilerName, cmd Command) { a.local("not implemented") }
