package compile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcc-build/dcc/daemon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shownPlan is gcc 12's -### output for "gcc -g -O2 -c zutil.c -o
// objs/zutil.o -MD -MF /dev/fd/3" (the header lines shortened).
const shownPlan = `Using built-in specs.
COLLECT_GCC=/usr/bin/gcc
OFFLOAD_TARGET_NAMES=nvptx-none:amdgcn-amdhsa
OFFLOAD_TARGET_DEFAULT=1
Target: x86_64-linux-gnu
Configured with: ../src/configure -v --with-pkgversion='Debian 12.2.0-14' --prefix=/usr
Thread model: posix
gcc version 12.2.0 (Debian 12.2.0-14)
COLLECT_GCC_OPTIONS='-g' '-O2' '-c' '-o' 'objs/zutil.o' '-MD' '-MF' '/dev/fd/3' '-mtune=generic' '-march=x86-64' '-dumpdir' 'objs/'
 /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet -imultiarch x86_64-linux-gnu -MD objs/zutil.d -MF /dev/fd/3 -MQ objs/zutil.o zutil.c -quiet -dumpdir objs/ -dumpbase zutil.c -dumpbase-ext .c "-mtune=generic" "-march=x86-64" -g -O2 -o /tmp/ccdW5iG1.s
COLLECT_GCC_OPTIONS='-g' '-O2' '-c' '-o' 'objs/zutil.o' '-MD' '-MF' '/dev/fd/3' '-mtune=generic' '-march=x86-64' '-dumpdir' 'objs/'
 as --gdwarf-5 --64 -o objs/zutil.o /tmp/ccdW5iG1.s
COMPILER_PATH=/usr/lib/gcc/x86_64-linux-gnu/12/
LIBRARY_PATH=/usr/lib/gcc/x86_64-linux-gnu/12/
COLLECT_GCC_OPTIONS='-g' '-O2' '-c' '-o' 'objs/zutil.o' '-MD' '-MF' '/dev/fd/3' '-mtune=generic' '-march=x86-64' '-dumpdir' 'objs/zutil.'
`

func TestParseDriverPlan(t *testing.T) {
	p, ok := parseDriverPlan([]byte(shownPlan))
	require.True(t, ok)
	assert.Equal(t, []string{"COLLECT_GCC=/usr/bin/gcc", "OFFLOAD_TARGET_NAMES=nvptx-none:amdgcn-amdhsa", "OFFLOAD_TARGET_DEFAULT=1"}, p.env)
	assert.Equal(t, "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", p.compiler[0])
	assert.Equal(t, asmPlaceholder, p.compiler[len(p.compiler)-1])
	assert.Contains(t, p.compiler, "-mtune=generic", "quotes removed")
	assert.Equal(t, []string{"as", "--gdwarf-5", "--64", "-o", "objs/zutil.o", asmPlaceholder}, p.assembler)
	assert.Equal(t, "'-g' '-O2' '-c' '-o' 'objs/zutil.o' '-MD' '-MF' '/dev/fd/3' '-mtune=generic' '-march=x86-64' '-dumpdir' 'objs/'", p.compilerOptions)
	assert.Equal(t, p.compilerOptions, p.assemblerOptions)

	refused := []struct {
		name string
		edit func(string) string
	}{
		{"one command (-S)", func(s string) string {
			i := strings.Index(s, "COLLECT_GCC_OPTIONS='-g' '-O2' '-c' '-o' 'objs/zutil.o' '-MD' '-MF' '/dev/fd/3' '-mtune=generic' '-march=x86-64' '-dumpdir' 'objs/'\n as")
			return s[:i]
		}},
		{"three commands", func(s string) string {
			return strings.Replace(s, "COMPILER_PATH", "COLLECT_GCC_OPTIONS='-c'\n /usr/bin/objcopy x\nCOMPILER_PATH", 1)
		}},
		{"a command without its options", func(s string) string {
			return strings.Replace(s, "gcc version 12.2.0 (Debian 12.2.0-14)\nCOLLECT_GCC_OPTIONS='-g' '-O2' '-c' '-o' 'objs/zutil.o' '-MD' '-MF' '/dev/fd/3' '-mtune=generic' '-march=x86-64' '-dumpdir' 'objs/'\n", "gcc version 12.2.0\n", 1)
		}},
		{"an unknown setting", func(s string) string {
			return strings.Replace(s, "OFFLOAD_TARGET_DEFAULT=1", "OFFLOAD_TARGET_DEFAULT=1\nGCC_SOMETHING_NEW=1", 1)
		}},
		{"cc1 by a relative name", func(s string) string {
			return strings.Replace(s, " /usr/lib/gcc/x86_64-linux-gnu/12/cc1 ", " cc1 ", 1)
		}},
		{"a wrapper around cc1", func(s string) string {
			return strings.Replace(s, " /usr/lib/gcc/x86_64-linux-gnu/12/cc1 ", " /usr/bin/valgrind /usr/lib/gcc/x86_64-linux-gnu/12/cc1 ", 1)
		}},
		{"not the assembler", func(s string) string { return strings.Replace(s, " as --gdwarf-5", " objcopy --gdwarf-5", 1) }},
		{"-save-temps (the assembly kept)", func(s string) string { return strings.ReplaceAll(s, "/tmp/ccdW5iG1.s", "zutil.s") }},
		{"-pipe", func(s string) string { return strings.ReplaceAll(s, "/tmp/ccdW5iG1.s", "-") }},
		{"the assembly named elsewhere", func(s string) string {
			return strings.Replace(s, "-MQ objs/zutil.o", "-MQ /tmp/ccdW5iG1.s", 1)
		}},
		{"the assembler reads something else last", func(s string) string {
			return strings.Replace(s, "-o objs/zutil.o /tmp/ccdW5iG1.s", "/tmp/ccdW5iG1.s -o objs/zutil.o", 1)
		}},
		{"unterminated quote", func(s string) string { return strings.Replace(s, `"-march=x86-64"`, `"-march=x86-64`, 1) }},
		{"nothing", func(string) string { return "" }},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := parseDriverPlan([]byte(tc.edit(shownPlan)))
			assert.False(t, ok)
		})
	}
}

