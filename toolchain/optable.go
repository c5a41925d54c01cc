package toolchain

import (
	"sort"
	"strings"
)

// optFlag is one property of a compiler option, in the manner of ccache's
// option table (compopt.cpp): classification reads these rows instead of a chain
// of special cases.
type optFlag uint32

const (
	// optSeparateArg: the option takes an argument in the next argv element
	// ("-o file", "-MF file", "-Xclang arg").
	optSeparateArg optFlag = 1 << iota
	// optConcatArg: the option's argument may be glued to it ("-Idir", "-DX=1",
	// "-std=c11", "/Fofoo.obj"). A row with this flag matches as a prefix.
	optConcatArg
	// optPath: the argument names a file or directory.
	optPath
	// optPreprocessor: the option only affects preprocessing (-D, -I, -include, ...).
	optPreprocessor
	// optDeps: the option controls the dependency file (-MD, -MF, -MT, ...).
	optDeps
	// optOutput: the option names an output file the classifier must account for.
	optOutput
	// optLocal: a command with this option is run unchanged (linking, -E,
	// precompiled headers, too hard to cache).
	optLocal
	// optCacheOnly: cacheable, but compiled on this machine only (-march=native,
	// plugins, profile or coverage files, files read during compilation).
	optCacheOnly
	// optIgnored: the option neither changes the output nor needs to reach the
	// compile of preprocessed text (only how it is invoked, e.g. -pipe).
	optIgnored
)

// option is one row of an option table.
type option struct {
	// name is the option as written, with its leading dash or slash for gcc
	// syntax; a row with optConcatArg matches every argument starting with it.
	name  string
	flags optFlag
	// reason explains optLocal and optCacheOnly rows in a one-line message.
	reason string
}

// has reports whether the row carries every flag in f.
func (o option) has(f optFlag) bool { return o.flags&f == f }

// optionTable answers which row describes one argument.
type optionTable struct {
	exact    map[string]option
	prefixes []option // optConcatArg rows, longest name first
}

// newOptionTable indexes rows for lookup. Duplicate names are a programming error.
func newOptionTable(rows []option) *optionTable {
	t := &optionTable{exact: make(map[string]option, len(rows))}
	for _, r := range rows {
		if _, dup := t.exact[r.name]; dup {
			panic("toolchain: duplicate option row " + r.name)
		}
		t.exact[r.name] = r
		if r.has(optConcatArg) {
			t.prefixes = append(t.prefixes, r)
		}
	}
	sort.SliceStable(t.prefixes, func(i, j int) bool {
		return len(t.prefixes[i].name) > len(t.prefixes[j].name)
	})
	return t
}

// lookup finds the row for arg. An exact match wins; otherwise the longest
// optConcatArg row that arg starts with, and glued is what follows that prefix.
func (t *optionTable) lookup(arg string) (row option, glued string, ok bool) {
	if r, found := t.exact[arg]; found {
		return r, "", true
	}
	for _, r := range t.prefixes {
		if strings.HasPrefix(arg, r.name) {
			return r, arg[len(r.name):], true
		}
	}
	return option{}, "", false
}
