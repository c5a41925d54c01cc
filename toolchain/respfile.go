package toolchain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Quoting is how a compiler driver splits the text of a response file
// ("@file" argument) into arguments. The rules differ in corner cases between
// gcc, clang and cl, and dcc must read a response file exactly as the compiler
// will, so each has its own value.
type Quoting int

// The response-file dialects dcc understands. Each was checked against the real
// driver (gcc 12, clang 14, clang-cl 14); respfile_test.go records the cases.
const (
	// QuotingGCC is libiberty's buildargv, used by gcc: whitespace (space, tab,
	// newline, CR, VT, FF) separates; single and double quotes group; a backslash
	// escapes the next character, inside quotes too; '' is an empty argument; a
	// trailing lone backslash is dropped; the file ends at its first NUL byte; a
	// byte-order mark is an ordinary character.
	QuotingGCC Quoting = iota
	// QuotingClang is LLVM's GNU tokenizer, used by clang and clang++: as
	// QuotingGCC, except that only space, tab, CR and newline separate, empty
	// arguments are dropped, a trailing backslash is kept, a NUL byte ends the
	// argument it is in, and a UTF-8 or UTF-16 byte-order mark is honoured.
	// "--rsp-quoting=windows" or "--driver-mode=cl" on the command line switch
	// it to Windows rules, as they do in clang.
	QuotingClang
	// QuotingWindows is the Windows command-line syntax of cl.exe and clang-cl
	// (which uses it on every platform): space, tab, CR, newline and NUL
	// separate; double quotes group; 2n backslashes before a quote are n
	// backslashes and the quote toggles quoting, 2n+1 are n backslashes and a
	// literal quote, other backslashes are literal; "" inside quotes is a literal
	// quote; single quotes are ordinary. A UTF-8 or UTF-16 byte-order mark is
	// honoured. cl.exe does not allow one response file to name another, and
	// clang-cl ends "/link" arguments at the end of a response-file line; both
	// are reported as errors so that such commands run unchanged.
	// "--rsp-quoting=posix" switches clang-cl to QuotingClang's tokenizer.
	QuotingWindows
)

// String names the quoting for messages.
func (q Quoting) String() string {
	switch q {
	case QuotingGCC:
		return "gcc"
	case QuotingClang:
		return "clang"
	case QuotingWindows:
		return "windows"
	}
	return fmt.Sprintf("Quoting(%d)", int(q))
}

// QuotingFor returns the response-file quoting of a compiler family. Unknown
// families get gcc's rules.
func QuotingFor(f Family) Quoting {
	switch f {
	case FamilyClang:
		return QuotingClang
	case FamilyMSVC:
		return QuotingWindows
	}
	return QuotingGCC
}

// Limits on response-file expansion. Anything past them is an error, so that the
// command runs unchanged and the compiler applies its own limits.
const (
	// maxResponseFiles is libiberty's iteration_limit: gcc fails with "too many
	// @-files encountered" at the 2000th @-argument it examines, expanded or not.
	maxResponseFiles = 2000
	// maxResponseDepth bounds nesting (gcc only has the count above).
	maxResponseDepth = 64
	// maxResponseBytes bounds the bytes read from all response files together.
	maxResponseBytes = 32 << 20
	// maxExpandedArgs bounds the length of the expanded argument list.
	maxExpandedArgs = 1 << 20
)

// Errors returned by ExpandResponseFiles, wrapped with the response file's name;
// test them with errors.Is.
var (
	// ErrResponseFileLimit: too many @-files, nesting too deep, or too many
	// bytes or arguments.
	ErrResponseFileLimit = errors.New("response file expansion exceeds a limit")
	// ErrResponseFileCycle: a response file names itself, directly or through others.
	ErrResponseFileCycle = errors.New("response file includes itself")
	// ErrResponseFileInvalid: a directory, an encoding or quoting error, or a
	// construct the compiler's reading of which dcc cannot reproduce.
	ErrResponseFileInvalid = errors.New("response file not usable")
)

