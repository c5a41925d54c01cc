package daemon

import (
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExecutableBuildID(t *testing.T) {
	id, err := ExecutableBuildID()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(id, "go:"), id)
	exe, err := os.Executable()
	require.NoError(t, err)
	out, err := exec.Command("go", "tool", "buildid", exe).Output()
	if err != nil {
		t.Skipf("go tool buildid: %v", err)
	}
	assert.Equal(t, "go:"+strings.TrimSpace(string(out)), id, "the id the Go toolchain reads")
}

func TestGoBuildID(t *testing.T) {
	note := func(namesz, descsz uint32, name, desc string) []byte {
		b := binary.LittleEndian.AppendUint32(nil, namesz)
		b = binary.LittleEndian.AppendUint32(b, descsz)
		b = binary.LittleEndian.AppendUint32(b, 4)
		return append(append(b, name...), desc...)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"elf note", append([]byte("\x7fELF junk"), note(4, 5, "Go\x00\x00", "ab/cd")...), "ab/cd"},
		{"note with a wrong name size", note(5, 5, "Go\x00\x00", "ab/cd"), ""},
		{"truncated note", note(4, 50, "Go\x00\x00", "ab/cd"), ""},
		{"raw marker", []byte("xx\xff Go build ID: \"ab/cd\"\n \xffyy"), "ab/cd"},
		{"unterminated marker", []byte("xx\xff Go build ID: \"ab/cd"), ""},
		{"nothing", []byte("plain data"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, goBuildID(tt.data))
		})
	}
}