func TestUnitNamesAbstractAndConcrete(t *testing.T) {
	plan, ok := parseDriverPlan([]byte(shownPlan))
	require.True(t, ok)
	zutil, ok := namesOf("zutil.c", "objs/zutil.o")
	require.True(t, ok)
	adler, ok := namesOf("adler32.c", "objs/adler32.o")
	require.True(t, ok)
	template := plan.mapStrings(zutil.abstract)
	assert.True(t, template.mapStrings(zutil.concrete).equal(plan), "round trip")
	other := template.mapStrings(adler.concrete)
	assert.Contains(t, other.compiler, "adler32.c")
	assert.Contains(t, other.compiler, "objs/adler32.d")
	assert.Contains(t, other.compiler, "objs/adler32.o")
	assert.Contains(t, other.assembler, "objs/adler32.o")
	assert.Contains(t, other.compilerOptions, "'-o' 'objs/adler32.o'")
	assert.NotContains(t, strings.Join(other.compiler, " ")+other.compilerOptions, "zutil")

	// Different stems of source and object each have their own placeholder;
	// a name inside a longer word stays.
	n, ok := namesOf("src/main.c", "out/prog-main.o")
	require.True(t, ok)
	assert.Equal(t, sourcePlaceholder+" "+objectPlaceholder+" "+objectStemPlaceholder+".c "+sourceStemPlaceholder+" -mainly xmain main_ '"+sourceStemPlaceholder+"'",
		n.abstract("src/main.c out/prog-main.o prog-main.c main -mainly xmain main_ 'main'"))
	a, ok := namesOf("a.c", "a.o")
	require.True(t, ok)
	assert.Equal(t, "-march=x86-64 -fasynchronous "+sourcePlaceholder+" "+objectStemPlaceholder+".d '-o' '"+objectPlaceholder+"'",
		a.abstract("-march=x86-64 -fasynchronous a.c a.d '-o' 'a.o'"))

	for _, bad := range [][2]string{{"a b.c", "a.o"}, {"a.c", "it's.o"}, {`a\.c`, "a.o"}, {"a.c", "$x.o"}, {".c", "a.o"},
		{"", "a.o"}, {"a.c", ""}, {"..", "a.o"}, {"a.c", "out/."}} {
		_, ok := namesOf(bad[0], bad[1])
		assert.False(t, ok, "%q %q", bad[0], bad[1])
	}
}

