package toolchain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestClassifyDriverSelection covers what Classify decides before a family's
// classifier runs: the family and driver from the name, from Command.Family
// and Command.Driver (set from the compiler's identity), and from clang's
// --driver-mode= option, which overrides both (clang's Driver::ParseDriverMode).
func TestClassifyDriverSelection(t *testing.T) {
	tests := []struct {
		name       string
		cmd        Command
		wantFamily Family
		wantAction Action
		wantLang   string
		wantObject string
	}{
		{"name says gcc", Command{Compiler: "gcc", Args: []string{"-c", "a.c"}}, FamilyGCC, ActionRemote, "c", "a.o"},
		{"cc that is clang", Command{Compiler: "cc", Args: []string{"-c", "a.c"}, Family: FamilyClang, Driver: "clang"}, FamilyClang, ActionRemote, "c", "a.o"},
		{"clang++ driver compiles .c as C++", Command{Compiler: "clang", Args: []string{"-c", "a.c"}, Driver: "clang++"}, FamilyClang, ActionRemote, "c++", "a.o"},
		{"driver-mode=g++", Command{Compiler: "clang", Args: []string{"--driver-mode=g++", "-c", "a.c"}}, FamilyClang, ActionRemote, "c++", "a.o"},
		{"driver-mode=cl", Command{Compiler: "clang", Args: []string{"--driver-mode=cl", "/c", "a.c"}}, FamilyMSVC, ActionRemote, "c", "a.obj"},
		{"driver-mode=cl over identity", Command{Compiler: "clang-14", Args: []string{"--driver-mode=cl", "/c", "a.cpp"}, Family: FamilyClang, Driver: "clang"}, FamilyMSVC, ActionRemote, "c++", "a.obj"},
		{"cl.exe that is clang-cl: /Zi embeds like /Z7", Command{Compiler: "cl.exe", Args: []string{"/c", "/Zi", "a.c"}, Driver: "clang-cl"}, FamilyMSVC, ActionCache, "c", "a.obj"},
		{"real cl: /Zi writes a shared PDB", Command{Compiler: "cl.exe", Args: []string{"/c", "/Zi", "a.c"}}, FamilyMSVC, ActionLocal, "", ""},
		{"driver-mode ignored for gcc", Command{Compiler: "gcc", Args: []string{"--driver-mode=cl", "-c", "a.c"}}, FamilyGCC, ActionLocal, "", ""},
		{"unknown compiler", Command{Compiler: "tcc", Args: []string{"-c", "a.c"}}, FamilyUnknown, ActionLocal, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Classify(tt.cmd)
			assert.Equal(t, tt.wantFamily, a.Family)
			assert.Equal(t, tt.wantAction, a.Action, a.Reason)
			assert.NotEmpty(t, a.Reason)
			if tt.wantAction != ActionLocal {
				assert.Equal(t, tt.wantLang, a.Language)
				assert.Equal(t, tt.wantObject, a.Outputs.Object)
			}
		})
	}
}
