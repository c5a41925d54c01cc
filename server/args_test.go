package server

import (
	"errors"
	"testing"

	"github.com/dcc-build/dcc/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckArgsAccepts(t *testing.T) {
	accepted := [][]string{
		{},
		{"-O2"}, {"-O0"}, {"-O"}, {"-Os"}, {"-Oz"}, {"-Og"}, {"-Ofast"}, {"-O3"},
		{"-g"}, {"-g3"}, {"-g0"}, {"-ggdb"}, {"-gdwarf-4"}, {"-gz=zlib"}, {"-gno-column-info"}, {"-gline-tables-only"},
		{"-fPIC"}, {"-fpic"}, {"-fPIE"}, {"-fno-omit-frame-pointer"}, {"-fvisibility=hidden"},
		{"-fstack-protector-strong"}, {"-fsanitize=address,undefined"}, {"-fno-strict-aliasing"},
		{"-fdiagnostics-color=always"}, {"-fdiagnostics-format=json"}, {"-fmessage-length=0"},
		{"-ffunction-sections", "-fdata-sections"}, {"-fcf-protection=full"}, {"-fopenmp"}, {"-flto"},
		{"-fuse-cxa-atexit"}, {"-fsplit-dwarf-inlining"}, {"-fno-integrated-as"},
		{"-fdebug-prefix-map=/home/u/src=."}, {"-ffile-prefix-map=/build/pkg-1.0=."},
		{"-fmacro-prefix-map=/a=/b"}, {"-fdebug-compilation-dir=/home/u/src"}, {"-frandom-seed=obj/foo.o"},
		{"-m64"}, {"-mavx2"}, {"-march=x86-64-v2"}, {"-mtune=generic"}, {"-mno-red-zone"}, {"-mcmodel=kernel"},
		{"-Wall"}, {"-Wextra"}, {"-Werror"}, {"-Wno-unused-parameter"}, {"-Wformat=2"}, {"-Werror=format-security"},
		{"-Wframe-larger-than=2048"}, {"-W"}, {"-w"},
		{"-std=c11"}, {"-std=gnu++17"}, {"--std=c99"}, {"-ansi"}, {"-pedantic"}, {"-pedantic-errors"},
		{"-pipe"}, {"-pthread"}, {"-pg"}, {"-p"},
		{"--param", "max-inline-insns-single=400"}, {"--param=ssp-buffer-size=4"},
		{"-target", "aarch64-linux-gnu"}, {"--target=x86_64-pc-linux-gnu"}, {"-stdlib=libc++"},
		{"-DNDEBUG"}, {"-DVERSION=\"1.0\""}, {"-UFOO"},
		{"-O2", "-g", "-Wall", "-fPIC", "-std=c99", "-march=x86-64"},
	}
	for _, args := range accepted {
		assert.NoError(t, CheckArgs(args), "%q", args)
	}
}

