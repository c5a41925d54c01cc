package toolchain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseCompilerName(t *testing.T) {
	gcc := func(driver, target, version string) CompilerName {
		return CompilerName{Family: FamilyGCC, Driver: driver, CXX: driver == "g++" || driver == "c++", Target: target, Version: version}
	}
	clang := func(driver, target, version string) CompilerName {
		return CompilerName{Family: FamilyClang, Driver: driver, CXX: driver == "clang++", Target: target, Version: version}
	}
	msvc := func(driver, version string) CompilerName {
		return CompilerName{Family: FamilyMSVC, Driver: driver, Version: version}
	}
	tests := []struct {
		path string
		want CompilerName
		ok   bool
	}{
		// Plain driver names.
		{"gcc", gcc("gcc", "", ""), true},
		{"g++", gcc("g++", "", ""), true},
		{"cc", gcc("cc", "", ""), true},
		{"c++", gcc("c++", "", ""), true},
		{"clang", clang("clang", "", ""), true},
		{"clang++", clang("clang++", "", ""), true},
		// Versioned names (Debian's gcc-12, clang-14; dotted versions).
		{"gcc-12", gcc("gcc", "", "12"), true},
		{"g++-12", gcc("g++", "", "12"), true},
		{"gcc-12.2.0", gcc("gcc", "", "12.2.0"), true},
		{"clang-14", clang("clang", "", "14"), true},
		{"clang++-14", clang("clang++", "", "14"), true},
		{"clang-14.0.6", clang("clang", "", "14.0.6"), true},
		// Target-prefixed names (cross compilers, Debian's triplet names, Android NDK).
		{"x86_64-linux-gnu-gcc-12", gcc("gcc", "x86_64-linux-gnu", "12"), true},
		{"x86_64-linux-gnu-g++", gcc("g++", "x86_64-linux-gnu", ""), true},
		{"arm-none-eabi-g++", gcc("g++", "arm-none-eabi", ""), true},
		{"arm-linux-gnueabihf-gcc-12", gcc("gcc", "arm-linux-gnueabihf", "12"), true},
		{"x86_64-w64-mingw32-gcc", gcc("gcc", "x86_64-w64-mingw32", ""), true},
		{"x86_64-pc-linux-gnu-clang-14", clang("clang", "x86_64-pc-linux-gnu", "14"), true},
		{"aarch64-linux-android30-clang++", clang("clang++", "aarch64-linux-android30", ""), true},
		// MSVC-style drivers; clang-cl is found before cl.
		{"cl", msvc("cl", ""), true},
		{"cl.exe", msvc("cl", ""), true},
		{"CL.EXE", msvc("cl", ""), true}, // Windows names are case-insensitive
		{`C:\Program Files\VC\bin\Hostx64\x64\CL.EXE`, msvc("cl", ""), true},
		{"clang-cl", msvc("clang-cl", ""), true},
		{"clang-cl-14", msvc("clang-cl", "14"), true},
		{"clang-cl.exe", msvc("clang-cl", ""), true},
		// Full paths, either separator, and .exe.
		{"/usr/bin/gcc", gcc("gcc", "", ""), true},
		{"/usr/lib/llvm-14/bin/clang++", clang("clang++", "", ""), true},
		{"/opt/gcc-12/bin/gcc", gcc("gcc", "", ""), true},
		{`C:\VC\bin\cl.exe`, msvc("cl", ""), true},
		{`C:\mingw64\bin\x86_64-w64-mingw32-g++.exe`, gcc("g++", "x86_64-w64-mingw32", ""), true},
		{"gcc-12.exe", gcc("gcc", "", "12"), true},
		{"clang++.exe", clang("clang++", "", ""), true},
		// Not compiler drivers: other tools, look-alikes and gcc's own programs.
		{"ld", CompilerName{}, false},
		{"make", CompilerName{}, false},
		{"gccgo", CompilerName{}, false},
		{"x86_64-linux-gnu-gccgo-12", CompilerName{}, false},
		{"tcl", CompilerName{}, false},
		{"tcc", CompilerName{}, false},
		{"nvcc", CompilerName{}, false},
		{"distcc", CompilerName{}, false},
		{"ccache", CompilerName{}, false},
		{"cl-foo", CompilerName{}, false},
		{"cc1", CompilerName{}, false},
		{"/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", CompilerName{}, false},
		{"gcc-ar-12", CompilerName{}, false},
		{"x86_64-linux-gnu-gcc-ranlib-12", CompilerName{}, false},
		{"c++filt", CompilerName{}, false},
		{"clang-format", CompilerName{}, false},
		{"clang-cpp", CompilerName{}, false},
		{"cpp", CompilerName{}, false},
		{"lld-link", CompilerName{}, false},
		{"link.exe", CompilerName{}, false},
		{"gcc-", CompilerName{}, false},
		{"-gcc", CompilerName{}, false}, // an empty target is no target
		{"-cl", CompilerName{}, false},
		{"--gcc", CompilerName{}, false}, // nor is "-"
		{".exe", CompilerName{}, false},
		{"/usr/lib/dcc/", CompilerName{}, false},
		{"12", CompilerName{}, false},
		{"", CompilerName{}, false},
		{"-", CompilerName{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, ok := ParseCompilerName(tc.path)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.ok, IsCompilerName(tc.path))
		})
	}
}

func TestVersionSuffixStart(t *testing.T) {
	cases := map[string]int{
		"gcc-12": 3, "clang-14.0.6": 5, "x86_64-linux-gnu-gcc-12": 20, "gcc": -1, "gcc-": -1,
		"gcc-12.": -1, "gcc-.1": -1, "gcc-1..2": -1, "gcc-12a": -1, "-12": 0, "g++-10.2": 3,
	}
	for stem, want := range cases {
		assert.Equal(t, want, versionSuffixStart(stem), stem)
	}
}
