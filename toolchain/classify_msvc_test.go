package toolchain

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClassifyMSVC classifies whole cl.exe and clang-cl command lines. Every row
// cites the rule it checks: Microsoft's cl reference ("MS /Fo" means the page of
// that option), ccache (argprocessing.cpp, compopt.cpp), sccache (msvc.rs), or
// clang-cl's behaviour as measured with clang-cl 14 ("clang-cl 14").
func TestClassifyMSVC(t *testing.T) {
	const (
		remote = ActionRemote
		cache  = ActionCache
		local  = ActionLocal
	)
	tests := []struct {
		compiler string
		args     string // split on spaces
		action   Action
		lang     string
		source   string
		object   string
		reason   string   // substring of Reason, for local and cache rows
		ppArgs   []string // PreprocessorArgs, when given
		cgArgs   []string // CodegenArgs, when given
		deps     []string // DependencyArgs, when given
		cwd      bool     // RecordsWorkingDir
	}{
		// MS /c: compile without linking; MS /Fo: default object is the source's base name + .obj in the working directory.
		{compiler: "cl", args: "/c a.c", action: remote, lang: "c", source: "a.c", object: "a.obj"},
		// MS /Fo: the object goes to the current directory even when the source is elsewhere; .cpp is C++.
		{compiler: "cl.exe", args: `/c src\util.cpp`, action: remote, lang: "c++", source: `src\util.cpp`, object: "util.obj"},
		// MS command-line syntax: options may start with '-' as well as '/'; .cxx is C++.
		{compiler: "cl", args: `-c -nologo -O2 -MD -EHsc x.cxx -Fobuild\x.obj`, action: remote, lang: "c++", source: "x.cxx", object: `build\x.obj`,
			cgArgs: []string{"-nologo", "-O2", "-MD", "-EHsc"}},
		// MS /Fo: a trailing backslash names a directory for the object.
		{compiler: "cl", args: `/c a.c /Foout\`, action: remote, lang: "c", source: "a.c", object: `out\a.obj`},
		// MS /Fo: a trailing slash names a directory too.
		{compiler: "cl.exe", args: "/c a.c /Foout/", action: remote, lang: "c", source: "a.c", object: "out/a.obj"},
		// sccache msvc.rs: an /Fo name without extension gets .obj.
		{compiler: "cl", args: "/c a.c /Fomyobj", action: remote, lang: "c", source: "a.c", object: "myobj.obj"},
		// MS /Fo: the colon form takes its file name from the next argument: /Fo:[ ]"pathname".
		{compiler: "cl", args: "/c a.c /Fo: named.o", action: remote, lang: "c", source: "a.c", object: "named.o"},
		// MS /Fo: the colon form without the space; no extension, so .obj is added.
		{compiler: "cl.exe", args: "/c a.c /Fo:glued", action: remote, lang: "c", source: "a.c", object: "glued.obj"},
		// ccache argprocessing.cpp: for cl, /Fo naming an existing directory (no trailing separator) puts the object in it.
		{compiler: "cl", args: "/c a.c /Foobjs", action: remote, lang: "c", source: "a.c", object: `objs\a.obj`},
		// sccache msvc.rs: output to the NUL device cannot be cached.
		{compiler: "cl", args: "/c a.c /Fonul", action: local, reason: "NUL device"},
		// MS /Fo: an /Fo without a name is not a usable object name.
		{compiler: "cl", args: "/c a.c /Fo", action: local, reason: "without a file name"},
		// MS /Tc, /Tp: /Tp compiles the named file as C++ whatever its extension.
		{compiler: "cl", args: "/c /Tp a.c", action: remote, lang: "c++", source: "a.c", object: "a.obj"},
		// MS /TC, /TP: /TP treats every source as C++.
		{compiler: "cl", args: "/c /TP a.c", action: remote, lang: "c++", source: "a.c", object: "a.obj"},
		// MS /TC, /TP: /TC treats every source as C, even a .cpp.
		{compiler: "cl.exe", args: "-c -TC a.cpp", action: remote, lang: "c", source: "a.cpp", object: "a.obj"},
		// MS /Tc: the file name may be glued to /Tc; the object is named after it.
		{compiler: "cl", args: "/c /Tcfoo.inc", action: remote, lang: "c", source: "foo.inc", object: "foo.obj"},
		// MS CL filename syntax: files with other extensions go to the linker, so nothing is compiled.
		{compiler: "cl", args: "/c foo.inc", action: local, reason: "not a C or C++ source"},
		// MS CL filename syntax: cl compares extensions without case, so A.C is C.
		{compiler: "cl", args: "/c A.C", action: remote, lang: "c", source: "A.C", object: "A.obj"},
		// ccache: no /c means the command links.
		{compiler: "cl", args: "a.c", action: local, reason: "no /c"},
		// ccache "multiple source files", MS /Fo D8036: several sources are not one compile.
		{compiler: "cl", args: "/c a.c b.c", action: local, reason: "several sources"},
		// MS /MP: /MP with several sources is still several sources.
		{compiler: "cl", args: "/c /MP a.c b.c", action: local, reason: "several sources"},
		// sccache passes /MP through: with one source it is an ordinary compile.
		{compiler: "cl", args: "/c /MP a.c", action: remote, lang: "c", source: "a.c", object: "a.obj", cgArgs: []string{"/MP"}},
		// ccache compopt.cpp: /link is too hard (it links).
		{compiler: "cl", args: "/c a.c /link /DEBUG", action: local, reason: "/link"},
		// ccache: /E preprocesses only.
		{compiler: "cl", args: "/E a.c", action: local, reason: "preprocesses only"},
		// ccache compopt.cpp: /EP is too hard.
		{compiler: "cl.exe", args: "/c /EP a.c", action: local, reason: "preprocesses only"},
		// ccache argprocessing.cpp: MSVC /P is -E with output to a file.
		{compiler: "cl", args: "-P a.c", action: local, reason: "preprocesses only"},
		// ccache: /Zi is unsupported (shared PDB written through mspdbsrv).
		{compiler: "cl", args: "/c /Zi a.c", action: local, reason: "mspdbsrv"},
		// ccache: /ZI is unsupported (edit and continue, shared PDB).
		{compiler: "cl.exe", args: "-c -ZI a.c", action: local, reason: "shared PDB"},
		// ccache: /Z7 is fine; the object then records the command line and paths (LF_BUILDINFO), so it is compiled here.
		{compiler: "cl", args: "/c /Z7 /DX=1 a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "debug info records",
			ppArgs: []string{"/DX=1"}, cgArgs: []string{"/c", "/Z7", "/DX=1"}, cwd: true},
		// MS /Fd: without /Zi no PDB is written, so /Fd changes nothing.
		{compiler: "cl", args: "/c a.c /Fdvc140.pdb", action: remote, lang: "c", source: "a.c", object: "a.obj"},
		// ccache detect_pch: /Yu uses a precompiled header.
		{compiler: "cl", args: "/c /Yustdafx.h a.cpp", action: local, reason: "precompiled headers"},
		// ccache detect_pch: /Yc creates one.
		{compiler: "cl", args: "/c /Ycstdafx.h a.cpp", action: local, reason: "precompiled headers"},
		// sccache msvc.rs: /Fp is too hard.
		{compiler: "cl", args: "/c /Fpa.pch a.cpp", action: local, reason: "precompiled headers"},
		// sccache msvc.rs: /FA listings are too hard.
		{compiler: "cl", args: "/c /FAs a.c", action: local, reason: "assembly listing"},
		// sccache msvc.rs: /Fa is too hard.
		{compiler: "cl.exe", args: "/c /Falist.asm a.c", action: local, reason: "assembly listing"},
		// MS /analyze: code analysis writes its own results.
		{compiler: "cl", args: "/c /analyze a.c", action: local, reason: "code analysis"},
		// sccache msvc.rs: /doc creates an .xdc file.
		{compiler: "cl", args: "/c /doc a.cpp", action: local, reason: "XML documentation"},
		// sccache msvc.rs: /Gm is too hard (minimal rebuild state).
		{compiler: "cl", args: "/c /Gm a.cpp", action: local, reason: "minimal rebuild"},
		// MS /sourceDependencies: writes a JSON file of its own.
		{compiler: "cl", args: "/c a.c /sourceDependencies deps.json", action: local, reason: "JSON dependency"},
		// sccache msvc.rs: /Fe is too hard (it names an executable).
		{compiler: "cl", args: "/c a.c /Fea.exe", action: local, reason: "link step"},
		// sccache msvc.rs: /? suppresses compilation.
		{compiler: "cl", args: "/?", action: local, reason: "query"},
		// MS /Bv: prints compiler versions.
		{compiler: "cl", args: "/Bv /c a.c", action: local, reason: "query"},
		// ccache generating_includes: /showIncludes output on stdout must be replayed, so compile here.
		{compiler: "cl", args: "/c /showIncludes a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "stdout",
			deps: []string{"/showIncludes"}},
		// MS /external: cl's /E output does not mark external headers, so /external:W needs the original compile.
		{compiler: "cl", args: "/c /external:I ext /external:W0 /W4 a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "external headers",
			ppArgs: []string{"/external:I", "ext"}},
		// MS /clr: C++/CLI reads referenced assemblies while compiling.
		{compiler: "cl", args: "/c /clr a.cpp", action: local, reason: "C++/CLI"},
		// DESIGN: an unknown option runs unchanged.
		{compiler: "cl", args: "/c /unknownopt a.c", action: local, reason: `unknown option "/unknownopt"`},
		// cl.exe has no -Xclang: unknown option.
		{compiler: "cl", args: "/c -Xclang -fno-pch-timestamp a.c", action: local, reason: `unknown option "-Xclang"`},
		// sccache msvc.rs: /FC is too hard; diagnostics then name full paths of this machine.
		{compiler: "cl", args: "/c /FC a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "full paths", cwd: true},
		// ccache argprocessing.cpp: cl's deprecated /o is ignored as an output name; run it unchanged.
		{compiler: "cl", args: "/c a.c /o out.obj", action: local, reason: "deprecated"},
		// MS /D /U /I /FI /X /u: preprocessor options, joined or separate.
		{compiler: "cl", args: "/c /DNAME=1 /D OTHER /I inc /Iinc2 /FIforced.h /U OLD /X /u a.c", action: remote, lang: "c", source: "a.c", object: "a.obj",
			ppArgs: []string{"/DNAME=1", "/D", "OTHER", "/I", "inc", "/Iinc2", "/FIforced.h", "/U", "OLD", "/X", "/u"}, cgArgs: []string{}},
		// MS /std:, /Zc:, /GS, /arch:, /fp:, /utf-8, /W4, /WX: code-generation and diagnostic options.
		{compiler: "cl.exe", args: "/c /std:c++17 /Zc:__cplusplus /GS- /arch:AVX2 /fp:fast /utf-8 /W4 /WX /wd4100 b.cpp", action: remote, lang: "c++", source: "b.cpp", object: "b.obj",
			cgArgs: []string{"/std:c++17", "/Zc:__cplusplus", "/GS-", "/arch:AVX2", "/fp:fast", "/utf-8", "/W4", "/WX", "/wd4100"}},

		// clang-cl 14: a plain /c compile.
		{compiler: "clang-cl", args: "/c a.c", action: remote, lang: "c", source: "a.c", object: "a.obj"},
		// clang-cl 14: -o is accepted like /Fo.
		{compiler: "clang-cl-14", args: "-c a.c -o x.obj", action: remote, lang: "c", source: "a.c", object: "x.obj"},
		// clang-cl /?: "/o <file or dir/>"; clang-cl 14 adds .obj to a name without extension.
		{compiler: "clang-cl", args: "/c a.c /oz", action: remote, lang: "c", source: "a.c", object: "z.obj"},
		// clang-cl 14 writes "/Fo:sep.obj" to ":sep.obj"; the colon form came with clang 19 (llvm-project #87209).
		{compiler: "clang-cl", args: "/c a.c /Fo:sep.obj", action: local, reason: "clang-cl before 19"},
		// clang-cl 14 on Linux: a backslash is no separator, so /Foout\ is a file named "out\" and gets .obj.
		{compiler: "clang-cl-14", args: `/c a.c /Foout\`, action: remote, lang: "c", source: "a.c", object: `out\.obj`},
		// clang-cl 14: /Fo with a directory ends in '/' and keeps the source's base name.
		{compiler: "clang-cl", args: "/c src/a.c -Foout/", action: remote, lang: "c", source: "src/a.c", object: "out/a.obj"},
		// clang-cl 14: clang's extension table is case-sensitive, so .C is C++.
		{compiler: "clang-cl", args: "/c src/c.C", action: remote, lang: "c++", source: "src/c.C", object: "c.obj"},
		// clang-cl /?: "/Zi Like /Z7": CodeView in the object, which records the command line (measured).
		{compiler: "clang-cl", args: "/c /Zi a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "debug info records", cwd: true},
		// clang-cl 14 ignores /ZI ("argument unused"): the object has no debug info.
		{compiler: "clang-cl-14", args: "/c /ZI a.c", action: remote, lang: "c", source: "a.c", object: "a.obj", cgArgs: []string{"/ZI"}},
		// clang-cl 14: -gline-tables-only emits CodeView, recorded paths included.
		{compiler: "clang-cl", args: "/c -gline-tables-only a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "debug info records", cwd: true},
		// ccache: clang-cl's /showIncludes:user is like /showIncludes.
		{compiler: "clang-cl", args: "/c /showIncludes:user a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "stdout",
			deps: []string{"/showIncludes:user"}},
		// clang-cl 14: ASan metadata records the source path as written, which a two-step compile changes.
		{compiler: "clang-cl", args: "-c -fsanitize=address a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "sanitizer"},
		// issue 2: -march=native is cacheable but compiled here only.
		{compiler: "clang-cl", args: "/c -march=native a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "CPU of this machine"},
		// sccache msvc.rs: /clang: arguments go to the clang driver; -march=native there too.
		{compiler: "clang-cl-14", args: "/c /clang:-march=native a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "CPU of this machine"},
		// sccache msvc.rs: /clang: options dcc knows are code generation.
		{compiler: "clang-cl", args: "/c /clang:-ffunction-sections a.c", action: remote, lang: "c", source: "a.c", object: "a.obj",
			cgArgs: []string{"/clang:-ffunction-sections"}},
		// DESIGN: /clang: options dcc does not know run unchanged.
		{compiler: "clang-cl", args: "/c /clang:-fsave-optimization-record a.c", action: local, reason: "not understood"},
		// sccache msvc.rs: -Xclang arguments are classified like clang's own.
		{compiler: "clang-cl", args: "/c -Xclang -fno-pch-timestamp a.c", action: remote, lang: "c", source: "a.c", object: "a.obj",
			cgArgs: []string{"-Xclang", "-fno-pch-timestamp"}},
		// issue 2: compiler plugins are cacheable but compiled here only.
		{compiler: "clang-cl", args: "/c -Xclang -load -Xclang plugin.so a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "plugin"},
		// DESIGN: -Xclang options dcc does not know run unchanged.
		{compiler: "clang-cl-14", args: "/c -Xclang -ast-dump a.c", action: local, reason: "not understood"},
		// clang driver: after "--" every argument is an input, even one starting with '/'.
		{compiler: "clang-cl", args: "/c -- /abs/src/a.c", action: remote, lang: "c", source: "/abs/src/a.c", object: "a.obj"},
		// clang-cl 14 parses "/work/..." as /wo (a warning option), leaving no input.
		{compiler: "clang-cl", args: "/c /work/src/a.c", action: local, reason: "no source file"},
		// clang OptTable: a '/' argument that matches no option is an input path.
		{compiler: "clang-cl", args: "/c /tmp/src/a.c", action: remote, lang: "c", source: "/tmp/src/a.c", object: "a.obj"},
		// clang-cl 14: LTO bitcode records the source path as written.
		{compiler: "clang-cl", args: "/c -flto=thin a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "LTO"},
		// ccache: profile files read during compilation make the command local-only.
		{compiler: "clang-cl", args: "/c -fprofile-instr-use=x.profdata a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "reads a profile"},
		// ccache: --version-style queries run unchanged.
		{compiler: "clang-cl", args: "--version", action: local, reason: "query"},
		// DESIGN: -mllvm options are not understood.
		{compiler: "clang-cl", args: "/c a.c -mllvm -inline-threshold=100", action: local, reason: "LLVM"},
		// clang-cl /?: /imsvc and /winsysroot only set include paths.
		{compiler: "clang-cl", args: `/c /winsysroot C:\sdk /imsvc inc a.c`, action: remote, lang: "c", source: "a.c", object: "a.obj",
			ppArgs: []string{"/winsysroot", `C:\sdk`, "/imsvc", "inc"}},
		// clang OptTable: "-W4" is /W4 (longest match), "-Wno-unused-function" is clang's -W.
		{compiler: "clang-cl", args: "-c a.c -Wno-unused-function -W4 -WX", action: remote, lang: "c", source: "a.c", object: "a.obj",
			cgArgs: []string{"-Wno-unused-function", "-W4", "-WX"}},
		// clang-cl 14: .cppm is a C++ module interface, not an ordinary source.
		{compiler: "clang-cl", args: "/c a.cppm", action: local, reason: "not a C or C++ source"},
		// clang-cl 14 rejects /C with /c ("only allowed with /E, /P or /EP").
		{compiler: "clang-cl", args: "/c /C a.c", action: local, reason: "when preprocessing"},
		// clang-cl: absolute paths in diagnostics depend on the working directory.
		{compiler: "clang-cl", args: "/c -fdiagnostics-absolute-paths a.c", action: cache, lang: "c", source: "a.c", object: "a.obj", reason: "absolute paths", cwd: true},
		// issue 2: stdin as the source runs unchanged.
		{compiler: "clang-cl", args: "/c -", action: local, reason: "stdin"},
		// clang-cl 14: /TC makes every source C, /Tp one file C++: two sources.
		{compiler: "clang-cl", args: "/c /TC a.cpp /Tp b.c", action: local, reason: "several sources"},
		// clang Driver: /TP does not turn an object file into a source, and an object with /c is not compiled.
		{compiler: "clang-cl", args: "/c /TP a.cpp lib.obj", action: local, reason: `"lib.obj" is not a C or C++ source`},
	}

	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "objs"), 0o755))
	for _, tt := range tests {
		t.Run(tt.compiler+" "+tt.args, func(t *testing.T) {
			args := strings.Fields(tt.args)
			a := Classify(Command{Compiler: tt.compiler, Args: args, Dir: dir})
			assert.Equal(t, FamilyMSVC, a.Family)
			require.Equal(t, tt.action, a.Action, "reason: %s", a.Reason)
			assert.NotContains(t, a.Reason, "\n")
			if tt.action != remote {
				assert.Contains(t, a.Reason, tt.reason)
			}
			if tt.action == local {
				assert.Empty(t, a.Outputs.Object)
				assert.Nil(t, a.CompileCommand)
				return
			}
			assert.Equal(t, tt.lang, a.Language)
			assert.Equal(t, tt.source, a.Source)
			assert.Equal(t, tt.object, a.Outputs.Object)
			assert.Equal(t, tt.cwd, a.RecordsWorkingDir)
			if tt.ppArgs != nil {
				assert.Equal(t, tt.ppArgs, nonNil(a.PreprocessorArgs))
			}
			if tt.cgArgs != nil {
				assert.Equal(t, tt.cgArgs, nonNil(a.CodegenArgs))
			}
			if tt.deps != nil {
				assert.Equal(t, tt.deps, a.DependencyArgs)
			}
			checkMSVCCommands(t, tt.compiler, a)
		})
	}
}

// checkMSVCCommands checks the shape of the two commands of a cacheable compile.
func checkMSVCCommands(t *testing.T, compiler string, a Analysis) {
	t.Helper()
	pp, cc := a.PreprocessCommand, a.CompileCommand
	require.GreaterOrEqual(t, len(pp), 3)
	assert.Equal(t, []string{compiler, "/E"}, pp[:2])
	assert.True(t, strings.HasSuffix(pp[len(pp)-1], a.Source), "the source comes last, as written: %q", pp)
	assert.NotContains(t, pp, "/c")
	for _, d := range a.DependencyArgs {
		assert.NotContains(t, pp, d, "dependency listing stays out of /E")
	}
	assert.Equal(t, a.Outputs.Object+".dcc-pp/"+filepath.Base(strings.ReplaceAll(a.Source, `\`, "/")), a.PreprocessedInput)
	require.GreaterOrEqual(t, len(cc), 5)
	assert.Equal(t, []string{compiler, "/c"}, cc[:2])
	langSwitch := map[string]string{"c": "/Tc", "c++": "/Tp"}[a.Language]
	assert.Equal(t, []string{"/Fo" + a.Outputs.Object, langSwitch, a.PreprocessedInput}, cc[len(cc)-3:])
	for _, p := range a.PreprocessorArgs {
		assert.NotContains(t, cc[2:len(cc)-3], p, "no preprocessor argument in the compile")
	}
}

// nonNil turns a nil slice into an empty one for comparisons.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
