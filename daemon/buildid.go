package daemon

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// ExecutableBuildID identifies the running executable's build, for the
// handshake: the Go build ID the linker writes into the executable (equal
// for equal sources and toolchain, different otherwise), read from its
// first pages; failing that, its size and modification time. It costs one
// open and one 4 KiB read (ELF), once per process.
func ExecutableBuildID() (string, error) {
	return buildIDOnce()
}

var buildIDOnce = sync.OnceValues(executableBuildID)

func executableBuildID() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("build id: %w", err)
	}
	return BuildIDOf(exe)
}

// BuildIDOf identifies the build of the executable at exe, as
// ExecutableBuildID does for the running one: the wrapper uses it to name the
// build of the daemon executable it would start.
func BuildIDOf(exe string) (string, error) {
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("build id: %w", err)
	}
	defer f.Close()
	// ELF puts the note in the first page; other formats put the marker
	// within the first 32 KiB.
	for _, size := range []int{4 << 10, 32 << 10} {
		head := make([]byte, size)
		n, err := f.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("build id: read %s: %w", exe, err)
		}
		if id := goBuildID(head[:n]); id != "" {
			return "go:" + id, nil
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("build id: %w", err)
	}
	return fmt.Sprintf("file:%d:%d", fi.Size(), fi.ModTime().UnixNano()), nil
}

// goBuildID finds the Go build ID in the start of an executable, as
// cmd/internal/buildid stores it: an ELF note named "Go" of type 4 (in the
// first page on ELF systems), or a quoted string after a marker at the start
// of the text segment (other formats). It returns "" when there is none.
func goBuildID(data []byte) string {
	// ELF note: namesz=4, descsz, type=4, "Go\0\0", desc (little-endian hosts).
	noteTail := []byte("\x04\x00\x00\x00Go\x00\x00")
	for off := 0; ; {
		i := bytes.Index(data[off:], noteTail)
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		if i < 8 || binary.LittleEndian.Uint32(data[i-8:]) != 4 {
			continue
		}
		size := int(binary.LittleEndian.Uint32(data[i-4:]))
		start := i + len(noteTail)
		if size > 0 && size <= 1024 && start+size <= len(data) {
			return string(data[start : start+size])
		}
	}
	marker := []byte("\xff Go build ID: \"")
	i := bytes.Index(data, marker)
	if i < 0 {
		return ""
	}
	rest := data[i+len(marker)-1:]
	j := bytes.Index(rest, []byte("\"\n \xff"))
	if j < 0 {
		return ""
	}
	id, err := strconv.Unquote(string(rest[:j+1]))
	if err != nil {
		return ""
	}
	return id
}
