// Package includescan finds, without running the preprocessor, the file names
// a C, C++ or Objective-C file asks the preprocessor to look for: the
// operands of #include, #include_next and #import, and of __has_include and
// __has_include_next. dcc uses it to decide which headers to send with a
// source to a compile host, which compiles in a tree holding only those files.
//
// The scan over-approximates and never follows the conditionals: a name is
// reported wherever the text could be a directive or a probe for gcc 12 or
// clang 14, so directives inside #if 0 blocks are reported, and the text of
// #error and #warning is skipped verbatim as clang does (a /* there opens no
// comment). It does not report text that every compiler reads as a comment, a
// string or character literal or a raw string literal: an "#include" line
// inside /* ... */, after a // comment continued by a backslash-newline, or
// inside R"( ... )" is not reported (but a raw string opened on a directive
// line ends with that line, as in gcc).
//
// When the scan cannot know the name (a macro gives it) Scan returns an error
// wrapping ErrComputed; when the file uses a construct that makes the
// preprocessor read or stat a file and that the scan does not follow (#embed,
// #pragma GCC dependency, trigraph-spelled directives, ...) the error wraps
// ErrUnsupported. Either way the caller must fall back to running the
// preprocessor.
//
// The scan does not know the language. The C++14 digit separator (1'000) is
// lexed both ways: when a line holding one would end inside a comment or a
// raw string for C++ but not for C, the next line is read as code.
//
// Known limits, each needing text no real header holds: raw string literals
// are recognised in every language, though clang, and gcc in strict ISO C
// modes, have none in C (R"( in C code would hide lines up to )"); a
// trigraph ??/ (backslash) before a newline is not a line splice for the
// scan; and though module imports (import <x>; and @import) are refused,
// #include turned into a module import under -fmodules is the caller's
// concern.
package includescan

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Directive is one file name a file asks the preprocessor to find.
type Directive struct {
	Name  string // the name between the quotes or the angle brackets, as written
	Angle bool   // <name>; else "name"
	Next  bool   // #include_next or __has_include_next
	Probe bool   // __has_include(...) / __has_include_next(...): only looked for, not read
	Line  int    // 1-based line where the directive or the __has_include starts
	// Macro: Name is the name of a macro the directive's operand is
	// (#include NAME alone on its line); only ScanFile reports these.
	Macro bool
}

// Definition is one #define of a file, as ScanFile reports it.
type Definition struct {
	Macro string // the macro's name
	// Literal: the macro is object-like and its body is one "name" or
	// <name>, which Value holds; else the body is anything else.
	Literal bool
	Value   Directive
	Line    int // 1-based line of the #define
}

// File is what ScanFile finds in a file.
type File struct {
	Directives  []Directive
	Definitions []Definition
	// SystemHeader lists the lines of the #pragma GCC system_header
	// directives: gcc makes the rest of an included file a system header,
	// whose own includes gcc's -MMD leaves out of the dependency file.
	SystemHeader []int
	// SystemHeaderElsewhere: system_header is also spelled elsewhere, as an
	// identifier or in a string or character literal (a _Pragma operand, a
	// macro that makes one): that pragma may take effect anywhere.
	SystemHeaderElsewhere bool
	// LineMarker: the file holds a GNU line marker (# 33 "name" 3), which
	// sets or clears the system-header state of the rest of the file.
	LineMarker bool
}

// ScanFile is Scan, except that an #include, #include_next or #import of
// one macro name alone on its line is reported as a Directive with Macro
// set instead of an error, and that every #define is reported, so that the
// caller can follow the macro's definitions.
func ScanFile(src []byte) (*File, error) {
	s := scanner{src: src, lineNo: 1, definedEnd: -1, sepQuote: -1, hasCR: bytes.IndexByte(src, '\r') >= 0, full: true}
	if err := s.trigraphs(); err != nil {
		return nil, err
	}
	if err := s.run(); err != nil {
		return nil, err
	}
	return &File{Directives: s.out, Definitions: s.defs, SystemHeader: s.sysHeader,
		SystemHeaderElsewhere: s.sysHeaderElsewhere, LineMarker: s.lineMarker}, nil
}

