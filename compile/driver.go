package compile

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcc-build/dcc/toolchain"
)

// Compiling without gcc's driver. For "gcc -c", the driver runs cc1 (or
// cc1plus) into a temporary assembly file, then the assembler on it: about
// 1.5 ms of its own per compile (a dynamically linked program reading its
// specs, a temporary file, a search of PATH for "as"), which a cold build
// through dcc otherwise pays on top of the daemon's own work. The daemon asks
// the driver, with -###, which two commands and which environment it would
// use, and runs those itself, with an anonymous memory file as the assembly
// file: the commands gcc runs, in the environment it gives them. The
// temporary file's name is the one thing that differs, and the driver picks
// a new random one every time, so nothing it makes can depend on it.
//
// Asking costs a driver run without a compile (about 1 ms). For a command
// shape (the command and the values of its environment with the source and
// object names left out, the directories and extensions of both, and the
// working directory), the daemon learns how the plan follows from the
// names: the first compile of a shape is run from its own plan and makes a
// template of it (driver_shapes.go); the next one with other names asks
// again and must get exactly what the template predicts. From then on the shape's compiles
// run from the template, without the driver. A plan the template does not
// predict replaces it, three times at most; a shape whose plan is not the two
// expected commands (driver_plan.go), or that keeps mispredicting, goes
// through the driver for good. Only gcc's driver program itself is bypassed,
// for C and C++. Anything that fails runs again through the driver, which
// then says what is wrong in its own words. It needs a file that /dev/fd
// opens anew (newReopenable): Linux's anonymous memory files; elsewhere the
// driver runs.

// driverShapeKey is the shape of this compile: everything but the base names
// of its source and object (hashed: the environment is most of it).
func (j *job) driverShapeKey(argv []string, n unitNames) string {
	var b strings.Builder
	add := func(s string) {
		b.WriteString(s)
		b.WriteByte(0)
	}
	add(j.id.Key())
	add(j.req.Dir)
	add(filepath.Dir(n.source))
	add(filepath.Ext(n.source))
	add(filepath.Dir(n.object))
	add(filepath.Ext(n.object))
	add(fmt.Sprint(n.sourceStem == n.objectStem))
	for _, a := range argv {
		switch a {
		case n.source:
			a = sourcePlaceholder
		case n.object:
			a = objectPlaceholder
		}
		add(a)
	}
	// The environment too, with the names left out: make exports its
	// command-line variables to every recipe, expanded for each target
	// ("make CFLAGS='-MF $@.d'" gives CFLAGS=-MF crc32.o.d), so that a
	// name there is as common as in the arguments. A template learned so
	// is checked as any other (a second unit's plan must match it).
	add("\x01env")
	for _, kv := range j.req.Env {
		add(n.abstract(kv))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return string(sum[:])
}

// compileWithoutDriver runs a "-c" compile (argv, with extra as descriptors
// from 3 on) as gcc's driver would, without the driver, when that is known
// to be the same (see above). ok is false when the caller must run the
// driver; out is then empty and nothing was left behind that the driver
// does not overwrite.
func (j *job) compileWithoutDriver(ctx context.Context, argv []string, extra []*os.File) (out output, ok bool, err error) {
	if !j.s.opts.BypassDriver || j.a.Family != toolchain.FamilyGCC || j.a.Outputs.Object == "" ||
		(j.a.Language != "c" && j.a.Language != "c++") {
		// Assembly and the other languages keep the driver: the plan is
		// learned and checked on C and C++.
		return output{}, false, nil
	}
	n, ok := namesOf(j.a.Source, j.a.Outputs.Object)
	if !ok || !slices.Contains(argv, n.source) || !slices.Contains(argv, n.object) || slices.ContainsFunc(argv, driverOnly) {
		return output{}, false, nil
	}
	asm, err := newReopenable("asm")
	if err != nil || asm == nil {
		return output{}, false, nil // the driver's temporary file it is
	}
	defer asm.Close()
	key := j.driverShapeKey(argv, n)
	plan, ok := j.s.driverShapes.plan(key, n, func() (driverPlan, bool) {
		if !isDriverProgram(j.req.Real) {
			return driverPlan{}, false
		}
		return j.askDriver(ctx, argv)
	})
	if !ok {
		return output{}, false, nil
	}
	return j.runPlan(ctx, plan, append(slices.Clone(extra), asm))
}

// driverOnly: with this option the compile goes through the driver. Either
// the driver itself prints something (-v, -time), or what it runs depends on
// files whose contents a template would not follow (response files, spec
// files, -B directories, a wrapper), or it runs other programs (-flto,
// -save-temps, -pipe, -fcompare-debug: those would not parse anyway).
func driverOnly(arg string) bool {
	switch arg {
	case "-v", "--verbose", "-###", "-time", "-wrapper", "-pipe", "--pipe":
		return true
	}
	for _, prefix := range []string{"@", "-specs", "--specs", "-B", "-time=", "-save-temps", "--save-temps", "-flto", "-fcompare-debug"} {
		if strings.HasPrefix(arg, prefix) {
			return true
		}
	}
	return false
}

// isDriverProgram reports whether path is gcc's driver itself: a program
// (not a script) whose real name is a gcc driver's. A script or another
// program standing in for gcc may do more than the driver's plan shows
// (print, log, keep a cache of its own): it must run.
func isDriverProgram(path string) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	if name, ok := toolchain.ParseCompilerName(real); !ok || name.Family != toolchain.FamilyGCC {
		return false
	}
	f, err := os.Open(real)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "\x7fELF"
}