func TestCheckArgsRefuses(t *testing.T) {
	refused := []struct {
		args []string
		bad  string // the argument the message names
	}{
		{[]string{"-o", "/etc/passwd"}, "-o"},
		{[]string{"-o/tmp/x.o"}, "-o/tmp/x.o"},
		{[]string{"-I/usr/include"}, "-I/usr/include"},
		{[]string{"-I", "/usr/include"}, "-I"},
		{[]string{"-include", "/etc/shadow"}, "-include"},
		{[]string{"-isystem", "/x"}, "-isystem"},
		{[]string{"-iquote/x"}, "-iquote/x"},
		{[]string{"-isysroot/x"}, "-isysroot/x"},
		{[]string{"-iplugindir=/x"}, "-iplugindir=/x"},
		{[]string{"-B/tmp/evil/"}, "-B/tmp/evil/"},
		{[]string{"-B", "/tmp"}, "-B"},
		{[]string{"-specs=/tmp/evil.specs"}, "-specs=/tmp/evil.specs"},
		{[]string{"--specs=x"}, "--specs=x"},
		{[]string{"--sysroot=/"}, "--sysroot=/"},
		{[]string{"--sysroot", "/"}, "--sysroot"},
		{[]string{"@/etc/passwd"}, "@/etc/passwd"},
		{[]string{"/etc/passwd"}, "/etc/passwd"},
		{[]string{"foo.c"}, "foo.c"},
		{[]string{"-"}, "-"},
		{[]string{"-x", "c"}, "-x"},
		{[]string{"-xc"}, "-xc"},
		{[]string{"-c"}, "-c"},
		{[]string{"-S"}, "-S"},
		{[]string{"-E"}, "-E"},
		{[]string{"-fsyntax-only"}, "-fsyntax-only"},
		{[]string{"-MD"}, "-MD"},
		{[]string{"-MF", "x.d"}, "-MF"},
		{[]string{"-MMD"}, "-MMD"},
		{[]string{"-M"}, "-M"},
		{[]string{"-save-temps"}, "-save-temps"},
		{[]string{"-save-temps=obj"}, "-save-temps=obj"},
		{[]string{"-wrapper", "gdb,--args"}, "-wrapper"},
		{[]string{"-Xclang", "-load"}, "-Xclang"},
		{[]string{"-Xassembler", "--defsym"}, "-Xassembler"},
		{[]string{"-Xlinker", "-T"}, "-Xlinker"},
		{[]string{"-Xpreprocessor", "-I/x"}, "-Xpreprocessor"},
		{[]string{"-Wa,-adhln=/tmp/listing"}, "-Wa,-adhln=/tmp/listing"},
		{[]string{"-Wl,-T,/x"}, "-Wl,-T,/x"},
		{[]string{"-Wp,-MD,/tmp/x.d"}, "-Wp,-MD,/tmp/x.d"},
		{[]string{"-mllvm", "-x"}, "-mllvm"},
		{[]string{"-fplugin=/tmp/evil.so"}, "-fplugin=/tmp/evil.so"},
		{[]string{"-fplugin-arg-evil-x=y"}, "-fplugin-arg-evil-x=y"},
		{[]string{"-fpass-plugin=/x.so"}, "-fpass-plugin=/x.so"},
		{[]string{"-fuse-ld=/tmp/ld"}, "-fuse-ld=/tmp/ld"},
		{[]string{"-fprofile-use=/x"}, "-fprofile-use=/x"},
		{[]string{"-fprofile-generate"}, "-fprofile-generate"},
		{[]string{"-fprofile-arcs"}, "-fprofile-arcs"},
		{[]string{"-fauto-profile=/x"}, "-fauto-profile=/x"},
		{[]string{"-ftest-coverage"}, "-ftest-coverage"},
		{[]string{"--coverage"}, "--coverage"},
		{[]string{"-fcoverage-mapping"}, "-fcoverage-mapping"},
		{[]string{"-fdump-tree-all"}, "-fdump-tree-all"},
		{[]string{"-fdump-rtl-expand=/tmp/x"}, "-fdump-rtl-expand=/tmp/x"},
		{[]string{"-fstack-usage"}, "-fstack-usage"},
		{[]string{"-fcallgraph-info"}, "-fcallgraph-info"},
		{[]string{"-fsave-optimization-record"}, "-fsave-optimization-record"},
		{[]string{"-foptimization-record-file=out.yaml"}, "-foptimization-record-file=out.yaml"},
		{[]string{"-fopt-info-all=/tmp/x"}, "-fopt-info-all=/tmp/x"},
		{[]string{"-ftime-trace"}, "-ftime-trace"},
		{[]string{"-fdiagnostics-format=sarif-file"}, "-fdiagnostics-format=sarif-file"},
		{[]string{"-fmodules"}, "-fmodules"},
		{[]string{"-fmodules-ts"}, "-fmodules-ts"},
		{[]string{"-fmodule-file=x.pcm"}, "-fmodule-file=x.pcm"},
		{[]string{"-fsanitize-blacklist=/etc/x"}, "-fsanitize-blacklist=/etc/x"},
		{[]string{"-fsanitize-ignorelist=x.txt"}, "-fsanitize-ignorelist=x.txt"},
		{[]string{"-fcrash-diagnostics-dir=/tmp"}, "-fcrash-diagnostics-dir=/tmp"},
		{[]string{"-fcompare-debug"}, "-fcompare-debug"},
		{[]string{"-fdeps-file=x.json"}, "-fdeps-file=x.json"},
		{[]string{"-finstrument-functions-exclude-file-list=/usr/include"}, "-finstrument-functions-exclude-file-list=/usr/include"},
		{[]string{"-fvisibility=../../x"}, "-fvisibility=../../x"},
		{[]string{"-gsplit-dwarf"}, "-gsplit-dwarf"},
		{[]string{"-gsplit-dwarf=single"}, "-gsplit-dwarf=single"},
		{[]string{"-gembed-source"}, "-gembed-source"},
		{[]string{"-gmodules"}, "-gmodules"},
		{[]string{"-march=native"}, "-march=native"},
		{[]string{"-mtune=native"}, "-mtune=native"},
		{[]string{"-mcpu=native"}, "-mcpu=native"},
		{[]string{"-L/usr/lib"}, "-L/usr/lib"},
		{[]string{"-lm"}, "-lm"},
		{[]string{"-dumpbase", "x"}, "-dumpbase"},
		{[]string{"-dA"}, "-dA"},
		{[]string{"-da"}, "-da"},
		{[]string{"-aux-info", "/tmp/x"}, "-aux-info"},
		{[]string{"-v"}, "-v"},
		{[]string{"-###"}, "-###"},
		{[]string{"-print-file-name=libc.so"}, "-print-file-name=libc.so"},
		{[]string{"-shared"}, "-shared"},
		{[]string{"-emit-llvm"}, "-emit-llvm"},
		{[]string{"-index-store-path", "/x"}, "-index-store-path"},
		{[]string{"--param"}, "--param"},
		{[]string{"--param", "../x"}, "--param"},
		{[]string{"-target"}, "-target"},
		{[]string{"-target", "../x"}, "-target"},
		{[]string{"-fdebug-prefix-map=nothing"}, "-fdebug-prefix-map=nothing"},
		{[]string{"-DX\nY"}, "-DX\nY"},
		{[]string{"-O2\x00"}, "-O2\x00"},
		{[]string{"-Ofoo"}, "-Ofoo"},
		{[]string{"-O2", "-Wall", "-B/x", "-g"}, "-B/x"},
	}
	for _, tt := range refused {
		err := CheckArgs(tt.args)
		require.Error(t, err, "%q", tt.args)
		var r *Refusal
		require.True(t, errors.As(err, &r), "%q: %T", tt.args, err)
		assert.Equal(t, protocol.CodeForbiddenArg, r.Code, "%q", tt.args)
		assert.Contains(t, r.Message, quoteArg(tt.bad), "%q", tt.args)
		assert.NotContains(t, r.Message, "\n", "%q", tt.args)
	}
}