func TestDriverShapesLearn(t *testing.T) {
	plan, ok := parseDriverPlan([]byte(shownPlan))
	require.True(t, ok)
	zutil, _ := namesOf("zutil.c", "objs/zutil.o")
	names := func(stem string) unitNames {
		n, ok := namesOf(stem+".c", "objs/"+stem+".o")
		require.True(t, ok)
		return n
	}
	// The driver's plan for names n, as gcc would print it.
	driverFor := func(n unitNames) driverPlan { return plan.mapStrings(zutil.abstract).mapStrings(n.concrete) }

	var d driverShapes
	ask := func(p driverPlan, ok bool) func() (driverPlan, bool) {
		return func() (driverPlan, bool) { return p, ok }
	}
	got, ok := d.plan("k", zutil, ask(plan, true))
	require.True(t, ok)
	assert.True(t, got.equal(plan), "the first compile runs its own plan")
	got, ok = d.plan("k", zutil, ask(plan, true))
	require.True(t, ok)
	assert.True(t, got.equal(plan))
	assert.Equal(t, 2, d.asked, "the same names again validate nothing")

	adler := names("adler32")
	got, ok = d.plan("k", adler, ask(driverFor(adler), true))
	require.True(t, ok)
	assert.True(t, got.equal(driverFor(adler)))
	assert.Equal(t, 3, d.asked)

	crc := names("crc32")
	got, ok = d.plan("k", crc, func() (driverPlan, bool) {
		t.Fatal("a validated shape does not ask the driver")
		return driverPlan{}, false
	})
	require.True(t, ok)
	assert.True(t, got.equal(driverFor(crc)), "predicted from the template")

	// Plans that differ from the prediction replace the template; after
	// maxMispredicted of them the shape goes to the driver for good.
	var e driverShapes
	_, ok = e.plan("k", zutil, ask(plan, true))
	require.True(t, ok)
	for i, stem := range []string{"adler32", "crc32", "deflate"} {
		n := names(stem)
		wrong := driverFor(n)
		wrong.compiler = append(wrong.compiler, fmt.Sprintf("-fseed=%d", i)) // not from the names
		got, ok = e.plan("k", n, ask(wrong, true))
		require.True(t, ok, "this compile still runs what the driver said")
		assert.True(t, got.equal(wrong))
		assert.Equal(t, i+1 == maxMispredicted, e.m["k"].useDriver, "after %s", stem)
	}
	_, ok = e.plan("k", names("inflate"), func() (driverPlan, bool) {
		t.Fatal("a shape that goes through the driver does not ask again")
		return driverPlan{}, false
	})
	assert.False(t, ok)

	// A template made from a name that turns up as a word of its own
	// elsewhere ("objs", the objects' directory) mispredicts; the next one,
	// from another name, holds, and predicts that name right too.
	var g driverShapes
	gnu := names("objs")
	_, ok = g.plan("k", gnu, ask(driverFor(gnu), true))
	require.True(t, ok)
	assert.Contains(t, strings.Join(g.m["k"].template.compiler, " "), "-dumpdir "+objectStemPlaceholder+"/")
	_, ok = g.plan("k", adler, ask(driverFor(adler), true))
	require.True(t, ok)
	assert.False(t, g.m["k"].validated)
	_, ok = g.plan("k", crc, ask(driverFor(crc), true))
	require.True(t, ok)
	assert.True(t, g.m["k"].validated)
	got, ok = g.plan("k", gnu, ask(driverPlan{}, false))
	require.True(t, ok)
	assert.True(t, got.equal(driverFor(gnu)), "predicted right for that name too")
	assert.Contains(t, got.compiler, "objs/objs.o")

	// A plan that does not parse does too.
	var f driverShapes
	_, ok = f.plan("k", zutil, ask(driverPlan{}, false))
	assert.False(t, ok)
	_, ok = f.plan("k", adler, func() (driverPlan, bool) {
		t.Fatal("a shape that goes through the driver does not ask again")
		return driverPlan{}, false
	})
	assert.False(t, ok)
}

// newDependService opens a service in depend mode, bypassing gcc's driver
// as a daemon does by default, over a fresh store.
func newDependService(t *testing.T) *Service {
	t.Helper()
	return newTestServiceWith(t, func(o *Options) { o.DependMode, o.BypassDriver = true, true })
}