// askDriver runs the command with -### and parses what the driver would do.
func (j *job) askDriver(ctx context.Context, argv []string) (driverPlan, bool) {
	shown, err := runProcess(ctx, j.req.Dir, j.req.Env, append(slices.Clone(argv), "-###"))
	if err != nil || shown.exit != 0 {
		return driverPlan{}, false
	}
	return parseDriverPlan(shown.stderr)
}

// runPlan runs the compiler and then the assembler of plan in the
// environment the driver would give them, with files as their descriptors
// from 3 on, the last of them the assembly (a file of newReopenable's).
// ok is false when either failed or could not start (the caller runs the
// driver).
func (j *job) runPlan(ctx context.Context, plan driverPlan, files []*os.File) (out output, ok bool, err error) {
	as, found := lookPathIn(plan.assembler[0], j.req.Env, j.req.Dir)
	if !found {
		return output{}, false, nil
	}
	asmName := extraName(len(files) - 1)
	p := plan.mapStrings(func(s string) string {
		if s == asmPlaceholder {
			return asmName
		}
		return s
	})
	env := withSettings(j.req.Env, p.env)
	first, err := runProcess(ctx, j.req.Dir, withSettings(env, []string{"COLLECT_GCC_OPTIONS=" + p.compilerOptions}), p.compiler, files...)
	if err != nil || first.exit != 0 {
		return output{}, false, ctx.Err()
	}
	argv := slices.Clone(p.assembler)
	argv[0] = as
	second, err := runProcess(ctx, j.req.Dir, withSettings(env, []string{"COLLECT_GCC_OPTIONS=" + p.assemblerOptions}), argv, files...)
	if err != nil || second.exit != 0 {
		return output{}, false, ctx.Err()
	}
	return output{
		stdout: append(first.stdout, second.stdout...),
		stderr: append(first.stderr, second.stderr...),
	}, true, nil
}

// withSettings returns env with each NAME=VALUE of settings in place of any
// earlier setting of NAME.
func withSettings(env []string, settings []string) []string {
	out := slices.Clone(env)
	for _, kv := range settings {
		name, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		out = append(out, kv)
	}
	return out
}

// lookPathIn finds a program as execvp does with env's PATH (relative
// entries from dir): a name with a slash as it is, else the first
// executable regular file of that name along PATH.
func lookPathIn(name string, env []string, dir string) (string, bool) {
	if strings.Contains(name, "/") {
		return name, true
	}
	path, _ := lookupEnv(env, "PATH")
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(resolve(dir, d), name)
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}
