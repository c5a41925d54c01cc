package server

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dcc-build/dcc/depfile"
	"github.com/dcc-build/dcc/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"
)

// gccSystemDirs lists gcc's own include directories for C, in order.
func gccSystemDirs(t *testing.T, gcc string) []string {
	t.Helper()
	cmd := exec.Command(gcc, "-xc", "-E", "-v", "-")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var dirs []string
	in := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "#include <...> search starts here:"):
			in = true
		case strings.HasPrefix(line, "End of search list."):
			in = false
		case in && strings.HasPrefix(line, " "):
			dirs = append(dirs, filepath.Clean(strings.TrimSpace(line)))
		}
	}
	require.NotEmpty(t, dirs)
	return dirs
}

// sourcesUnit writes a client tree: src/main.c including a header from
// include/ (through -Iinclude) and stdio.h, and compiles it there with -MD.
// It returns the client directory, the request carrying every file the
// compile read, and the local object and dependency list.
func sourcesUnit(t *testing.T, comp Compiler, args []string) (string, *protocol.CompileRequest, []byte, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "client", "proj")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "src"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "include"), 0o755))
	files := map[string]string{
		"include/point.h": "#ifndef POINT_H\n#define POINT_H\nstruct point { int x, y; };\n#define SQUARE(v) \\\n  ((v) * (v))\n#endif\n",
		"src/main.c": "#include <stdio.h>\n#include \"point.h\"\nint norm2(struct point p) { return SQUARE(p.x) +\n  SQUARE(p.y); }\n" +
			"int main(void) { struct point p = {3, 4}; printf(\"%d %s\\n\", norm2(p), __FILE__); return 0; }\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	local := append(append([]string{}, args...), "-Iinclude", "-MD", "-MF", "local.d", "-c", "src/main.c")
	obj := localCompile(t, dir, comp.Path, local...)
	data, err := os.ReadFile(filepath.Join(dir, "local.d"))
	require.NoError(t, err)
	deps, ok := depfile.Parse(data)
	require.True(t, ok)
	req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Args: args, SourceName: "src/main.c",
		ClientDir: dir, IncludeArgs: []string{"-Iinclude"}, SystemDirs: gccSystemDirs(t, comp.Path), Preinclude: "stdc-predef.h"}
	for _, d := range deps {
		p := d
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		req.Sources = append(req.Sources, protocol.SourceFile{Path: filepath.Clean(p), Digest: blake3.Sum256(data), Data: data})
	}
	return dir, req, obj, deps
}

// TestJobFromSourcesIdenticalToLocalCompile: a job compiled from its
// sources writes the object a local compile of the same tree writes, debug
// information included (source columns, lines of a macro call over two
// lines, __FILE__), and lists the files read as the client names them.
func TestJobFromSourcesIdenticalToLocalCompile(t *testing.T) {
	comp := realCompiler(t, "gcc")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	for _, args := range [][]string{{"-O2"}, {"-g", "-O2"}, {"-g3", "-O0", "-Wall"},
		{"-g", "-ffile-prefix-map=/usr=/U", "-fdebug-prefix-map=/=/R"}, {"-g", "-fmacro-prefix-map=src=S", "-ffile-prefix-map=/tmp=."}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, req, want, deps := sourcesUnit(t, comp, args)
			res, err := runJob(t.Context(), r, req)
			require.NoError(t, err)
			require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
			assert.True(t, bytes.Equal(want, res.Object), "object differs from the local compile (%d vs %d bytes)", len(res.Object), len(want))
			assert.False(t, bytes.Contains(res.Object, []byte(work)), "the object records the server's directory")
			assert.Equal(t, deps, res.Deps)
			assertEmptyDir(t, work)
			assertEmptyDir(t, r.treeDir)
		})
	}
}

// sourceFile is a file sent whole.
func sourceFile(path, text string) protocol.SourceFile {
	return protocol.SourceFile{Path: path, Digest: blake3.Sum256([]byte(text)), Data: []byte(text)}
}

// TestJobFromSourcesByDigest: files sent whole are kept; a later job may
// name them by digest and compiles the same.
func TestJobFromSourcesByDigest(t *testing.T) {
	comp := realCompiler(t, "gcc")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	_, req, want, _ := sourcesUnit(t, comp, []string{"-g", "-O2"})
	res, err := runJob(t.Context(), r, req)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, res.Object))

	byDigest := *req
	byDigest.Sources = nil
	for _, f := range req.Sources {
		byDigest.Sources = append(byDigest.Sources, protocol.SourceFile{Path: f.Path, ModTime: f.ModTime, Digest: f.Digest, ByDigest: true})
	}
	res, err = runJob(t.Context(), r, &byDigest)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, res.Object), "the same object from the kept contents")
	assertEmptyDir(t, work)

	// A cache too small for them keeps nothing: the job is refused as
	// missing its sources.
	small, _ := newTestRunner(t, RunnerOptions{SourceCacheBytes: 1}, comp)
	_, err = runJob(t.Context(), small, req)
	require.NoError(t, err)
	_, err = small.Prepare(&byDigest)
	var ref *Refusal
	require.True(t, errors.As(err, &ref), "%v", err)
	assert.Equal(t, protocol.CodeMissingSources, ref.Code)
}