// runPlain runs the real compiler in dir and returns its object, stderr
// and exit code.
func runPlain(t *testing.T, compiler, dir string, args []string, object string) ([]byte, string, int) {
	t.Helper()
	cmd := exec.Command(compiler, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	obj, _ := os.ReadFile(filepath.Join(dir, object))
	return obj, stderr.String(), code
}

// TestCompileWithoutDriverIdentical: units of one shape (C with -g, and C++)
// compiled by the daemon give the driver's objects, dependency files and
// warnings byte for byte; the driver is asked twice per shape, then not,
// also when the environment names the unit, as make's command-line variables
// do ("make CFLAGS='-MF $@.d'").
func TestCompileWithoutDriverIdentical(t *testing.T) {
	gcc := gccPath(t)
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("g++ not installed")
	}
	units := []string{"alpha", "beta", "gamma", "delta"}
	for _, lang := range []struct {
		name, compiler, ext string
		flags               []string
		// env is what the unit's environment adds.
		env func(unit string) []string
	}{
		{"C -g -O2", gcc, ".c", []string{"-g", "-O2", "-Wall"}, nil},
		{"C++ -O1", gxx, ".cc", []string{"-O1", "-std=c++17", "-Wall"}, nil},
		{"C, the unit named in the environment", gcc, ".c", []string{"-O1", "-Wall"}, func(u string) []string {
			return []string{"CFLAGS=-MF .depend/objs/" + u + ".o.d -MQ objs/" + u + ".o -O1", "UNIT=" + u}
		}},
	} {
		t.Run(lang.name, func(t *testing.T) {
			s := newDependService(t)
			dir := t.TempDir()
			files := map[string]string{"inc/common.h": "#define TWICE(x) ((x) * 2)\nint shared(int);\n"}
			for i, u := range units {
				files[u+lang.ext] = "#include \"common.h\"\n#include <stdio.h>\nint " + u + "(int x) { int unused" +
					strings.Repeat("_", i) + "; printf(\"%d\\n\", x); return TWICE(x); }\n"
			}
			writeTree(t, dir, files)
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "objs"), 0o755))
			settle(t, dir)
			for i, u := range units {
				object, deps := "objs/"+u+".o", "objs/"+u+".d"
				args := append(append([]string{}, lang.flags...), "-Iinc", "-MD", "-c", u+lang.ext, "-o", object)
				env := os.Environ()
				if lang.env != nil {
					env = append(env, lang.env(u)...)
				}
				res := s.Compile(context.Background(), daemon.CompileRequest{
					Compiler: filepath.Base(lang.compiler), Real: lang.compiler, Dir: dir, Env: env, Args: args})
				require.True(t, res.Handled, res.Reason)
				assert.Equal(t, "cache miss", res.Reason)
				gotObj, gotDeps := readT(t, dir, object), readT(t, dir, deps)
				require.NoError(t, os.Remove(filepath.Join(dir, object)))
				require.NoError(t, os.Remove(filepath.Join(dir, deps)))
				obj, stderr, code := runPlain(t, lang.compiler, dir, args, object)
				require.Zero(t, code, stderr)
				assert.True(t, bytes.Equal(obj, gotObj), "%s: the object differs from the driver's", u)
				assert.Equal(t, string(readT(t, dir, deps)), string(gotDeps), "%s: .d", u)
				assert.Equal(t, stderr, string(res.Stderr), "%s: warnings", u)
				assert.Contains(t, stderr, "unused", "the unit warns")
				s.driverShapes.mu.Lock()
				asked := s.driverShapes.asked
				s.driverShapes.mu.Unlock()
				assert.Equal(t, min(i+1, 2), asked, "after %s", u)
			}
		})
	}
}