var (
	// ErrComputed is wrapped by the error Scan returns when an #include,
	// #include_next, #import or __has_include(_next) operand is not a
	// "name" or <name> literal (a macro, a macro parameter, or nothing at
	// all), so that the name cannot be known without preprocessing. So is
	// __has_include not followed by ( unless it is the operand of defined,
	// #ifdef, #ifndef or #undef or the name in #define: after
	// "#define H __has_include", "#if H(<a.h>)" looks for a.h. The error
	// names the line.
	ErrComputed = errors.New(`file name not written as a "name" or <name> literal`)

	// ErrUnsupported is wrapped by the error Scan returns when the file uses
	// something the scanner does not follow and that makes the preprocessor
	// read or stat a file: #pragma GCC dependency (also through _Pragma),
	// #pragma GCC pch_preprocess, #pragma include_alias, #pragma clang
	// module, #embed, __has_embed, a trigraph ??= that may spell the # of a
	// directive, a trigraph inside an included name, or a module import
	// (import <name>; or @import). The error names the line.
	ErrUnsupported = errors.New("construct that reads files, not followed by the scanner")
)

// Scan returns the directives of one C, C++ or Objective-C file, in order.
// On error it returns no directives and an error wrapping ErrComputed or
// ErrUnsupported, naming the first line concerned.
func Scan(src []byte) ([]Directive, error) {
	s := scanner{src: src, lineNo: 1, definedEnd: -1, sepQuote: -1, hasCR: bytes.IndexByte(src, '\r') >= 0}
	if err := s.trigraphs(); err != nil {
		return nil, err
	}
	if err := s.run(); err != nil {
		return nil, err
	}
	return s.out, nil
}

// Character classes of the main loop.
const (
	cOther     = iota
	cSpace     // ' ', \t, \f, \v, NUL
	cNewline   // \n, \r (a lone CR ends a line for gcc and clang)
	cIdent     // letters, _, $, bytes of UTF-8 sequences
	cDigit     // 0-9
	cDot       // .
	cSlash     // /
	cQuote     // " and '
	cHash      // #
	cPercent   // % (digraph %:)
	cBackslash // \ (line splice)
	cAt        // @ (@import)
)

var (
	class     [256]uint8
	identChar [256]bool // characters that continue an identifier or pp-number
)

func init() {
	for c := 0; c < 256; c++ {
		switch {
		case c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == 0:
			class[c] = cSpace
		case c == '\n' || c == '\r':
			class[c] = cNewline
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$', c >= 0x80:
			class[c] = cIdent
			identChar[c] = true
		case c >= '0' && c <= '9':
			class[c] = cDigit
			identChar[c] = true
		case c == '.':
			class[c] = cDot
		case c == '/':
			class[c] = cSlash
		case c == '"' || c == '\'':
			class[c] = cQuote
		case c == '#':
			class[c] = cHash
		case c == '%':
			class[c] = cPercent
		case c == '\\':
			class[c] = cBackslash
		case c == '@':
			class[c] = cAt
		}
	}
}

func isHSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' || c == '\v' }

type scanner struct {
	src   []byte
	out   []Directive
	buf   []byte // an identifier with line splices in it, without them
	hasCR bool   // src holds a '\r': lines may end in CR LF or CR

	// Line numbers are counted lazily, from linePos (where the line is
	// lineNo) to the position asked for.
	linePos, lineNo int

	definedEnd int // end of the last identifier "defined", or -1
	sepQuote   int // the first digit separator of the current line, or -1

	inDirective bool // the current line starts with # or %:

	full bool         // ScanFile: report macro includes and definitions
	defs []Definition // the definitions, when full

	// What makes gcc take a file for a system header (see File).
	sysHeader          []int
	sysHeaderElsewhere bool
	lineMarker         bool
}

// line returns the 1-based line of pos.
func (s *scanner) line(pos int) int {
	if pos < s.linePos {
		s.linePos, s.lineNo = 0, 1
	}
	seg := s.src[s.linePos:pos]
	s.lineNo += bytes.Count(seg, []byte{'\n'})
	if s.hasCR {
		for off := s.linePos; ; {
			r := bytes.IndexByte(s.src[off:pos], '\r')
			if r < 0 {
				break
			}
			off += r + 1
			if off >= len(s.src) || s.src[off] != '\n' {
				s.lineNo++
			}
		}
	}
	s.linePos = pos
	return s.lineNo
}

