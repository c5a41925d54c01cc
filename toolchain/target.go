package toolchain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrTargetNeedsTools means clang does not compile for a target by itself:
// its driver runs another program (an external assembler) whose contents
// the identity would not cover.
var ErrTargetNeedsTools = errors.New("clang runs programs other than itself for this target")

// targetPlanVersion prefixes every Plan; change it when what goes into a Plan
// changes.
const targetPlanVersion = "plan1"

// ClangDriverArgs returns the options of a clang command line, run in dir,
// that change where clang's driver looks for a GCC installation, and so what
// it decides for the target (--sysroot, --gcc-toolchain), each as one
// argument with an absolute path. dcc preprocesses with them but does not
// send them to hosts, so they go into the identity instead.
func ClangDriverArgs(args []string, dir string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		for name, canonical := range clangDriverOptions {
			val, joined := strings.CutPrefix(a, name+"=")
			switch {
			case joined:
			case a == name && i+1 < len(args):
				i++
				val = args[i]
			default:
				continue
			}
			if !filepath.IsAbs(val) {
				val = filepath.Join(dir, val)
			}
			out = append(out, canonical+"="+filepath.Clean(val))
		}
	}
	return out
}

// clangDriverOptions are ClangDriverArgs' options (each spelling, joined with
// "=" or followed by its value) and the spelling it returns them in.
var clangDriverOptions = map[string]string{"--sysroot": "--sysroot", "--gcc-toolchain": "--gcc-toolchain", "-gcc-toolchain": "--gcc-toolchain"}

// ClangTarget returns the target a clang command line names with --target=T
// or -target T (the last one wins, as for clang), and whether it names one.
func ClangTarget(args []string) (string, bool) {
	target, found := "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--target="):
			target, found = a[len("--target="):], true
		case a == "-target" && i+1 < len(args):
			i++
			target, found = args[i], true
		}
	}
	return target, found
}

// clangTargetPlan asks clang at exe what its driver would run to compile
// preprocessed C for target (-### -v, in the root directory, so that no
// path of the caller shows), and returns the target triple its cc1 is given
// and the Plan: a digest of that cc1 command line without the names of its
// own files, directories and output, and of the GCC installation and
// multilib the driver selected. These are what the driver decides from the
// machine rather than from the command line: clang 14 compiles atomics for
// aarch64 to calls into libgcc's outline helpers only when it finds an
// aarch64 GCC 9.3.1 or later (Debian's gcc-aarch64-linux-gnu), so one clang
// compiles one unit to two objects on two machines.
// gccDir is the selected GCC installation's directory, "" when there is none.
// target "" is clang's own; driverArgs are options of the command that change
// what the driver finds (see ClangDriverArgs).
func clangTargetPlan(ctx context.Context, exe, target string, driverArgs []string) (triple, plan, gccDir string, err error) {
	var args []string
	if target != "" {
		args = append(args, "--target="+target)
	}
	args = append(args, driverArgs...)
	what := strings.Join(args, " ") // for messages
	if what == "" {
		what = "its own target"
	}
	args = append(args, "-v", "-###", "-x", "cpp-output", "-c", os.DevNull, "-o", "dcc-target-probe.o")
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = "/"
	out := &cappedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", "", "", fmt.Errorf("%s -###: %w: %q", what, err, firstLine(out.buf.String()))
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s;", targetPlanVersion)
	var commands [][]string
	for _, line := range strings.Split(out.buf.String(), "\n") {
		switch {
		case strings.HasPrefix(line, `clang: error:`), strings.HasPrefix(line, `error:`):
			return "", "", "", fmt.Errorf("%s: %s", what, strings.TrimSpace(line))
		case strings.HasPrefix(line, "Selected GCC installation: "), strings.HasPrefix(line, "Selected multilib: "):
			// The installation's triple and version directories: where it is
			// depends on where clang is run from.
			name, val, _ := strings.Cut(line, ": ")
			if name == "Selected GCC installation" {
				gccDir = val
				val = filepath.Join(filepath.Base(filepath.Dir(val)), filepath.Base(val))
			}
			fmt.Fprintf(h, "%d:%s=%s;", len(name)+len(val)+1, name, val)
		case strings.HasPrefix(line, ` "`):
			commands = append(commands, splitQuotedArgs(line))
		}
	}
	if len(commands) != 1 || len(commands[0]) < 2 || commands[0][1] != "-cc1" {
		return "", "", "", fmt.Errorf("%s: %w (%d commands)", what, ErrTargetNeedsTools, len(commands))
	}
	cc1 := commands[0][2:]
	for i := 0; i < len(cc1); i++ {
		a := cc1[i]
		switch {
		case a == "-triple" && i+1 < len(cc1):
			triple = cc1[i+1]
		case a == "-resource-dir" || a == "-main-file-name" || a == "-o":
			i++ // where clang and the probe's files are, not what it does
			continue
		case strings.HasPrefix(a, "-fdebug-compilation-dir="), strings.HasPrefix(a, "-fcoverage-compilation-dir="),
			a == os.DevNull, a == "-v":
			continue
		}
		fmt.Fprintf(h, "%d:%s;", len(a), a)
	}
	if triple == "" {
		return "", "", "", fmt.Errorf("%s: no -triple in clang's cc1 command", what)
	}
	return triple, targetPlanVersion + "-" + hex.EncodeToString(h.Sum(nil)), gccDir, nil
}