// TestCompileWithoutDriverFailures: a unit that does not compile, in a shape
// that runs without the driver, gets the driver's diagnostics and exit code
// and is not cached.
func TestCompileWithoutDriverFailures(t *testing.T) {
	gcc := gccPath(t)
	s := newDependService(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.c": "int a(void) { return 1; }\n", "b.c": "int b(void) { return 2; }\n",
		"c.c": "int c(void) { return undeclared; }\n", "d.c": "int d(void) { return 4; }\n"})
	settle(t, dir)
	compile := func(u string) daemon.CompileResult {
		return s.Compile(context.Background(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(),
			Args: []string{"-O2", "-c", u + ".c", "-o", u + ".o"}})
	}
	for _, u := range []string{"a", "b"} {
		require.True(t, compile(u).Handled)
	}
	res := compile("c")
	assert.NoFileExists(t, filepath.Join(dir, "c.o"))
	_, stderr, code := runPlain(t, gcc, dir, []string{"-O2", "-c", "c.c", "-o", "c.o"}, "c.o")
	require.NotZero(t, code)
	assert.Equal(t, code, res.ExitCode)
	assert.Equal(t, stderr, string(res.Stderr))
	assert.Equal(t, "compile failed: not cached", res.Reason)

	res = compile("d")
	require.True(t, res.Handled)
	got := readT(t, dir, "d.o")
	obj, _, _ := runPlain(t, gcc, dir, []string{"-O2", "-c", "d.c", "-o", "d.o"}, "d.o")
	assert.True(t, bytes.Equal(obj, got))
	s.driverShapes.mu.Lock()
	defer s.driverShapes.mu.Unlock()
	assert.Equal(t, 2, s.driverShapes.asked, "c and d ran without the driver (c's failure through it)")
}

func TestLookPathIn(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"bin1/tool": "not executable", "bin2/tool": "#!/bin/sh\n", "bin3/tool": "#!/bin/sh\n"})
	require.NoError(t, os.Chmod(filepath.Join(dir, "bin2/tool"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(dir, "bin3/tool"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin0/tool"), 0o755))
	env := []string{"PATH=bin0:" + filepath.Join(dir, "bin1") + ":bin2:bin3"}
	p, ok := lookPathIn("tool", env, dir)
	require.True(t, ok)
	assert.Equal(t, filepath.Join(dir, "bin2/tool"), p, "directories and files without x skipped; relative entries from dir")
	_, ok = lookPathIn("missing", env, dir)
	assert.False(t, ok)
	p, ok = lookPathIn("/usr/bin/as", env, dir)
	assert.True(t, ok)
	assert.Equal(t, "/usr/bin/as", p)
}

func TestWithSettings(t *testing.T) {
	got := withSettings([]string{"A=1", "COLLECT_GCC=x", "B=2", "COLLECT_GCC=y"}, []string{"COLLECT_GCC=/usr/bin/gcc", "C=3"})
	assert.Equal(t, []string{"A=1", "B=2", "COLLECT_GCC=/usr/bin/gcc", "C=3"}, got)
}

func TestDriverOnly(t *testing.T) {
	for _, arg := range []string{"-v", "--verbose", "-time", "-time=t.log", "@args.rsp", "-specs=my.specs", "--specs=x",
		"-B/opt/bin", "-Bprefix", "-wrapper", "-save-temps", "-save-temps=obj", "-pipe", "-flto", "-flto=auto", "-fcompare-debug"} {
		assert.True(t, driverOnly(arg), arg)
	}
	for _, arg := range []string{"-O2", "-g", "-c", "-o", "a.o", "-Wall", "-Wa,--noexecstack", "-fPIC", "-DV=1", "-I.", "-MD"} {
		assert.False(t, driverOnly(arg), arg)
	}
}

// TestCompileWithDriverWhenAsked: bypass_driver = false leaves every
// compile to the driver.
func TestCompileWithDriverWhenAsked(t *testing.T) {
	gcc := gccPath(t)
	s := newTestServiceWith(t, func(o *Options) { o.DependMode = true })
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.c": "int a(void) { return 1; }\n", "b.c": "int b(void) { return 2; }\n", "c.c": "int c;\n"})
	settle(t, dir)
	for _, u := range []string{"a", "b", "c"} {
		res := s.Compile(context.Background(), daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Env: os.Environ(),
			Args: []string{"-O2", "-c", u + ".c", "-o", u + ".o"}})
		require.True(t, res.Handled, res.Reason)
		assert.FileExists(t, filepath.Join(dir, u+".o"))
	}
	assert.Zero(t, s.driverShapes.asked)
}

func TestIsDriverProgram(t *testing.T) {
	gcc := gccPath(t)
	assert.True(t, isDriverProgram(gcc), "gcc through its symbolic links")
	dir := t.TempDir()
	script := filepath.Join(dir, "gcc")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho wrapped >&2\nexec "+gcc+" \"$@\"\n"), 0o755))
	assert.False(t, isDriverProgram(script), "a script named gcc")
	other := filepath.Join(dir, "bin", "gcc")
	require.NoError(t, os.MkdirAll(filepath.Dir(other), 0o755))
	truePath, err := exec.LookPath("true")
	require.NoError(t, err)
	require.NoError(t, os.Symlink(truePath, other))
	assert.False(t, isDriverProgram(other), "another program linked as gcc")
	assert.False(t, isDriverProgram(filepath.Join(dir, "missing")))
}