func (s *scanner) errorf(pos int, kind error, format string, args ...any) error {
	return fmt.Errorf("includescan: line %d: %s: %w", s.line(pos), fmt.Sprintf(format, args...), kind)
}

// snippet quotes the start of the rest of the line at p for an error message.
func (s *scanner) snippet(p int) string {
	if p >= len(s.src) || class[s.src[p]] == cNewline {
		return "end of line"
	}
	k := s.eol(p)
	if k-p > 32 {
		k = p + 32
	}
	return strconv.Quote(string(s.src[p:k]))
}

// splice returns i moved past the line splices (a backslash, optional
// horizontal space, then a newline: gcc and clang accept the space) that
// start at i.
func (s *scanner) splice(i int) int {
	if i < len(s.src) && s.src[i] == '\\' {
		return s.spliceSlow(i)
	}
	return i
}

func (s *scanner) spliceSlow(i int) int {
	src := s.src
	for i < len(src) && src[i] == '\\' {
		j := i + 1
		for j < len(src) && isHSpace(src[j]) {
			j++
		}
		switch {
		case j >= len(src):
			return j // the file's end counts as a newline
		case src[j] == '\n':
			i = j + 1
		case src[j] == '\r':
			i = j + 1
			if i < len(src) && src[i] == '\n' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// at returns the position and value of the logical character at i, after
// any splices; the position is len(src) at the end.
func (s *scanner) at(i int) (int, byte) {
	i = s.splice(i)
	if i >= len(s.src) {
		return i, 0
	}
	return i, s.src[i]
}

// eol returns the position of the first '\n' or '\r' at or after i, or
// len(src).
func (s *scanner) eol(i int) int {
	k := bytes.IndexByte(s.src[i:], '\n')
	if k < 0 {
		k = len(s.src)
	} else {
		k += i
	}
	if s.hasCR {
		if r := bytes.IndexByte(s.src[i:k], '\r'); r >= 0 {
			return i + r
		}
	}
	return k
}

// afterNewline returns the position after the newline at k.
func (s *scanner) afterNewline(k int) int {
	if s.src[k] == '\r' && k+1 < len(s.src) && s.src[k+1] == '\n' {
		return k + 2
	}
	return k + 1
}

// spliced reports whether the newline at k ends a line splice.
func (s *scanner) spliced(k int) bool {
	q := k - 1
	for q >= 0 && isHSpace(s.src[q]) {
		q--
	}
	return q >= 0 && s.src[q] == '\\'
}

// lineEnd returns the position of the newline that ends the logical line
// holding i (splices continue it), or len(src).
func (s *scanner) lineEnd(i int) int {
	for {
		k := s.eol(i)
		if k >= len(s.src) || !s.spliced(k) {
			return k
		}
		i = s.afterNewline(k)
	}
}

// blockComment returns the position after the "*/" closing the comment
// whose text starts at start, or len(src).
func (s *scanner) blockComment(start int) int {
	src := s.src
	for p := start; ; {
		r := bytes.IndexByte(src[p:], '/')
		if r < 0 {
			return len(src)
		}
		k := p + r
		if s.closes(start, k) {
			return k + 1
		}
		p = k + 1
	}
}

// closes reports whether the '/' at k, with a '*' before it (possibly
// across splices) after start, closes a comment.
func (s *scanner) closes(start, k int) bool {
	src := s.src
	for q := k - 1; q >= start; {
		switch src[q] {
		case '*':
			return true
		case '\n', '\r':
			if src[q] == '\n' && q-1 >= start && src[q-1] == '\r' {
				q--
			}
			q--
			for q >= start && isHSpace(src[q]) {
				q--
			}
			if q < start || src[q] != '\\' {
				return false
			}
			q--
		default:
			return false
		}
	}
	return false
}

// skipSpace returns the first position at or after i that is not
// horizontal space, a splice or a comment (a // comment ends at its
// newline, which is returned).
func (s *scanner) skipSpace(i int) int {
	src := s.src
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\f', '\v', 0:
			i++
		case '\\':
			j := s.splice(i)
			if j == i {
				return i
			}
			i = j
		case '/':
			j, c := s.at(i + 1)
			switch {
			case j < len(src) && c == '*':
				i = s.blockComment(j + 1)
			case j < len(src) && c == '/':
				return s.lineEnd(j + 1)
			default:
				return i
			}
		default:
			return i
		}
	}
	return i
}

// quoted returns the position after the string or character literal whose
// text starts at i and that ends with term, or the position of the newline
// that ends it unterminated (gcc and clang end such a literal there too).
func (s *scanner) quoted(i int, term byte) int {
	src := s.src
	for i < len(src) {
		switch c := src[i]; c {
		case term:
			return i + 1
		case '\n', '\r':
			return i
		case '\\':
			if j := s.spliceSlow(i); j != i {
				i = j
				continue
			}
			j := s.splice(i + 1)
			if j < len(src) && src[j] != '\n' && src[j] != '\r' {
				j++
			}
			i = j
		default:
			i++
		}
	}
	return i
}

// number returns the end of the pp-number whose second character is at i
// (with C++14 digit separators).
func (s *scanner) number(i int) int {
	src := s.src
	for {
		i = s.splice(i)
		if i >= len(src) {
			return i
		}
		c := src[i]
		switch {
		case identChar[c] || c == '.':
			if c|0x20 == 'e' || c|0x20 == 'p' {
				if j, d := s.at(i + 1); j < len(src) && (d == '+' || d == '-') {
					i = j + 1
					continue
				}
			}
			i++
		case c == '\'':
			j, d := s.at(i + 1)
			if j >= len(src) || !identChar[d] {
				return i
			}
			if s.sepQuote < 0 {
				s.sepQuote = i
			}
			i = j + 1
		default:
			return i
		}
	}
}

// ident returns the end of the identifier starting at i and its spelling
// without splices (a subslice of src, or s.buf when it has splices).
func (s *scanner) ident(i int) (int, []byte) {
	src := s.src
	j := i + 1
	for j < len(src) && identChar[src[j]] {
		j++
	}
	if j >= len(src) || src[j] != '\\' || s.spliceSlow(j) == j {
		return j, src[i:j]
	}
	buf := append(s.buf[:0], src[i:j]...)
	for {
		j = s.splice(j)
		if j >= len(src) || !identChar[src[j]] {
			break
		}
		buf = append(buf, src[j])
		j++
	}
	s.buf = buf
	return j, buf
}

// identAt returns the identifier at i, if there is one.
func (s *scanner) identAt(i int) (int, []byte) {
	if i >= len(s.src) || class[s.src[i]] != cIdent {
		return i, nil
	}
	return s.ident(i)
}

// headerName reads the "name" or <name> whose opening character is at p:
// verbatim up to the closing character on the same logical line, without
// splices. ok is false when the line ends first.
func (s *scanner) headerName(p int) (end int, name string, ok bool) {
	src := s.src
	term := byte('"')
	if src[p] == '<' {
		term = '>'
	}
	a := p + 1
	hasSplice := false
	i := a
	for {
		if i >= len(src) {
			return i, "", false
		}
		c := src[i]
		if c == term {
			break
		}
		switch c {
		case '\n', '\r':
			return i, "", false
		case '\\':
			if j := s.spliceSlow(i); j != i {
				hasSplice = true
				i = j
				continue
			}
		}
		i++
	}
	if !hasSplice {
		return i + 1, string(src[a:i]), true
	}
	var b strings.Builder
	b.Grow(i - a)
	for k := a; k < i; {
		if j := s.splice(k); j != k {
			k = j
			continue
		}
		b.WriteByte(src[k])
		k++
	}
	return i + 1, b.String(), true
}

// trigraphName reports whether name holds a trigraph: with -trigraphs (or a
// strict ISO mode) the preprocessor would look for another name.
func trigraphName(name string) bool {
	for i := strings.Index(name, "??"); i >= 0 && i+2 < len(name); {
		if strings.IndexByte("=/'()!<>-", name[i+2]) >= 0 {
			return true
		}
		j := strings.Index(name[i+1:], "??")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// add records a directive found at pos.
func (s *scanner) add(pos int, name string, angle, next, probe bool) error {
	if name == "" {
		return nil // gcc and clang reject an empty name without looking
	}
	if trigraphName(name) {
		return s.errorf(pos, ErrUnsupported, "trigraph in file name %q", name)
	}
	s.out = append(s.out, Directive{Name: name, Angle: angle, Next: next, Probe: probe, Line: s.line(pos)})
	return nil
}

var trigraphHash = []byte("??=")

// trigraphs refuses ??= followed by what may be a directive name: with
// trigraphs on, ??= is a #.
func (s *scanner) trigraphs() error {
	src := s.src
	for p := 0; ; {
		r := bytes.Index(src[p:], trigraphHash)
		if r < 0 {
			return nil
		}
		at := p + r
		k := at + 3
		for k < len(src) && (src[k] == ' ' || src[k] == '\t') {
			k++
		}
		rest := src[k:]
		for _, w := range []string{"include", "import", "embed", "pragma", "/", "\\"} {
			if bytes.HasPrefix(rest, []byte(w)) {
				return s.errorf(at, ErrUnsupported, "trigraph ??= may spell a directive")
			}
		}
		p = at + 1
	}
}

// run is the main pass over the code.
func (s *scanner) run() error {
	src := s.src
	n := len(src)
	bol := true // only space and comments since the start of the logical line
	for i := 0; i < n; {
		switch class[src[i]] {
		case cSpace:
			i++
		case cNewline:
			bol = true
			s.sepQuote = -1
			s.inDirective = false
			i++
		case cIdent:
			j, err := s.identifier(i, bol)
			if err != nil {
				return err
			}
			i, bol = j, false
		case cDigit:
			i, bol = s.number(i+1), false
		case cDot:
			if j, c := s.at(i + 1); j < n && c >= '0' && c <= '9' {
				i = s.number(j + 1)
			} else {
				i++
			}
			bol = false
		case cSlash:
			j, c := s.at(i + 1)
			switch {
			case j < n && c == '*':
				i = s.multiLine(i, s.blockComment(j+1))
			case j < n && c == '/':
				i = s.lineEnd(j + 1)
			default:
				i, bol = i+1, false
			}
		case cQuote:
			j := s.quoted(i+1, src[i])
			if s.mentions(i+1, j, sysHeaderWord) {
				s.sysHeaderElsewhere = true
			}
			i, bol = j, false
		case cHash:
			if !bol {
				i++
				continue
			}
			bol = false
			j, c := s.at(i + 1)
			if j < n && c == '#' { // ##
				i = j + 1
				continue
			}
			s.inDirective = true
			k, err := s.directive(i, i+1)
			if err != nil {
				return err
			}
			i = k
		case cPercent:
			j, c := s.at(i + 1)
			if !bol || j >= n || c != ':' {
				i, bol = i+1, false
				continue
			}
			bol = false
			if k, c2 := s.at(j + 1); k < n && c2 == '%' {
				if l, c3 := s.at(k + 1); l < n && c3 == ':' { // %:%: is ##
					i = l + 1
					continue
				}
			}
			s.inDirective = true
			k, err := s.directive(i, j+1)
			if err != nil {
				return err
			}
			i = k
		case cBackslash:
			if j := s.spliceSlow(i); j != i {
				i = j
			} else {
				i, bol = i+1, false
			}
		case cAt:
			if bol {
				if _, id := s.identAt(s.skipSpace(i + 1)); string(id) == "import" {
					return s.errorf(i, ErrUnsupported, "@import of a module")
				}
			}
			i, bol = i+1, false
		default:
			i, bol = i+1, false
		}
	}
	return nil
}

// multiLine returns where to go on after a comment or raw string literal
// from start to end. When it goes past the end of a line holding a digit
// separator that C reads as the start of a character literal, and C would
// not end that line in a comment, it returns that line's end instead: the
// following lines are code for C.
func (s *scanner) multiLine(start, end int) int {
	if s.sepQuote < 0 || s.sepQuote > start {
		return end
	}
	le := s.lineEnd(s.sepQuote)
	if start < le && end > le && !s.cEndsInComment(s.sepQuote, le) {
		return le
	}
	return end
}

// cEndsInComment reports whether C, without digit separators or raw
// strings, lexing from the ' at p to the line end le, ends inside a block
// comment.
func (s *scanner) cEndsInComment(p, le int) bool {
	src := s.src
	for i := p; i < le; {
		switch c := src[i]; c {
		case '\'', '"':
			i = s.quoted(i+1, c)
		case '/':
			j, d := s.at(i + 1)
			switch {
			case j < le && d == '*':
				if i = s.blockComment(j + 1); i > le {
					return true
				}
			case j < le && d == '/':
				return false
			default:
				i++
			}
		default:
			i++
		}
	}
	return false
}

// isOperator reports whether id is one of the operators that look for files.
func isOperator(id []byte) bool {
	switch string(id) {
	case "__has_include", "__has_include__", "__has_include_next", "__has_include_next__", "__has_embed":
		return true
	}
	return false
}

// identifier handles the identifier at i in code and returns where to go on.
func (s *scanner) identifier(i int, bol bool) (int, error) {
	e, id := s.ident(i)
	switch id[0] {
	case '_':
		switch string(id) {
		case "__has_include":
			return s.hasInclude(i, e, "__has_include", false)
		case "__has_include__":
			return s.hasInclude(i, e, "__has_include__", false)
		case "__has_include_next":
			return s.hasInclude(i, e, "__has_include_next", true)
		case "__has_include_next__":
			return s.hasInclude(i, e, "__has_include_next__", true)
		case "__has_embed":
			if p := s.skipSpace(e); p < len(s.src) && s.src[p] == '(' || !s.afterDefined(i) {
				return 0, s.errorf(i, ErrUnsupported, "__has_embed")
			}
		case "_Pragma":
			if s.pragmaOperator(e) {
				return 0, s.errorf(i, ErrUnsupported, "_Pragma that reads a file")
			}
		}
	case 'R', 'u', 'U', 'L':
		switch string(id) {
		case "R", "u8R", "uR", "UR", "LR":
			if q, c := s.at(e); c == '"' && q < len(s.src) {
				end := s.rawString(q)
				if s.mentions(q, end, sysHeaderWord) {
					s.sysHeaderElsewhere = true
				}
				if s.inDirective {
					// gcc ends a raw string literal at the end of a
					// directive line (with an error), clang does not.
					if le := s.lineEnd(q); end > le {
						return le, nil
					}
				}
				return s.multiLine(i, end), nil
			}
		}
	case 'd':
		if string(id) == "defined" {
			s.definedEnd = e
		}
	case 's':
		if string(id) == sysHeaderWord {
			s.sysHeaderElsewhere = true
		}
	case 'G':
		if string(id) == "GCC" {
			if _, id2 := s.identAt(s.skipSpace(e)); string(id2) == "dependency" {
				return 0, s.errorf(i, ErrUnsupported, "GCC dependency")
			}
		}
	case 'i', 'e':
		if !bol {
			break
		}
		p := s.skipSpace(e)
		if string(id) == "export" {
			var id2 []byte
			p, id2 = s.identAt(p)
			if string(id2) != "import" {
				break
			}
			p = s.skipSpace(p)
		} else if string(id) != "import" {
			break
		}
		if p < len(s.src) && (s.src[p] == '<' || s.src[p] == '"') {
			return 0, s.errorf(i, ErrUnsupported, "import of a header unit")
		}
	}
	return e, nil
}

// afterDefined reports whether the identifier at i is the operand of the
// last "defined" (defined X or defined(X)).
func (s *scanner) afterDefined(i int) bool {
	if s.definedEnd < 0 {
		return false
	}
	p := s.skipSpace(s.definedEnd)
	if p == i {
		return true
	}
	if p < len(s.src) && s.src[p] == '(' {
		return s.skipSpace(p+1) == i
	}
	return false
}

// hasInclude handles __has_include or __has_include_next, spelled op, at i
// ending at e.
func (s *scanner) hasInclude(i, e int, op string, next bool) (int, error) {
	src := s.src
	p := s.skipSpace(e)
	if p >= len(src) || src[p] != '(' {
		if s.afterDefined(i) {
			return e, nil
		}
		// #define H __has_include, then #if H(<a.h>): gcc and clang look.
		return 0, s.errorf(i, ErrComputed, "%s not followed by ( nor the operand of defined", op)
	}
	q := s.skipSpace(p + 1)
	if q < len(src) && (src[q] == '"' || src[q] == '<') {
		if end, name, ok := s.headerName(q); ok {
			if r := s.skipSpace(end); r < len(src) && src[r] == ')' {
				return r + 1, s.add(i, name, src[q] == '<', next, true)
			}
		}
	}
	return 0, s.errorf(i, ErrComputed, "%s operand %s", op, s.snippet(q))
}

// pragmaNeedles are the pragmas, with blanks standing for any white space,
// that make the preprocessor read a file.
var pragmaNeedles = []string{"GCC dependency", "GCC pch_preprocess", "include_alias", "clang module"}

// pragmaOperator reports whether the _Pragma ending at e has a string
// literal operand naming a pragma that reads a file.
func (s *scanner) pragmaOperator(e int) bool {
	src := s.src
	p := s.skipSpace(e)
	if p >= len(src) || src[p] != '(' {
		return false
	}
	q := s.skipSpace(p + 1)
	if f, id := s.identAt(q); id != nil {
		switch string(id) {
		case "L", "u", "U", "u8", "R", "LR", "uR", "UR", "u8R":
			q = s.splice(f)
		default:
			return false
		}
	}
	if q >= len(src) || src[q] != '"' {
		return false
	}
	end := s.quoted(q+1, '"')
	for k := q + 1; k < end; k++ {
		for _, needle := range pragmaNeedles {
			if src[k] == needle[0] && s.matchBlanks(k, end, needle) {
				return true
			}
		}
	}
	return false
}

// matchBlanks reports whether the text at i (before end, splices removed)
// starts with needle, where a blank in needle matches one or more blanks.
func (s *scanner) matchBlanks(i, end int, needle string) bool {
	src := s.src
	for k := 0; k < len(needle); k++ {
		i = s.splice(i)
		if i >= end {
			return false
		}
		if needle[k] != ' ' {
			if src[i] != needle[k] {
				return false
			}
			i++
			continue
		}
		if !isHSpace(src[i]) {
			return false
		}
		for i < end && isHSpace(src[i]) {
			i = s.splice(i + 1)
		}
	}
	return true
}

// rawString returns the position after the raw string literal whose opening
// quote is at q; when the delimiter is invalid or the literal unterminated
// it is read as an ordinary string instead.
func (s *scanner) rawString(q int) int {
	src := s.src
	d := q + 1
	k := d
	for ; k < len(src) && src[k] != '('; k++ {
		c := src[k]
		if k-d >= 16 || c <= ' ' || c >= 0x7f || c == ')' || c == '\\' || c == '$' || c == '@' || c == '`' {
			return s.quoted(q+1, '"')
		}
	}
	if k >= len(src) {
		return s.quoted(q+1, '"')
	}
	delim := src[d:k]
	for p := k + 1; ; {
		r := bytes.IndexByte(src[p:], ')')
		if r < 0 {
			return s.quoted(q+1, '"')
		}
		r += p
		if e := r + 1 + len(delim); e < len(src) && src[e] == '"' && bytes.Equal(src[r+1:e], delim) {
			return e + 1
		}
		p = r + 1
	}
}

// directive handles the directive whose # (or %:) is at start and whose
// name may follow at p; it returns where to go on lexing code.
func (s *scanner) directive(start, p int) (int, error) {
	q := s.skipSpace(p)
	if q < len(s.src) && s.src[q] >= '0' && s.src[q] <= '9' {
		s.lineMarker = true // # 33 "name" flags
	}
	e, id := s.identAt(q)
	if id == nil {
		return q, nil
	}
	switch string(id) {
	case "include":
		return s.includeOperand(start, e, "include", false)
	case "import":
		return s.includeOperand(start, e, "import", false)
	case "__include_macros": // clang's spelling of -imacros
		return s.includeOperand(start, e, "__include_macros", false)
	case "include_next":
		return s.includeOperand(start, e, "include_next", true)
	case "pragma":
		return s.pragma(start, e)
	case "embed":
		return 0, s.errorf(start, ErrUnsupported, "#embed")
	case "define", "undef", "ifdef", "ifndef", "elifdef", "elifndef":
		if s.full && string(id) == "define" {
			s.definition(start, e)
		}
		return s.macroName(e, string(id) == "define"), nil
	case "error", "warning":
		// clang takes the rest of the line verbatim (a /* there starts no
		// comment); gcc lexes it. Taking it verbatim reads more as code.
		return s.lineEnd(e), nil
	}
	return q, nil // the main loop looks at the name too (#__has_include(...))
}

// includeOperand reads the operand of #include (spelled directive) ending
// at e.
func (s *scanner) includeOperand(start, e int, directive string, next bool) (int, error) {
	src := s.src
	p := s.skipSpace(e)
	if p < len(src) && (src[p] == '"' || src[p] == '<') {
		if end, name, ok := s.headerName(p); ok {
			return end, s.add(start, name, src[p] == '<', next, false)
		}
	}
	if s.full {
		if f, id := s.identAt(p); id != nil {
			if q := s.skipSpace(f); q >= len(src) || class[src[q]] == cNewline {
				s.out = append(s.out, Directive{Name: string(id), Next: next, Line: s.line(start), Macro: true})
				return q, nil
			}
		}
	}
	return 0, s.errorf(start, ErrComputed, "#%s followed by %s", directive, s.snippet(p))
}

// pragma refuses the pragmas, after #pragma ending at e, that read files,
// notes #pragma GCC system_header, and returns where to go on lexing.
func (s *scanner) pragma(start, e int) (int, error) {
	f, id := s.identAt(s.skipSpace(e))
	var first string
	switch string(id) {
	case "GCC":
		first = "GCC"
	case "clang":
		first = "clang"
	case "include_alias":
		return 0, s.errorf(start, ErrUnsupported, "#pragma include_alias")
	default:
		return e, nil
	}
	f2, id2 := s.identAt(s.skipSpace(f))
	if first == "GCC" && (string(id2) == "dependency" || string(id2) == "pch_preprocess") ||
		first == "clang" && string(id2) == "module" {
		return 0, s.errorf(start, ErrUnsupported, "#pragma %s %s", first, id2)
	}
	if first == "GCC" && string(id2) == sysHeaderWord {
		s.sysHeader = append(s.sysHeader, s.line(start))
		return f2, nil // the word is the directive's, not spelled elsewhere
	}
	return e, nil
}

// sysHeaderWord is the pragma's word (#pragma GCC system_header).
const sysHeaderWord = "system_header"

// mentions reports whether the text from a to b, its line splices taken
// out, holds word.
func (s *scanner) mentions(a, b int, word string) bool {
	text := s.src[a:min(b, len(s.src))]
	if bytes.Contains(text, []byte(word)) {
		return true
	}
	if bytes.IndexByte(text, '\\') < 0 || bytes.IndexByte(text, word[0]) < 0 {
		return false
	}
	var buf []byte
	for k := a; k < b && k < len(s.src); {
		if j := s.splice(k); j != k {
			k = j
			continue
		}
		buf = append(buf, s.src[k])
		k++
	}
	return bytes.Contains(buf, []byte(word))
}

// macroName skips, after #define, #undef, #ifdef and the like ending at e,
// a macro name that is one of the operators (#ifdef __has_include,
// #define __has_include(x) 0), with the parameters of a #define; other
// names are left to the main loop.
func (s *scanner) macroName(e int, define bool) int {
	src := s.src
	q := s.skipSpace(e)
	f, id := s.identAt(q)
	if !isOperator(id) {
		return q
	}
	if !define {
		return f
	}
	j, c := s.at(f)
	if j >= len(src) || c != '(' {
		return f
	}
	for f = j + 1; ; {
		f = s.skipSpace(f)
		if f >= len(src) || class[src[f]] == cNewline {
			return f
		}
		if src[f] == ')' {
			return f + 1
		}
		f++
	}
}

// definition records the #define whose directive name ends at e.
func (s *scanner) definition(start, e int) {
	src := s.src
	f, id := s.identAt(s.skipSpace(e))
	if id == nil {
		return
	}
	d := Definition{Macro: string(id), Line: s.line(start)}
	if j, c := s.at(f); j >= len(src) || c != '(' { // object-like
		p := s.skipSpace(f)
		if p < len(src) && (src[p] == '"' || src[p] == '<') {
			if end, name, ok := s.headerName(p); ok && name != "" {
				if q := s.skipSpace(end); q >= len(src) || class[src[q]] == cNewline {
					d.Literal, d.Value = true, Directive{Name: name, Angle: src[p] == '<'}
				}
			}
		}
	}
	s.defs = append(s.defs, d)
}