// splitQuotedArgs splits one command line as clang's -### prints it: each
// argument in double quotes, with \\, \" and \$ escaped.
func splitQuotedArgs(line string) []string {
	var args []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case !in && c == '"':
			in = true
			cur.Reset()
		case in && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case in && c == '"':
			in = false
			args = append(args, cur.String())
		case in:
			cur.WriteByte(c)
		}
	}
	return args
}

// probeTarget is the Identity of clang at path compiling for target: base
// (clang's own identity) with Target set to the triple its cc1 is given and
// Plan to what its driver decided from the machine (see clangTargetPlan).
// The stamps are those of the selected GCC installation's directory and its
// parent, and of gccInstallDirs, so that installing or removing a cross
// compiler makes the Prober ask again.
func probeTarget(ctx context.Context, path, target string, driverArgs []string, base Identity) (Identity, []fileStamp, error) {
	if base.Family != FamilyClang {
		return Identity{}, nil, fmt.Errorf("probe %s for --target=%s: a %s compiler: only clang takes --target", path, target, base.Family)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	exe, err := lookExe(path)
	if err != nil {
		return Identity{}, nil, fmt.Errorf("probe %s for --target=%s: %w", path, target, err)
	}
	triple, plan, gccDir, err := clangTargetPlan(ctx, exe, target, driverArgs)
	if err != nil {
		return Identity{}, nil, fmt.Errorf("probe %s: %w", path, err)
	}
	var stamps []fileStamp
	dirs := append([]string(nil), gccInstallDirs...)
	if gccDir != "" {
		dirs = append(dirs, gccDir, filepath.Dir(gccDir))
	}
	for _, a := range driverArgs {
		// --sysroot=DIR, --gcc-toolchain=DIR: a GCC installation may come or go there.
		if _, dir, ok := strings.Cut(a, "="); ok {
			dirs = append(dirs, dir)
		}
	}
	for _, dir := range dirs {
		if st, err := stampOf(dir); err == nil {
			stamps = append(stamps, st)
		}
	}
	id := base
	id.Target, id.Plan = triple, plan
	id.Components = append([]Component(nil), base.Components...)
	return id, stamps, nil
}

// gccInstallDirs are the directories whose entries change when a GCC
// installation clang may select for a target comes or goes (Debian's
// layout: /usr/lib/gcc-cross/TRIPLE/VERSION, /usr/lib/gcc/TRIPLE/VERSION).
var gccInstallDirs = []string{"/usr/lib", "/usr/lib/gcc", "/usr/lib/gcc-cross"}
