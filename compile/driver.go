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
	"sync"

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
// shape (the command with its source and object names left out, the
// directories and extensions of both, the working directory and the whole
// environment), the daemon learns how the plan follows from the names: the
// first compile of a shape is run from its own plan and makes a template of
// it; the next one with other names asks again and must get exactly what the
// template predicts. From then on the shape's compiles run from the template,
// without the driver. A shape whose plan is not the two expected commands,
// or whose second plan differs from the prediction, goes through the driver
// for good. Anything that fails runs again through the driver, which then
// says what is wrong in its own words.

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

// unitNames are the names that vary between the compiles of one shape.
type unitNames struct {
	// source and object as the command gives them; sourceStem and
	// objectStem are their base names without extension.
	source, object, sourceStem, objectStem string
}

// namesOf returns the names of a compile, and ok false when they hold
// anything but letters, digits and ._+-/ (names that the driver would quote
// in COLLECT_GCC_OPTIONS).
func namesOf(source, object string) (unitNames, bool) {
	n := unitNames{source: source, object: object,
		sourceStem: strings.TrimSuffix(filepath.Base(source), filepath.Ext(source)),
		objectStem: strings.TrimSuffix(filepath.Base(object), filepath.Ext(object))}
	for _, s := range []string{source, object} {
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._+-/", c)) {
				return n, false
			}
		}
	}
	return n, n.sourceStem != "" && n.objectStem != ""
}

// Placeholders for the names in a template.
const (
	sourcePlaceholder     = "\x00\x01"
	objectPlaceholder     = "\x00\x02"
	sourceStemPlaceholder = "\x00\x03"
	objectStemPlaceholder = "\x00\x04"
)

// abstract replaces n's names in s with placeholders, longest first (the
// stems share one placeholder when they are equal). A name is replaced only
// where it stands on its own, not inside a longer word ("a" in -march): the
// driver writes names between slashes, dots, quotes and blanks.
func (n unitNames) abstract(s string) string {
	names := [][2]string{{n.object, objectPlaceholder}, {n.source, sourcePlaceholder}}
	if n.sourceStem == n.objectStem {
		names = append(names, [2]string{n.objectStem, objectStemPlaceholder})
	} else {
		names = append(names, [2]string{n.objectStem, objectStemPlaceholder}, [2]string{n.sourceStem, sourceStemPlaceholder})
	}
	slices.SortStableFunc(names, func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
	for _, nm := range names {
		s = replaceWord(s, nm[0], nm[1])
	}
	return s
}

// replaceWord replaces each occurrence of word in s that has no letter,
// digit, '_' or '-' right before or after it.
func replaceWord(s, word, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, word)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(word)
		if (i > 0 && isWordByte(s[i-1])) || (end < len(s) && isWordByte(s[end])) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(with)
		s = s[end:]
	}
}

// isWordByte: a byte that continues a name.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// concrete puts n's names in place of the placeholders.
func (n unitNames) concrete(s string) string {
	if !strings.Contains(s, "\x00") {
		return s
	}
	return strings.NewReplacer(sourcePlaceholder, n.source, objectPlaceholder, n.object,
		sourceStemPlaceholder, n.sourceStem, objectStemPlaceholder, n.objectStem).Replace(s)
}

// driverShape is what the daemon knows of one command shape.
type driverShape struct {
	// template is the first plan with its names abstracted; sample its names.
	template driverPlan
	sample   unitNames
	// validated: a second plan with other names was predicted exactly.
	validated bool
	// mispredicted counts the plans the template did not predict: each
	// replaces the template (a short name such as "a" also turns up inside
	// other options, which spoils a template made from it), up to
	// maxMispredicted.
	mispredicted int
	// useDriver: the shape goes through the driver.
	useDriver bool
}

// driverShapes holds the shapes by key; their fields are guarded by mu.
type driverShapes struct {
	mu sync.Mutex
	m  map[string]*driverShape
	// asked counts the plans asked of the driver.
	asked int
}

// maxDriverShapes bounds the memo; past it, it starts over.
const maxDriverShapes = 4096

// maxMispredicted is how many plans a shape's template may fail to predict
// before the shape goes through the driver for good.
const maxMispredicted = 3

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
	add("\x01env")
	for _, kv := range j.req.Env {
		add(kv)
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
	return j.runPlan(ctx, plan, extra)
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

// plan returns the plan of the compile named n of shape key, from the
// template once it is validated, else from ask (the driver's own plan,
// which also teaches the shape).
func (d *driverShapes) plan(key string, n unitNames, ask func() (driverPlan, bool)) (driverPlan, bool) {
	d.mu.Lock()
	s := d.m[key]
	if s != nil && (s.useDriver || s.validated) {
		defer d.mu.Unlock()
		if s.useDriver {
			return driverPlan{}, false
		}
		return s.template.mapStrings(n.concrete), true
	}
	d.mu.Unlock()

	asked, ok := ask()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked++
	if s = d.m[key]; s == nil {
		if d.m == nil || len(d.m) >= maxDriverShapes {
			d.m = map[string]*driverShape{}
		}
		s = &driverShape{}
		if ok {
			s.template, s.sample = asked.mapStrings(n.abstract), n
		} else {
			s.useDriver = true
		}
		d.m[key] = s
		return asked, ok
	}
	switch {
	case s.useDriver || s.validated:
	case !ok:
		s.useDriver = true
	case n.sourceStem != s.sample.sourceStem && n.objectStem != s.sample.objectStem:
		// Other names: the template must predict this plan exactly.
		switch {
		case s.template.mapStrings(n.concrete).equal(asked):
			s.validated = true
		case s.mispredicted+1 >= maxMispredicted:
			s.useDriver = true
		default:
			s.mispredicted++
			s.template, s.sample = asked.mapStrings(n.abstract), n
		}
	}
	return asked, ok
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

// runPlan runs the compiler and then the assembler of plan, the assembly in
// an anonymous memory file, in the environment the driver would give them.
// ok is false when either failed or could not start (the caller runs the
// driver).
func (j *job) runPlan(ctx context.Context, plan driverPlan, extra []*os.File) (out output, ok bool, err error) {
	as, found := lookPathIn(plan.assembler[0], j.req.Env, j.req.Dir)
	if !found {
		return output{}, false, nil
	}
	asm, err := newCapture("asm")
	if err != nil {
		return output{}, false, nil
	}
	defer asm.Close()
	files := append(slices.Clone(extra), asm)
	asmName := fmt.Sprintf("/dev/fd/%d", 2+len(files))
	env := withSettings(j.req.Env, plan.env)
	subst := func(s string) string {
		if s == asmPlaceholder {
			return asmName
		}
		return s
	}
	cc1 := plan.mapStrings(subst)
	first, err := runProcess(ctx, j.req.Dir, withSettings(env, []string{"COLLECT_GCC_OPTIONS=" + cc1.compilerOptions}), cc1.compiler, files...)
	if err != nil || first.exit != 0 {
		return output{}, false, ctx.Err()
	}
	argv := slices.Clone(cc1.assembler)
	argv[0] = as
	second, err := runProcess(ctx, j.req.Dir, withSettings(env, []string{"COLLECT_GCC_OPTIONS=" + cc1.assemblerOptions}), argv, files...)
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