// TestJobFromSourcesMissingHeader: a header that was not sent is not found
// on the server (not taken from the server's own /usr/include).
func TestJobFromSourcesMissingHeader(t *testing.T) {
	comp := realCompiler(t, "gcc")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	_, req, _, _ := sourcesUnit(t, comp, []string{"-O2"})
	var kept []protocol.SourceFile
	for _, f := range req.Sources {
		if !strings.HasSuffix(f.Path, "/stdio.h") {
			kept = append(kept, f)
		}
	}
	req.Sources = kept
	res, err := runJob(t.Context(), r, req)
	require.NoError(t, err)
	assert.NotZero(t, res.ExitCode)
	assert.Contains(t, string(res.Stderr), "stdio.h")
	assertEmptyDir(t, work)
}

// TestJobFromSourcesRefusals: names the server would look up outside the
// job's tree, and malformed requests, are refused with a clear reason.
func TestJobFromSourcesRefusals(t *testing.T) {
	comp := realCompiler(t, "gcc")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	base := func() *protocol.CompileRequest {
		return &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", SourceName: "a.c", ClientDir: "/home/u/p",
			Sources: []protocol.SourceFile{sourceFile("/home/u/p/a.c", "int x;\n")}, SystemDirs: []string{"/usr/include"}}
	}
	withSource := func(text string) func(*protocol.CompileRequest) {
		return func(r *protocol.CompileRequest) { r.Sources[0] = sourceFile(r.Sources[0].Path, text) }
	}
	tests := []struct {
		name   string
		change func(*protocol.CompileRequest)
		code   string
		want   string
	}{
		{"absolute include", withSource("#include \"/etc/passwd\"\n"), protocol.CodeForbiddenArg, `"/etc/passwd", an absolute path`},
		{"absolute probe", withSource("#if __has_include(</etc/shadow>)\n#endif\n"), protocol.CodeForbiddenArg, "absolute path"},
		{"climbing include", withSource("#include \"../../../../x.h\"\n"), protocol.CodeForbiddenArg, "climbs out"},
		{"computed include", withSource("#define S(x) #x\n#define F S(stdio.h)\n#include F\n"), protocol.CodeForbiddenArg, "line 2: F is defined as something else"},
		{"macro include of an absolute name", withSource("#define F </etc/passwd>\n#include F\n"), protocol.CodeForbiddenArg, `line 2 refused: it names "/etc/passwd"`},
		{"macro include from -D climbing", func(r *protocol.CompileRequest) {
			r.Sources[0] = sourceFile(r.Sources[0].Path, "#include F\n")
			r.IncludeArgs = []string{`-DF="../../../../etc/passwd"`}
		}, protocol.CodeForbiddenArg, "climbs out"},
		{"macro include of a builtin", withSource("#include __FILE__\n"), protocol.CodeForbiddenArg, "__FILE__"},
		{"include with junk", withSource("#include F G\n"), protocol.CodeForbiddenArg, "line 1"},
		{"pragma dependency", withSource("#pragma GCC dependency \"a.c\"\nint x;\n"), protocol.CodeForbiddenArg, "a.c"},
		{"relative path", func(r *protocol.CompileRequest) { r.Sources[0].Path = "a.c" }, protocol.CodeMalformed, `source path "a.c"`},
		{"unclean path", func(r *protocol.CompileRequest) { r.Sources[0].Path = "/home/u/p/../p/a.c" }, protocol.CodeMalformed, "clean"},
		{"root path", func(r *protocol.CompileRequest) { r.Sources[0].Path = "/" }, protocol.CodeMalformed, "source path"},
		{"twice", func(r *protocol.CompileRequest) { r.Sources = append(r.Sources, r.Sources[0]) }, protocol.CodeMalformed, "sent twice"},
		{"source not sent", func(r *protocol.CompileRequest) { r.SourceName = "b.c" }, protocol.CodeMalformed, "not one of the files sent"},
		{"source climbing", func(r *protocol.CompileRequest) { r.SourceName = "../../../../home/u/p/a.c" }, protocol.CodeMalformed, "source name"},
		{"source as option", func(r *protocol.CompileRequest) { r.SourceName = "-fplugin=x.so" }, protocol.CodeMalformed, "source name"},
		{"relative client dir", func(r *protocol.CompileRequest) { r.ClientDir = "p" }, protocol.CodeMalformed, "client directory"},
		{"language", func(r *protocol.CompileRequest) { r.Language = "cpp-output" }, protocol.CodeMalformed, "language"},
		{"include dir climbing", func(r *protocol.CompileRequest) { r.IncludeArgs = []string{"-I../../../../etc"} }, protocol.CodeForbiddenArg, "leaves the job's tree"},
		{"absolute include dir climbing", func(r *protocol.CompileRequest) { r.IncludeArgs = []string{"-I/../etc"} }, protocol.CodeForbiddenArg, "leaves the job's tree"},
		{"absolute include dir climbing midway", func(r *protocol.CompileRequest) { r.IncludeArgs = []string{"-isystem/usr/../../../etc"} }, protocol.CodeForbiddenArg, "leaves the job's tree"},
		{"climbing out of an absolute include dir", func(r *protocol.CompileRequest) {
			// From /a, two levels up is above the root: the name is
			// checked against the directory itself, not the client's
			// directory with /a below it.
			r.Sources[0] = sourceFile(r.Sources[0].Path, "#include <../../x.h>\n")
			r.IncludeArgs = []string{"-I/a"}
		}, protocol.CodeForbiddenArg, "climbs out"},
		{"absolute source not sent", func(r *protocol.CompileRequest) { r.SourceName = "/etc/passwd" }, protocol.CodeMalformed, "not one of the files sent"},
		{"absolute source climbing", func(r *protocol.CompileRequest) { r.SourceName = "/../home/u/p/a.c" }, protocol.CodeMalformed, "not one of the files sent"},
		{"absolute source below the client dir", func(r *protocol.CompileRequest) { r.SourceName = "/a.c" }, protocol.CodeMalformed, "not one of the files sent"},
		{"include option", func(r *protocol.CompileRequest) { r.IncludeArgs = []string{"-include/etc/passwd"} }, protocol.CodeForbiddenArg, "only -I"},
		{"sysroot dir", func(r *protocol.CompileRequest) { r.IncludeArgs = []string{"-I=/usr/include"} }, protocol.CodeForbiddenArg, "want a directory"},
		{"relative system dir", func(r *protocol.CompileRequest) { r.SystemDirs = []string{"include"} }, protocol.CodeMalformed, "system directory"},
		{"preinclude path", func(r *protocol.CompileRequest) { r.Preinclude = "/etc/passwd" }, protocol.CodeMalformed, "preinclude"},
		{"empty prefix map", func(r *protocol.CompileRequest) { r.Args = []string{"-g", "-ffile-prefix-map==/b"} }, protocol.CodeForbiddenArg, "non-empty old prefix"},
		{"forbidden arg", func(r *protocol.CompileRequest) { r.Args = []string{"-fplugin=/x.so"} }, protocol.CodeForbiddenArg, "-fplugin"},
		{"digest mismatch", func(r *protocol.CompileRequest) { r.Sources[0].Data = []byte("int y;\n") }, protocol.CodeMalformed, "digest does not match"},
		{"unknown digest", func(r *protocol.CompileRequest) {
			r.Sources[0] = protocol.SourceFile{Path: r.Sources[0].Path, Digest: [32]byte{9}, ByDigest: true}
		}, protocol.CodeMissingSources, "1 of the 1 files were sent by digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			tt.change(req)
			_, err := r.Prepare(req)
			var ref *Refusal
			require.True(t, errors.As(err, &ref), "%v", err)
			assert.Equal(t, tt.code, ref.Code)
			assert.Contains(t, ref.Message, tt.want)
		})
	}
	_, err := r.Prepare(base())
	require.NoError(t, err, "the base request is fine")
	abs := base()
	abs.SourceName, abs.IncludeArgs = "/home/u/p/a.c", []string{"-I/opt/sdk/include", "-isystem/home/u/p/../p/third"}
	_, err = r.Prepare(abs)
	require.NoError(t, err, "absolute names inside the tree are fine")
	assertEmptyDir(t, work)
}

