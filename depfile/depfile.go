// Package depfile reads and writes make-style dependency files (.d), the
// files gcc and clang write with -MD: a rule whose targets are the object
// (or the -MT / -MQ names) and whose prerequisites are the source and every
// header the compile read.
//
// FormatGCC writes what gcc 12's libcpp (mkdeps.cc: make_write,
// make_write_vec, make_write_name, munge) writes, byte for byte, so that a
// dependency file made from a list received from elsewhere cannot be told
// from the one the local gcc would have written.
package depfile

import "strings"

// maxColumns is the column limit gcc passes to deps_write: a name that would
// end past it starts a new line (when it is not the first name of a line).
const maxColumns = 72

// Parse returns the prerequisites of the first rule of a make-style
// dependency file as gcc and clang write it: blanks separate names, a
// backslash before a newline continues the line, "\ " and "\#" stand for a
// blank and a hash, and "$$" for a dollar. The targets end at the first
// colon followed by a blank or the end of the line. ok is false when the
// first line has no such colon (or data is empty).
//
// Names that gcc writes with a backslash just before a blank (gcc doubles
// such backslashes, as GNU make expects) come back with their backslashes
// doubled: Parse, like the decoder it replaces, does not undo that.
func Parse(data []byte) ([]string, bool) {
	var names []string
	var cur []byte
	inTargets := true
	have := false
	flush := func() {
		if have {
			names = append(names, string(cur))
		}
		cur, have = cur[:0], false
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\\' && i+1 < len(data) && data[i+1] == '\n':
			flush()
			i++
		case c == '\\' && i+2 < len(data) && data[i+1] == '\r' && data[i+2] == '\n':
			flush()
			i += 2
		case c == '\\' && i+1 < len(data) && (data[i+1] == ' ' || data[i+1] == '#'):
			cur, have = append(cur, data[i+1]), true
			i++
		case c == '$' && i+1 < len(data) && data[i+1] == '$':
			cur, have = append(cur, '$'), true
			i++
		case c == ':' && inTargets && (i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\t' ||
			data[i+1] == '\n' || data[i+1] == '\r'):
			flush()
			names, inTargets = names[:0], false
		case c == '\n':
			flush()
			if !inTargets {
				return names, true
			}
			return nil, false // a rule without a colon
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		default:
			cur, have = append(cur, c), true
		}
	}
	flush()
	if inTargets {
		return nil, false
	}
	return names, true
}

// Quote returns name quoted as gcc's dependency output quotes file names
// (libcpp's munge): "$" becomes "$$", "#" gets a backslash before it, and a
// blank (space or tab) gets one, after the backslashes just before it are
// doubled. Nothing else is quoted; make cannot express a newline, and gcc
// does not try. Exported so that callers can check round trips.
func Quote(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 8)
	slashes := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case '\\':
			slashes++
			b.WriteByte(c)
			continue
		case '$':
			b.WriteByte('$')
		case ' ', '\t':
			for ; slashes > 0; slashes-- {
				b.WriteByte('\\')
			}
			b.WriteByte('\\')
		case '#':
			b.WriteByte('\\')
		}
		slashes = 0
		b.WriteByte(c)
	}
	return b.String()
}

// FormatGCC renders a dependency file exactly as gcc's -MD writes it: target
// is the rule's target text as it is to appear (already quoted the way -MT /
// -MQ would give it), deps are the prerequisites in gcc's order (unquoted
// file names), phony adds the -MP rules.
//
// gcc wraps the targets as it wraps the prerequisites, one name at a time.
// FormatGCC takes the names of target from its unescaped blanks (a blank
// after an odd number of backslashes belongs to the name, as "\ " from -MQ
// does); line continuations in target are blanks too, so the text before
// the colon of a file gcc wrote can be passed as it is. An -MT name that
// itself holds an unescaped blank is one name to gcc, which the text cannot
// show, and so is a name that ends in a backslash: use FormatGCCTargets for
// those. (The difference shows only where gcc would wrap inside the text.)
//
// gcc writes nothing when there are no prerequisites; so does FormatGCC.
func FormatGCC(target string, deps []string, phony bool) []byte {
	return FormatGCCTargets(splitTargets(target), deps, phony)
}

// FormatGCCTargets is FormatGCC with the targets given one by one, each as
// it is to appear (-MT names as given, -MQ names and the default target
// quoted with Quote), in the order gcc writes them. (That order is not
// always the command line's: gcc puts each -MT name in the place of the
// first quoted one and moves that one to the end, so "-MQ a -MQ b -MT c"
// gives "c b a".) gcc decides where to wrap name by name, so this is exact
// even for an -MT name holding a blank.
func FormatGCCTargets(targets []string, deps []string, phony bool) []byte {
	if len(deps) == 0 {
		return nil
	}
	var b strings.Builder
	col := 0
	for _, t := range targets {
		col = writeName(&b, t, col)
	}
	b.WriteByte(':')
	col++
	quoted := make([]string, len(deps))
	for i, d := range deps {
		quoted[i] = Quote(d)
		col = writeName(&b, quoted[i], col)
	}
	b.WriteByte('\n')
	if phony {
		for _, q := range quoted[1:] {
			b.WriteString(q)
			b.WriteString(":\n")
		}
	}
	return []byte(b.String())
}

// writeName is make_write_name: it writes name (already quoted), after a
// blank unless it starts the output, first breaking the line when the name
// would end past maxColumns, and returns the new column.
func writeName(b *strings.Builder, name string, col int) int {
	if col > 0 {
		if col+len(name) > maxColumns {
			b.WriteString(" \\\n")
			col = 0
		}
		col++
		b.WriteByte(' ')
	}
	b.WriteString(name)
	return col + len(name)
}

// splitTargets splits the text before a rule's colon into its names: blanks
// separate them unless an odd number of backslashes comes just before, and a
// backslash before a line end is a blank.
func splitTargets(text string) []string {
	var names []string
	start, slashes := -1, 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		sep := false
		switch {
		case c == '\n':
			sep = true
		case c == '\\' && (strings.HasPrefix(text[i+1:], "\n") || strings.HasPrefix(text[i+1:], "\r\n")):
			sep = true
		case c == '\r' && strings.HasPrefix(text[i+1:], "\n"):
			sep = true
		case c == ' ' || c == '\t':
			sep = slashes%2 == 0
		}
		if sep {
			if start >= 0 {
				names = append(names, text[start:i])
			}
			start, slashes = -1, 0
			continue
		}
		if start < 0 {
			start = i
		}
		if c == '\\' {
			slashes++
		} else {
			slashes = 0
		}
	}
	if start >= 0 {
		names = append(names, text[start:])
	}
	return names
}