// ExpandResponseFiles replaces every "@file" argument by the arguments the file
// holds, read with quoting q, recursively, as the compiler driver would. Relative
// names, including those inside response files, are resolved against dir (the
// working directory of the command: gcc 12 and clang 14 both resolve nested names
// against the working directory, not against the including file). A name that
// cannot be opened or read stays a literal argument, as gcc and clang keep it.
// Errors name the file and wrap ErrResponseFileLimit, ErrResponseFileCycle or
// ErrResponseFileInvalid. args is returned unchanged when it names no @-file.
func ExpandResponseFiles(args []string, dir string, q Quoting) ([]string, error) {
	hasAt := false
	for _, a := range args {
		if strings.HasPrefix(a, "@") {
			hasAt = true
			break
		}
	}
	if !hasAt {
		return args, nil
	}
	r, err := rulesFor(q, args)
	if err != nil {
		return nil, err
	}
	e := &expander{dir: dir, rules: r, out: make([]string, 0, len(args))}
	if err := e.expand(args); err != nil {
		return nil, err
	}
	return e.out, nil
}

// respRules is one driver's way of reading response files.
type respRules struct {
	split func(data []byte) ([]string, error)
	// clMode: cl.exe or clang-cl in CL mode (no nesting, /link is line-bound).
	clMode bool
}

// rulesFor picks the rules for q, honouring clang's --driver-mode= and
// --rsp-quoting= options, which clang reads from the command line before it
// expands response files.
func rulesFor(q Quoting, args []string) (respRules, error) {
	switch q {
	case QuotingGCC:
		return respRules{split: splitGCC}, nil
	case QuotingClang, QuotingWindows:
	default:
		return respRules{}, fmt.Errorf("unknown response-file quoting %v", q)
	}
	clMode := q == QuotingWindows
	quoting := ""
	for _, a := range args {
		if mode, ok := strings.CutPrefix(a, "--driver-mode="); ok {
			clMode = mode == "cl"
		}
		if a == "--rsp-quoting=posix" || a == "--rsp-quoting=windows" {
			quoting = a
		}
	}
	r := respRules{split: splitClang, clMode: clMode}
	if quoting == "--rsp-quoting=windows" || (quoting == "" && clMode) {
		r.split = splitWindows
	}
	return r, nil
}

// expander holds the state of one ExpandResponseFiles call.
type expander struct {
	dir   string
	rules respRules
	out   []string
	files int   // @-arguments examined, as libiberty counts them
	bytes int64 // bytes read from response files
	stack []openResponseFile
}

// openResponseFile is a response file being expanded, for cycle detection.
type openResponseFile struct {
	name string
	info os.FileInfo
}