// TestJobFromSourcesAbsolutePaths: a unit named as CMake names it (an
// absolute source, absolute -I and -isystem directories, one given with a
// ".." through a directory that holds no file) compiles on the server,
// debug information included, to the object a local compile writes, and
// its files come back as the client names them.
func TestJobFromSourcesAbsolutePaths(t *testing.T) {
	comp := realCompiler(t, "gcc")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	for _, args := range [][]string{{"-O2"}, {"-g", "-O2"}, {"-g3", "-O0"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "client", "proj")
			build := filepath.Join(root, "build")
			files := map[string]string{
				"include/point.h":   "#ifndef POINT_H\n#define POINT_H\n#include <vendor.h>\nstruct point { int x, y; };\n#endif\n",
				"third/vendor.h":    "#define VENDOR(v) \\\n  ((v) + 1)\n",
				"build/gen/empty/x": "",
				"src/main.c":        "#include <stdio.h>\n#include \"point.h\"\nint main(void) { struct point p = {VENDOR(1),\n  2}; printf(\"%d %s\\n\", p.x, __FILE__); return 0; }\n",
			}
			for name, text := range files {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(text), 0o644))
			}
			inc := []string{"-I" + root + "/include", "-isystem" + build + "/gen/empty/../../../third"}
			local := slices.Concat(args, inc, []string{"-MD", "-MF", "local.d", "-c", root + "/src/main.c"})
			want := localCompile(t, build, comp.Path, local...)
			data, err := os.ReadFile(filepath.Join(build, "local.d"))
			require.NoError(t, err)
			deps, ok := depfile.Parse(data)
			require.True(t, ok)
			req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", Args: args, SourceName: root + "/src/main.c",
				ClientDir: build, IncludeArgs: inc, SystemDirs: gccSystemDirs(t, comp.Path), Preinclude: "stdc-predef.h"}
			for _, d := range deps {
				p := filepath.Clean(d)
				require.True(t, filepath.IsAbs(p), "%s", d)
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				req.Sources = append(req.Sources, protocol.SourceFile{Path: p, Digest: blake3.Sum256(data), Data: data})
			}
			res, err := runJob(t.Context(), r, req)
			require.NoError(t, err)
			require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
			assert.True(t, bytes.Equal(want, res.Object), "object differs from the local compile (%d vs %d bytes)", len(res.Object), len(want))
			assert.False(t, bytes.Contains(res.Object, []byte(r.treeDir)), "the object records the server's tree")
			assert.Equal(t, deps, res.Deps)
			assertEmptyDir(t, work)
			assertEmptyDir(t, r.treeDir)
		})
	}
}

