package toolchain

// TEMPORARY: replaced by classify_gcc.go.
func classifyGCC(a *Analysis, name CompilerName, cmd Command) { a.local("not implemented") }
