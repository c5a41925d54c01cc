package compile

import (
	"bytes"
	"strconv"
	"strings"
)

// includedFile is one file that preprocessed text names in its line markers.
type includedFile struct {
	// path is the file's name as the marker gives it.
	path string
	// includer is the file whose #include brought it in, as its marker names
	// it: "" for the main source (or a file a marker names without entering
	// it), a pseudo-file such as "<command-line>" for -include files.
	includer string
}

// includedFiles lists, in first-seen order, the files named by the line
// markers of preprocessed text, `# 12 "path" 1 3` (gcc, clang) and
// `#line 12 "path"` (cl, clang-cl), each with the file that included it,
// found by following the markers' enter (1) and return (2) flags. Pseudo-files
// such as <built-in> are skipped, and so is gcc's working-directory marker
// (`# 1 "/dir//"`, written with -g), which names a directory.
func includedFiles(text []byte) []includedFile {
	seen := map[string]bool{}
	var out []includedFile
	var stack []string
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if len(line) < 4 || line[0] != '#' {
			continue
		}
		path, flags, ok := parseMarker(line)
		if !ok || path == "" || strings.HasSuffix(path, "//") {
			continue
		}
		includer := ""
		switch {
		case flags.enter:
			if len(stack) > 0 {
				includer = stack[len(stack)-1]
			}
			stack = append(stack, path)
		case flags.leave && len(stack) > 1:
			stack = stack[:len(stack)-1]
			stack[len(stack)-1] = path
		case len(stack) > 0:
			// A marker that neither enters nor leaves renames the current
			// file (the first marker, or a #line directive).
			stack[len(stack)-1] = path
		default:
			stack = append(stack, path)
		}
		if path[0] == '<' || seen[path] {
			continue
		}
		seen[path] = true
		out = append(out, includedFile{path: path, includer: includer})
	}
	return out
}

// markerFlags are the flags after a line marker's file name.
type markerFlags struct {
	// enter: the marker starts a new (included) file (flag 1).
	enter bool
	// leave: the marker returns to an including file (flag 2).
	leave bool
}

// parseMarker returns the file name and flags of one line-marker line.
func parseMarker(line []byte) (string, markerFlags, bool) {
	var flags markerFlags
	rest := bytes.TrimPrefix(line[1:], []byte("line"))
	rest = bytes.TrimLeft(rest, " \t")
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return "", flags, false
	}
	rest = bytes.TrimLeft(rest[i:], " \t")
	if len(rest) < 2 || rest[0] != '"' {
		return "", flags, false
	}
	end := closingQuote(rest)
	if end < 0 {
		return "", flags, false
	}
	for _, f := range bytes.Fields(rest[end+1:]) {
		switch string(f) {
		case "1":
			flags.enter = true
		case "2":
			flags.leave = true
		}
	}
	path, err := strconv.Unquote(string(rest[:end+1]))
	if err != nil {
		// Not a Go-compatible escape: take the bytes between the quotes.
		return string(rest[1:end]), flags, true
	}
	return path, flags, true
}

// closingQuote finds the quote closing the string that starts at s[0],
// honouring backslash escapes.
func closingQuote(s []byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