func TestWalkedDirs(t *testing.T) {
	assert.Nil(t, walkedDirs("/c", "inc"))
	assert.Equal(t, []string{"/c/a/b", "/c/a"}, walkedDirs("/c", "a/b/../../inc"))
	assert.Equal(t, []string{"/c"}, walkedDirs("/c", "../inc"))
	assert.Equal(t, []string{"/x/y"}, walkedDirs("/c", "/x/./y/../z"))
}

// TestJobFromSourcesLayoutConflict: a file where the tree needs a directory
// is refused when laid out, and the job directory goes.
func TestJobFromSourcesLayoutConflict(t *testing.T) {
	comp := realCompiler(t, "gcc")
	r, work := newTestRunner(t, RunnerOptions{}, comp)
	req := &protocol.CompileRequest{Toolchain: comp.Info.Key, Language: "c", SourceName: "a.c", ClientDir: "/home/u/p",
		Sources: []protocol.SourceFile{sourceFile("/home/u/p/a.c", "int x;\n"), sourceFile("/home/u/p/a.c/b.h", "")}}
	_, err := runJob(t.Context(), r, req)
	var ref *Refusal
	require.True(t, errors.As(err, &ref), "%v", err)
	assert.Contains(t, ref.Message, "cannot be laid out")
	assertEmptyDir(t, work)
}

// TestDefaultTreeDir: the trees go to a private directory under /dev/shm
// when there is one; one that another user could write is not used.
func TestDefaultTreeDir(t *testing.T) {
	work := t.TempDir()
	if info, err := os.Stat(shmDir); err != nil || !info.IsDir() {
		assert.Equal(t, work, defaultTreeDir(work))
		return
	}
	dir := defaultTreeDir(work)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.True(t, strings.HasPrefix(dir, shmDir+"/dcc-server-"), dir)
	assert.Equal(t, ShmTreeDir(work), dir)
	info, err := os.Lstat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	assert.Equal(t, dir, defaultTreeDir(work), "the same workdir, the same directory")

	open := filepath.Join(t.TempDir(), "open")
	require.NoError(t, os.Mkdir(open, 0o777))
	require.NoError(t, os.Chmod(open, 0o777))
	assert.ErrorContains(t, privateDir(open), "open to other users")
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(t.TempDir(), link))
	assert.ErrorContains(t, privateDir(link), "not a directory")
}

func TestStaysInside(t *testing.T) {
	tests := []struct {
		base, rel string
		want      bool
	}{
		{"/home/u/p", "a.h", true},
		{"/home/u/p", "../../../a.h", true},
		{"/home/u/p", "../../../../a.h", false},
		{"/home/u/p", "x/../../../../a.h", true},
		{"/home/u/p", "x/../../../../../a.h", false},
		{"/", "a/../b", true},
		{"/", "../b", false},
		{"/home", "./.././b", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, staysInside(tt.base, tt.rel), "%s + %s", tt.base, tt.rel)
	}
}
