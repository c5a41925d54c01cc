package compile

import (
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClangCC1Dirs(t *testing.T) {
	line := ` "/usr/lib/llvm-14/bin/clang" "-cc1" "-triple" "x86_64-pc-linux-gnu" "-resource-dir" "/r" ` +
		`"-internal-isystem" "/usr/bin/../lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12" ` +
		`"-internal-isystem" "/r/include" "-internal-externc-isystem" "/usr/include" "-o" "/dev/null" "-x" "c++" "/dev/null"`
	d, err := parseClangCC1Dirs([]byte("clang version 14.0.6\nTarget: x86_64-pc-linux-gnu\n" + line + "\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"/usr/bin/../lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12", "/r/include", "/usr/include"}, d.dirs)
	assert.Equal(t, []string{"/usr/include"}, d.externC)

	for name, shown := range map[string]string{
		"no cc1":          "clang version 14.0.6\n",
		"two cc1":         line + "\n" + line + "\n",
		"preinclude":      ` "/c" "-cc1" "-include" "stdc-predef.h" "-x" "c" "/dev/null"` + "\n",
		"system include":  ` "/c" "-cc1" "-fsystem-include-if-exists" "stdc-predef.h"` + "\n",
		"framework":       ` "/c" "-cc1" "-internal-iframework" "/System/Library/Frameworks"` + "\n",
		"relative dir":    ` "/c" "-cc1" "-internal-isystem" "include"` + "\n",
		"dir missing":     ` "/c" "-cc1" "-internal-isystem"` + "\n",
		"no std includes": ` "/c" "-cc1" "-nostdsysteminc"` + "\n",
	} {
		_, err := parseClangCC1Dirs([]byte(shown))
		assert.Error(t, err, name)
	}
}

// TestParseClangCC1DirsReal reads the installed clang's own directories:
// its C++ library spelled through /usr/bin/.., /usr/include extern "C".
func TestParseClangCC1DirsReal(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		if on, _ := strconv.ParseBool(os.Getenv("DCC_REQUIRE_REAL")); on {
			t.Fatal("clang is not on PATH")
		}
		t.Skip("clang is not on PATH")
	}
	out, err := exec.Command("clang", "-x", "c++", "-c", "/dev/null", "-o", "/dev/null", "-###").CombinedOutput()
	require.NoError(t, err, "%s", out)
	d, err := parseClangCC1Dirs(out)
	require.NoError(t, err)
	assert.Contains(t, d.dirs, "/usr/include")
	assert.Contains(t, d.externC, "/usr/include")
	assert.Subset(t, d.dirs, d.externC)
}

func TestParseReplayDirs(t *testing.T) {
	line := ` "/usr/lib/llvm-14/bin/clang" "-cc1" "-triple" "x86_64-pc-windows-msvc19.20.0" "-resource-dir" "/r" ` +
		`"-I" "inc" "-Iother" "-internal-isystem" "/r/include" "-isystem" "/sdk/include" "-internal-externc-isystem" "/x" "-x" "c" "a.c"`
	user, system, err := parseReplayDirs([]byte(line + "\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"inc", "other"}, user)
	assert.Equal(t, []string{"/r/include", "/sdk/include", "/x"}, system)

	for name, shown := range map[string]string{
		"no cc1":          "clang version 14.0.6\n",
		"two cc1":         line + "\n" + line + "\n",
		"forced include":  ` "/c" "-cc1" "-include" "pre.h"` + "\n",
		"include after":   ` "/c" "-cc1" "-idirafter" "/d"` + "\n",
		"I without value": ` "/c" "-cc1" "-I"` + "\n",
	} {
		_, _, err := parseReplayDirs([]byte(shown))
		assert.Error(t, err, name)
	}
}
