package compile

import (
	"bytes"
	"strconv"
)

// includedFiles lists, in first-seen order, the files named by the line
// markers of preprocessed text: `# 12 "path" 1` (gcc, clang) and
// `#line 12 "path"` (cl, clang-cl). Pseudo-files such as <built-in> are skipped.
func includedFiles(text []byte) []string {
	seen := map[string]bool{}
	var out []string
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
		path, ok := markerPath(line)
		if !ok || path == "" || path[0] == '<' || seen[path] {
			continue
		}
		seen[path] = true
		out = append(out, path)
	}
	return out
}

// markerPath returns the file name of one line-marker line.
func markerPath(line []byte) (string, bool) {
	rest := bytes.TrimPrefix(line[1:], []byte("line"))
	rest = bytes.TrimLeft(rest, " \t")
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return "", false
	}
	rest = bytes.TrimLeft(rest[i:], " \t")
	if len(rest) < 2 || rest[0] != '"' {
		return "", false
	}
	end := closingQuote(rest)
	if end < 0 {
		return "", false
	}
	path, err := strconv.Unquote(string(rest[:end+1]))
	if err != nil {
		// Not a Go-compatible escape: take the bytes between the quotes.
		return string(rest[1:end]), true
	}
	return path, true
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