// expand appends args to e.out, expanding @-files.
func (e *expander) expand(args []string) error {
	for _, a := range args {
		var err error
		if strings.HasPrefix(a, "@") {
			err = e.expandOne(a)
		} else {
			err = e.push(a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// push appends one argument to the result.
func (e *expander) push(arg string) error {
	if len(e.out) >= maxExpandedArgs {
		return fmt.Errorf("%s: %w: more than %d arguments", e.where(), ErrResponseFileLimit, maxExpandedArgs)
	}
	e.out = append(e.out, arg)
	return nil
}

// where names the response file being read, for messages.
func (e *expander) where() string {
	if len(e.stack) == 0 {
		return "command line"
	}
	return show("@" + e.stack[len(e.stack)-1].name)
}

// show returns s for a message: as it is when it is plain printable text, quoted
// otherwise, so that an error stays on one line whatever a file names.
func show(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == ' ' || r == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}

// expandOne handles one "@name" argument.
func (e *expander) expandOne(arg string) error {
	name := arg[1:]
	e.files++
	if e.files >= maxResponseFiles {
		return fmt.Errorf("%s: %w: %d @-files (gcc stops at %d too)", show(arg), ErrResponseFileLimit, e.files, maxResponseFiles)
	}
	if e.rules.clMode && len(e.stack) > 0 {
		return fmt.Errorf("%s: %w: names %s, and cl.exe does not read a response file inside another", e.where(), ErrResponseFileInvalid, show(arg))
	}
	path := name
	if !filepath.IsAbs(path) && e.dir != "" {
		path = filepath.Join(e.dir, path)
	}
	info, err := os.Stat(path)
	if name == "" || err != nil {
		return e.push(arg)
	}
	if info.IsDir() {
		return fmt.Errorf("%s: %w: it is a directory", show(arg), ErrResponseFileInvalid)
	}
	for i, open := range e.stack {
		if os.SameFile(open.info, info) {
			chain := make([]string, 0, len(e.stack)-i+1)
			for _, o := range e.stack[i:] {
				chain = append(chain, show("@"+o.name))
			}
			chain = append(chain, show(arg))
			return fmt.Errorf("%s: %w (%s)", show(arg), ErrResponseFileCycle, strings.Join(chain, " -> "))
		}
	}
	if len(e.stack) >= maxResponseDepth {
		return fmt.Errorf("%s: %w: nested more than %d deep", show(arg), ErrResponseFileLimit, maxResponseDepth)
	}
	data, ok, err := e.read(path, arg)
	if err != nil {
		return err
	}
	if !ok {
		return e.push(arg)
	}
	words, err := e.rules.split(data)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", show(arg), ErrResponseFileInvalid, err)
	}
	if e.rules.clMode {
		for _, w := range words {
			if l := strings.ToLower(w); strings.HasPrefix(l, "/link") || strings.HasPrefix(l, "-link") {
				return fmt.Errorf("%s: %w: %s in a response file ends at the end of its line", show(arg), ErrResponseFileInvalid, show(w))
			}
		}
	}
	e.stack = append(e.stack, openResponseFile{name: name, info: info})
	err = e.expand(words)
	e.stack = e.stack[:len(e.stack)-1]
	return err
}

// read returns the contents of a response file; ok is false when it cannot be
// opened or read, which leaves the argument literal (libiberty's fopen/fread
// failures do the same).
func (e *expander) read(path, arg string) (data []byte, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, nil
	}
	defer f.Close()
	budget := maxResponseBytes - e.bytes
	data, err = io.ReadAll(io.LimitReader(f, budget+1))
	if err != nil {
		return nil, false, nil
	}
	if int64(len(data)) > budget {
		return nil, false, fmt.Errorf("%s: %w: more than %d bytes of response files", show(arg), ErrResponseFileLimit, maxResponseBytes)
	}
	e.bytes += int64(len(data))
	return data, true, nil
}

// isGCCSpace is libiberty's ISSPACE.
func isGCCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// splitGCC is libiberty's expandargv + buildargv: the text ends at its first NUL
// byte, and a file holding only whitespace has no arguments.
func splitGCC(data []byte) ([]string, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		data = data[:i]
	}
	var words []string
	i := skipGCCSpace(data, 0)
	for i < len(data) {
		var word []byte
		word, i = gccWord(data, i)
		words = append(words, string(word))
		i = skipGCCSpace(data, i)
	}
	return words, nil
}

// skipGCCSpace returns the index of the first non-space byte at or after i.
func skipGCCSpace(data []byte, i int) int {
	for i < len(data) && isGCCSpace(data[i]) {
		i++
	}
	return i
}

// gccWord scans one argument starting at i with buildargv's rules and returns it
// with the index just past it.
func gccWord(data []byte, i int) ([]byte, int) {
	word := []byte{}
	squote, dquote, escaped := false, false, false
	for ; i < len(data); i++ {
		c := data[i]
		switch {
		case escaped:
			escaped = false
			word = append(word, c)
		case c == '\\':
			escaped = true
		case squote:
			if c == '\'' {
				squote = false
			} else {
				word = append(word, c)
			}
		case dquote:
			if c == '"' {
				dquote = false
			} else {
				word = append(word, c)
			}
		case isGCCSpace(c):
			return word, i
		case c == '\'':
			squote = true
		case c == '"':
			dquote = true
		default:
			word = append(word, c)
		}
	}
	return word, i
}

// isLLVMSpace is the whitespace of LLVM's GNU tokenizer.
func isLLVMSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// splitClang is LLVM 14's ExpandResponseFile with TokenizeGNUCommandLine.
func splitClang(data []byte) ([]string, error) {
	data, err := decodeBOM(data)
	if err != nil {
		return nil, err
	}
	var words []string
	var word []byte
	flush := func() {
		if len(word) > 0 {
			words = append(words, cString(word))
			word = word[:0]
		}
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\\' && i+1 < len(data):
			i++
			word = append(word, data[i])
		case c == '\'' || c == '"':
			for i++; i < len(data) && data[i] != c; i++ {
				if data[i] == '\\' && i+1 < len(data) {
					i++
				}
				word = append(word, data[i])
			}
		case isLLVMSpace(c):
			flush()
		default:
			word = append(word, c)
		}
	}
	flush()
	return words, nil
}