func TestCheckArgsTooMany(t *testing.T) {
	args := make([]string, protocol.MaxArgs+1)
	for i := range args {
		args[i] = "-O2"
	}
	err := CheckArgs(args)
	var r *Refusal
	require.True(t, errors.As(err, &r))
	assert.Equal(t, protocol.CodeForbiddenArg, r.Code)
}

func TestDebugInfo(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-O2"}, false},
		{[]string{"-g"}, true},
		{[]string{"-g3"}, true},
		{[]string{"-ggdb"}, true},
		{[]string{"-gdwarf-4"}, true},
		{[]string{"-gline-tables-only"}, true},
		{[]string{"-g0"}, false},
		{[]string{"-g", "-g0"}, false},
		{[]string{"-g0", "-g"}, true},
		{[]string{"-gz"}, false},
		{[]string{"-gno-column-info"}, false},
		{[]string{"-g", "-gno-column-info"}, true},
		{[]string{"-grecord-gcc-switches"}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, debugInfo(tt.args), "%q", tt.args)
	}
}

func TestRemapGCC(t *testing.T) {
	maps := clientPrefixMaps([]string{"-O2", "-fdebug-prefix-map=/home=/H", "-ffile-prefix-map=/home/u=/U", "-fmacro-prefix-map=/home/u/src=/M"})
	assert.Equal(t, [][2]string{{"/home", "/H"}, {"/home/u", "/U"}}, maps)
	assert.Equal(t, "/U/src", remapGCC("/home/u/src", maps), "the last matching map wins")
	assert.Equal(t, "/H/v", remapGCC("/home/v", maps))
	assert.Equal(t, "/srv/x", remapGCC("/srv/x", maps))
	assert.Equal(t, "/srv/x", remapGCC("/srv/x", nil))
}

func TestInputName(t *testing.T) {
	tests := map[string]string{
		"foo.c": "foo.i", "src/lib/foo.c": "foo.i", `C:\src\foo.c`: "foo.i", "foo": "foo.i",
		"../../etc/passwd": "passwd.i", "..": "input.i", "": "input.i", ".hidden.c": "hidden.i",
		"we ird$name.c": "we_ird_name.i", "a.b.c": "a.b.i", "-rf.c": "rf.i", "/": "input.i",
	}
	for in, want := range tests {
		assert.Equal(t, want, inputName(in, ".i"), "%q", in)
	}
	assert.Equal(t, "x.ii", inputName("x.cpp", ".ii"))
	long := inputName(string(make([]byte, 500))+"x.c", ".i")
	assert.LessOrEqual(t, len(long), maxInputStem+2)
}
