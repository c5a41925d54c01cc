package toolchain

// TEMPORARY: replaced by respfile.go.
type Quoting int

// QuotingFor TEMPORARY.
func QuotingFor(f Family) Quoting { return 0 }

// ExpandResponseFiles TEMPORARY.
func ExpandResponseFiles(args []string, dir string, q Quoting) ([]string, error) { return args, nil }
