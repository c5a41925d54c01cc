package compile

import (
	"path/filepath"
	"slices"
	"strings"
)

// driverPlan is what gcc's driver runs for one "-c" compile.
type driverPlan struct {
	// env are the NAME=VALUE settings the driver adds for its programs.
	env []string
	// compiler and assembler are the two commands, and compilerOptions and
	// assemblerOptions the COLLECT_GCC_OPTIONS each runs with.
	compiler, assembler               []string
	compilerOptions, assemblerOptions string
}

// driverEnv are the variables the driver's -### output may name before its
// commands, all of which it exports to them.
var driverEnv = []string{"COLLECT_GCC", "OFFLOAD_TARGET_NAMES", "OFFLOAD_TARGET_DEFAULT", "COLLECT_LTO_WRAPPER"}

// asmPlaceholder stands for the assembly file in a parsed plan.
const asmPlaceholder = "\x00\x05"

// parseDriverPlan reads gcc's -### output for a "-c" compile. ok is false
// unless it is exactly: settings of driverEnv variables, then a
// COLLECT_GCC_OPTIONS line and a cc1 command (an absolute path) writing a
// temporary ".s" file with -o, then a COLLECT_GCC_OPTIONS line and an
// assembler command reading that file as its last argument, the file named
// nowhere else. The file's name is replaced by asmPlaceholder.
func parseDriverPlan(shown []byte) (p driverPlan, ok bool) {
	var cmds [][]string
	var options []string
	pending := ""
	for _, line := range strings.Split(string(shown), "\n") {
		switch {
		case strings.HasPrefix(line, " "):
			if pending == "" || len(cmds) == 2 {
				return p, false
			}
			args, ok := splitDriverLine(strings.TrimLeft(line, " "))
			if !ok || len(args) == 0 {
				return p, false
			}
			cmds, options, pending = append(cmds, args), append(options, pending), ""
		case strings.HasPrefix(line, "COLLECT_GCC_OPTIONS="):
			pending = line[len("COLLECT_GCC_OPTIONS="):]
			if pending == "" {
				return p, false
			}
		case len(cmds) == 0:
			name, _, isSetting := strings.Cut(line, "=")
			if isSetting && isEnvName(name) {
				if !slices.Contains(driverEnv, name) {
					return p, false
				}
				p.env = append(p.env, line)
			}
		}
	}
	if len(cmds) != 2 {
		return p, false
	}
	cc1, as := cmds[0], cmds[1]
	if !filepath.IsAbs(cc1[0]) || !isCC1(filepath.Base(cc1[0])) || !isAssembler(filepath.Base(as[0])) {
		return p, false
	}
	asm := as[len(as)-1]
	i := slices.Index(cc1, "-o")
	if i < 0 || i+1 >= len(cc1) || cc1[i+1] != asm || !strings.HasSuffix(asm, ".s") ||
		!filepath.IsAbs(asm) || !strings.HasPrefix(filepath.Base(asm), "cc") {
		return p, false
	}
	uses := 0
	for _, cmd := range cmds {
		for _, a := range cmd {
			if strings.Contains(a, asm) {
				uses++
			}
		}
	}
	if uses != 2 || strings.Contains(options[0]+options[1]+strings.Join(p.env, "\n"), asm) {
		return p, false
	}
	p.compiler, p.assembler = slices.Clone(cc1), slices.Clone(as)
	p.compiler[i+1], p.assembler[len(as)-1] = asmPlaceholder, asmPlaceholder
	p.compilerOptions, p.assemblerOptions = options[0], options[1]
	return p, true
}

// isEnvName: an environment variable's name as the driver prints them.
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// isCC1 names gcc's compilers proper.
func isCC1(base string) bool {
	return base == "cc1" || base == "cc1plus" || base == "cc1obj" || base == "cc1objplus"
}

// isAssembler names GNU as, plain or with a target prefix.
func isAssembler(base string) bool {
	return base == "as" || strings.HasSuffix(base, "-as")
}

// equal reports whether two plans are the same.
func (p driverPlan) equal(q driverPlan) bool {
	return slices.Equal(p.env, q.env) && slices.Equal(p.compiler, q.compiler) &&
		slices.Equal(p.assembler, q.assembler) &&
		p.compilerOptions == q.compilerOptions && p.assemblerOptions == q.assemblerOptions
}

// mapStrings returns the plan with f applied to every string in it.
func (p driverPlan) mapStrings(f func(string) string) driverPlan {
	each := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = f(s)
		}
		return out
	}
	return driverPlan{
		env: each(p.env), compiler: each(p.compiler), assembler: each(p.assembler),
		compilerOptions: f(p.compilerOptions), assemblerOptions: f(p.assemblerOptions),
	}
}