// cString is what a C program sees of an argument: the bytes before any NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// isWindowsSpace is the whitespace of LLVM's Windows tokenizer.
func isWindowsSpace(c byte) bool { return isLLVMSpace(c) || c == 0 }

// splitWindows is LLVM 14's TokenizeWindowsCommandLine (the rules of
// CommandLineToArgvW with the post-2008 doubled-quote rule), except that an
// unterminated quote is an error: clang-cl drops that argument, and other
// Windows programs keep it.
func splitWindows(data []byte) ([]string, error) {
	data, err := decodeBOM(data)
	if err != nil {
		return nil, err
	}
	var words []string
	var word []byte
	inWord, quoted := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\\':
			n := 1
			for i+1 < len(data) && data[i+1] == '\\' {
				i++
				n++
			}
			if i+1 < len(data) && data[i+1] == '"' {
				word = append(word, bytes.Repeat([]byte{'\\'}, n/2)...)
				if n%2 == 1 {
					i++
					word = append(word, '"')
				}
			} else {
				word = append(word, bytes.Repeat([]byte{'\\'}, n)...)
			}
			inWord = true
		case c == '"' && quoted && i+1 < len(data) && data[i+1] == '"':
			i++
			word = append(word, '"')
		case c == '"':
			quoted = !quoted
			inWord = true
		case isWindowsSpace(c) && !quoted:
			if inWord {
				words = append(words, string(word))
			}
			word, inWord = word[:0], false
		default:
			word = append(word, c)
			inWord = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, string(word))
	}
	return words, nil
}

// decodeBOM returns UTF-8 text for a file that starts with a UTF-16 (little or
// big endian) or UTF-8 byte-order mark, as LLVM does; other files are returned as
// they are.
func decodeBOM(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
	default:
		return data, nil
	}
	if len(data)%2 != 0 {
		return nil, errors.New("UTF-16 text with an odd number of bytes")
	}
	big := data[0] == 0xFE
	units := make([]uint16, 0, len(data)/2-1)
	for i := 2; i < len(data); i += 2 {
		if big {
			units = append(units, uint16(data[i])<<8|uint16(data[i+1]))
		} else {
			units = append(units, uint16(data[i+1])<<8|uint16(data[i]))
		}
	}
	out := make([]byte, 0, len(units))
	for i := 0; i < len(units); i++ {
		r := rune(units[i])
		if utf16.IsSurrogate(r) {
			if i+1 >= len(units) {
				return nil, errors.New("invalid UTF-16 text")
			}
			if r = utf16.DecodeRune(r, rune(units[i+1])); r == utf8.RuneError {
				return nil, errors.New("invalid UTF-16 text")
			}
			i++
		}
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}