// TestCompileThroughScriptDriver: a compiler that is a script calling gcc
// runs, every time (its own output included), with dcc's dependency list in
// a file it can pass on.
func TestCompileThroughScriptDriver(t *testing.T) {
	gcc := gccPath(t)
	s := newDependService(t)
	dir := t.TempDir()
	script := filepath.Join(t.TempDir(), "gcc")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho wrapped >&2\nexec "+gcc+" \"$@\" </dev/null 3>&-\n"), 0o755))
	writeTree(t, dir, map[string]string{"one.c": "int one;\n", "two.c": "int two;\n", "three.c": "int three;\n"})
	settle(t, dir)
	for _, u := range []string{"one", "two", "three"} {
		res := s.Compile(context.Background(), daemon.CompileRequest{Compiler: "gcc", Real: script, Dir: dir, Env: os.Environ(),
			Args: []string{"-O2", "-c", u + ".c", "-o", u + ".o"}})
		require.True(t, res.Handled, res.Reason)
		assert.Equal(t, "cache miss", res.Reason)
		assert.Equal(t, "wrapped\n", string(res.Stderr))
		assert.FileExists(t, filepath.Join(dir, u+".o"))
	}
	assert.Equal(t, 1, s.driverShapes.asked, "the shape learns once that it goes through the driver")
}

func TestReplaceWord(t *testing.T) {
	for _, tc := range []struct{ s, word, want string }{
		{"a.c a.o -march 'a.o'", "a", "#.c #.o -march '#.o'"},
		{"xaaa aa", "aa", "xaaa #"},
		{"aa-aa aa", "aa", "aa-aa #"},
		{"zutil zutil/zutil.d", "zutil", "# #/#.d"},
		{"", "a", ""},
		{"abc", "abc", "#"},
		{"abc", "", "abc"},
	} {
		assert.Equal(t, tc.want, replaceWord(tc.s, tc.word, "#"), "%q in %q", tc.word, tc.s)
	}
}

// FuzzParseDriverPlan: whatever a compiler prints for -###, the parser does
// not panic, and a plan it accepts names the assembly file exactly twice,
// as the compiler's output and the assembler's last input.
func FuzzParseDriverPlan(f *testing.F) {
	f.Add([]byte(shownPlan))
	f.Add([]byte("COLLECT_GCC_OPTIONS='-c'\n /x/cc1 -o /tmp/cc1.s\nCOLLECT_GCC_OPTIONS='-c'\n as /tmp/cc1.s\n"))
	f.Add([]byte(" as\n"))
	f.Fuzz(func(t *testing.T, shown []byte) {
		p, ok := parseDriverPlan(shown)
		if !ok {
			return
		}
		uses := 0
		for _, cmd := range [][]string{p.compiler, p.assembler} {
			for _, a := range cmd {
				if a == asmPlaceholder {
					uses++
				}
			}
		}
		if uses != 2 || p.assembler[len(p.assembler)-1] != asmPlaceholder {
			t.Fatalf("accepted a plan that names the assembly %d times: %+v", uses, p)
		}
	})
}

// FuzzUnitNamesRoundTrip: putting a unit's names back into what abstract
// made of a string gives the string again.
func FuzzUnitNamesRoundTrip(f *testing.F) {
	f.Add("zutil.c", "objs/zutil.o", shownPlan)
	f.Add("a.c", "a.o", "-march=x86-64 a.c 'a.o' a.d aa a-a")
	f.Add("src/main.c", "out/prog-main.o", "prog-main.c main src/main.c")
	f.Fuzz(func(t *testing.T, source, object, s string) {
		n, ok := namesOf(source, object)
		if !ok || strings.Contains(s, "\x00") {
			return
		}
		if got := n.concrete(n.abstract(s)); got != s {
			t.Fatalf("names %+v: %q became %q", n, s, got)
		}
	})
}
