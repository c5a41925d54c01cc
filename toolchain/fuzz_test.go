package toolchain

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// slowInput is how long one fuzz input may take before it counts as a hang.
const slowInput = 10 * time.Second

// fuzzQuotings are the quotings a fuzz input's selector byte chooses from.
var fuzzQuotings = []Quoting{QuotingGCC, QuotingClang, QuotingWindows}

// fuzzDir makes a directory of response files fuzz inputs may name: nested
// files, a self-including one, a directory and the input itself (f.rsp). It is
// on /dev/shm where there is one: rewriting a file tens of thousands of times a
// second on ext4 stalls on flushes (auto_da_alloc) for seconds at a time.
func fuzzDir(f *testing.F) string {
	dir := f.TempDir()
	if shm, err := os.MkdirTemp("/dev/shm", "dcc-fuzz-"); err == nil {
		dir = shm
		f.Cleanup(func() { os.RemoveAll(shm) })
	}
	files := map[string]string{
		"a.rsp":    "-DA @b.rsp",
		"b.rsp":    "'-DB b' @f.rsp",
		"self.rsp": "@self.rsp",
		"win.rsp":  `/c "a b.c" /Fo"x\\"`,
		"a.c":      "int a;\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		f.Fatal(err)
	}
	return dir
}

// FuzzExpandResponseFiles feeds random response-file contents through every
// quoting: it never panics or hangs, errors are one line and wrap a sentinel,
// and the output stays within the limits.
func FuzzExpandResponseFiles(f *testing.F) {
	for _, tc := range gnuCases {
		f.Add([]byte(tc.text), uint8(0), "")
		f.Add([]byte(tc.text), uint8(1), "--rsp-quoting=windows")
	}
	for _, tc := range windowsCases {
		f.Add([]byte(tc.text), uint8(2), "")
	}
	f.Add([]byte("@f.rsp"), uint8(0), "")
	f.Add([]byte("-c @a.rsp @self.rsp"), uint8(1), "")
	f.Add([]byte("@d x"), uint8(0), "")
	f.Add([]byte("/c @win.rsp /link x"), uint8(2), "--driver-mode=cl")
	f.Add([]byte("@a.rsp @a.rsp @a.rsp"), uint8(0), "--rsp-quoting=posix")
	f.Add([]byte("\"@\n\""), uint8(2), "")
	dir := fuzzDir(f)
	rsp := filepath.Join(dir, "f.rsp")
	f.Fuzz(func(t *testing.T, data []byte, sel uint8, extra string) {
		if err := os.WriteFile(rsp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		q := fuzzQuotings[int(sel)%len(fuzzQuotings)]
		args := []string{"-c", extra, "@f.rsp", "x.c"}
		start := time.Now()
		out, err := ExpandResponseFiles(args, dir, q)
		if d := time.Since(start); d > slowInput {
			t.Fatalf("%v took %v", q, d)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") || err.Error() == "" {
				t.Fatalf("error is not one line: %q", err)
			}
			if !errors.Is(err, ErrResponseFileLimit) && !errors.Is(err, ErrResponseFileCycle) && !errors.Is(err, ErrResponseFileInvalid) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(out) > maxExpandedArgs {
			t.Fatalf("%d arguments", len(out))
		}
		total := 0
		for _, a := range out {
			total += len(a)
		}
		if total > 2*maxResponseBytes+len(extra)+16 {
			t.Fatalf("%d bytes of arguments", total)
		}
		if out[0] != "-c" || out[len(out)-1] != "x.c" || (!strings.HasPrefix(extra, "@") && out[1] != extra) {
			t.Fatalf("arguments around the @-file changed: %q", out)
		}
	})
}

// gnuQuote writes args as libiberty's writeargv does: a backslash before every
// space, backslash and quote, one argument per line.
func gnuQuote(args []string) string {
	var b strings.Builder
	for _, a := range args {
		for i := 0; i < len(a); i++ {
			if isGCCSpace(a[i]) || a[i] == '\\' || a[i] == '\'' || a[i] == '"' {
				b.WriteByte('\\')
			}
			b.WriteByte(a[i])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// windowsQuote quotes args for CommandLineToArgvW-style parsing.
func windowsQuote(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteByte('"')
		slashes := 0
		for i := 0; i < len(a); i++ {
			switch a[i] {
			case '\\':
				slashes++
				continue
			case '"':
				b.WriteString(strings.Repeat(`\`, 2*slashes+1))
			default:
				b.WriteString(strings.Repeat(`\`, slashes))
			}
			slashes = 0
			b.WriteByte(a[i])
		}
		b.WriteString(strings.Repeat(`\`, 2*slashes))
		b.WriteString("\" ")
	}
	return b.String()
}

// FuzzResponseFileRoundTrip checks that arguments written the way each
// toolchain writes response files read back unchanged.
func FuzzResponseFileRoundTrip(f *testing.F) {
	f.Add("-c\x00a b.c\x00-DX=\"1\"\x00C:\\dir\\\x00it's\x00\\\\\"")
	f.Add("\xEF\xBB\xBF\x00\xFF\xFE\x00\v\f")
	f.Fuzz(func(t *testing.T, joined string) {
		var args []string
		for _, a := range strings.Split(joined, "\x00") {
			if a != "" {
				args = append(args, a)
			}
		}
		// A leading newline keeps arguments from looking like a byte-order mark.
		for _, tc := range []struct {
			q     string
			text  string
			split func([]byte) ([]string, error)
		}{
			{"gcc", "\n" + gnuQuote(args), splitGCC},
			{"clang", "\n" + gnuQuote(args), splitClang},
			{"windows", "\n" + windowsQuote(args), splitWindows},
		} {
			got, err := tc.split([]byte(tc.text))
			if err != nil {
				t.Fatalf("%s: %v on %q", tc.q, err, tc.text)
			}
			if !slices.Equal(got, args) && !(len(got) == 0 && len(args) == 0) {
				t.Fatalf("%s: %q read back as %q", tc.q, args, got)
			}
		}
	})
}

// fuzzCompilers are the compiler names FuzzClassify chooses from, with the family
// their names mean.
var fuzzCompilers = []struct {
	name   string
	family Family
}{
	{"gcc", FamilyGCC},
	{"clang++", FamilyClang},
	{"clang-cl", FamilyMSVC},
	{"cl.exe", FamilyMSVC},
}

// FuzzClassify classifies random argument vectors (the input split on NUL): it
// never panics or hangs, always answers one of the three actions with a one-line
// reason, names a source and an object when it says the result can be cached,
// leaves its input alone and answers the same twice.
func FuzzClassify(f *testing.F) {
	seeds := []string{
		"-c\x00a.c",
		"-c\x00a.c\x00-o\x00out/a.o\x00-MD\x00-MF\x00a.d",
		"-O2\x00-g\x00-c\x00src/x.cpp\x00-Iinc\x00-DX=1\x00-Wp,-MD,x.d",
		"-c\x00a.c\x00-march=native",
		"-E\x00a.c",
		"a.c\x00b.c\x00-o\x00prog",
		"-c\x00-x\x00c++\x00-\x00-o\x00-",
		"@a.rsp\x00-c\x00a.c",
		"@self.rsp",
		"--version",
		"/c\x00a.c\x00/Foout\\a.obj\x00/O2\x00/Zi",
		"/c\x00@win.rsp",
		"/nologo\x00/EHsc\x00/c\x00a.cpp\x00/link\x00/DEBUG",
		"-c\x00a.c\x00-gsplit-dwarf\x00--coverage\x00-fstack-usage",
		"",
		"-\n", // found by this fuzzer: a reason quoting an argument with a newline
		"-c\x00a\n.c",
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	dir := fuzzDir(f)
	actions := []Action{ActionRemote, ActionCache, ActionLocal}
	f.Fuzz(func(t *testing.T, sel uint8, joined string) {
		c := fuzzCompilers[int(sel)%len(fuzzCompilers)]
		args := strings.Split(joined, "\x00")
		orig := slices.Clone(args)
		cmd := Command{Compiler: c.name, Args: args, Dir: dir}
		start := time.Now()
		a := Classify(cmd)
		if d := time.Since(start); d > slowInput {
			t.Fatalf("took %v", d)
		}
		if !slices.Contains(actions, a.Action) {
			t.Fatalf("action %q", a.Action)
		}
		if a.Reason == "" || strings.Contains(a.Reason, "\n") {
			t.Fatalf("reason %q is not one line", a.Reason)
		}
		if a.Family != c.family {
			t.Fatalf("family %q for %s", a.Family, c.name)
		}
		if a.Cacheable() && (a.Source == "" || a.Outputs.Object == "") {
			t.Fatalf("cacheable without a source or object: %+v", a)
		}
		if !slices.Equal(args, orig) {
			t.Fatalf("Classify changed its input: %q", args)
		}
		if b := Classify(cmd); !reflect.DeepEqual(a, b) {
			t.Fatalf("two answers:\n%+v\n%+v", a, b)
		}
	})
}

// nameVersionRE matches ParseCompilerName's version suffix.
var nameVersionRE = regexp.MustCompile(`^([0-9]+(\.[0-9]+)*)?$`)

// FuzzParseCompilerName checks ParseCompilerName on random names: it never
// panics, agrees with IsCompilerName, answers only known drivers with their own
// family, and ignores the directory a name is in.
func FuzzParseCompilerName(f *testing.F) {
	for _, s := range []string{"gcc", "x86_64-linux-gnu-g++-12", "clang-cl-14.exe", `C:\VC\cl.exe`, "cc1", "-gcc", "", "gcc-", "CL.EXE", "a/b\\c-clang++-1.2"} {
		f.Add(s)
	}
	family := map[string]Family{}
	for _, d := range drivers {
		family[d.name] = d.family
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, ok := ParseCompilerName(s)
		if ok != IsCompilerName(s) {
			t.Fatalf("IsCompilerName disagrees on %q", s)
		}
		if !ok {
			if name != (CompilerName{}) {
				t.Fatalf("%q: not ok but %+v", s, name)
			}
		} else {
			if fam, known := family[name.Driver]; !known || fam != name.Family {
				t.Fatalf("%q: driver %q with family %q", s, name.Driver, name.Family)
			}
			if strings.ContainsAny(name.Target+name.Version, `/\`) {
				t.Fatalf("%q: directory in %+v", s, name)
			}
			if !nameVersionRE.MatchString(name.Version) {
				t.Fatalf("%q: version %q", s, name.Version)
			}
			if !strings.Contains(strings.ToLower(s), name.Driver) {
				t.Fatalf("%q: driver %q not in the name", s, name.Driver)
			}
		}
		if !strings.ContainsAny(s, `/\`) && utf8.ValidString(s) {
			for _, dir := range []string{"/usr/bin/", `C:\bin\`} {
				if got, gotOK := ParseCompilerName(dir + s); got != name || gotOK != ok {
					t.Fatalf("%q in %s: %+v %v, alone: %+v %v", s, dir, got, gotOK, name, ok)
				}
			}
		}
	})
}
