package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dcc-build/dcc/wrapper"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeExe creates an executable file with the given content.
func writeExe(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o755))
}

func TestInstallLinks(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "dcc")
	writeExe(t, self, "#!/bin/sh\n")
	bin := filepath.Join(dir, "bin")
	for _, n := range []string{"gcc", "g++-12", "x86_64-linux-gnu-gcc-12", "clang", "cl.exe", "make", "ld", "c++filt", "gcc-ar", "ccache"} {
		writeExe(t, filepath.Join(bin, n), "#!/bin/sh\n")
	}
	selfInfo, err := os.Stat(self)
	require.NoError(t, err)
	links := filepath.Join(dir, "links")
	f := &wrapper.Finder{Path: links + ":" + bin, Self: selfInfo}

	got, err := InstallLinks(links, self, f)
	require.NoError(t, err)
	var names []string
	for _, l := range got {
		names = append(names, l.Name)
		assert.Equal(t, filepath.Join(bin, l.Name), l.Real)
		target, err := os.Readlink(filepath.Join(links, l.Name))
		require.NoError(t, err)
		assert.Equal(t, self, target)
	}
	assert.Equal(t, []string{"cl.exe", "clang", "g++-12", "gcc", "x86_64-linux-gnu-gcc-12", "ccache"}, names, "ccache too, found in PATH")

	// Running it again keeps the links and finds the same real compilers.
	again, err := InstallLinks(links, self, f)
	require.NoError(t, err)
	assert.Equal(t, got, again)

	// A file of the user's is never overwritten.
	require.NoError(t, os.Remove(filepath.Join(links, "clang")))
	writeExe(t, filepath.Join(links, "clang"), "#!/bin/sh\necho mine\n")
	_, err = InstallLinks(links, self, f)
	require.ErrorContains(t, err, "is not a link to dcc")
}
