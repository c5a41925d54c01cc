package depfile

import (
	"errors"
	"fmt"
	"math"
	"path"
)

// gcc's -MMD writes the dependency file of -MD without the headers it takes
// for system headers. libcpp (files.cc, _cpp_stack_file) lists a file when
// it is read for the first time ("first inclusion") and the state it is read
// in is not a system one; that state is the greater of
//
//   - the including file's state at the #include (a file's state is the one
//     it was read in, and becomes "system" after #pragma GCC system_header
//     in it, or as a GNU line marker says), and
//   - the state of the directory the file was found in: system for
//     -isystem and the compiler's own directories (and an -I or -iquote
//     directory that is one of those: gcc drops the duplicate), not for -I
//     and -iquote; for the including file's own directory (a quoted
//     #include looks there first), the state of the first file that
//     searched from that directory, since libcpp makes that directory entry
//     once and keeps it.
//
// UserDeps reproduces that from the -MD list of a compile made elsewhere
// (the order of first inclusions) and every way each file could have been
// included. It does not know which #include actually read a file, so it
// over-approximates: every file of the list before it that may include it
// counts as its includer, with every state that file may have been read in.
// When those give one answer, it is gcc's; when they give both, UserDeps
// says it cannot tell, and so it does when a file holds what could change
// the state where the scan cannot see it (a line marker, or system_header
// spelled outside #pragma GCC system_header, as a _Pragma operand is).

// DirKind is the kind of directory an Inclusion found its file in.
type DirKind uint8

const (
	// DirUser is an -I or -iquote directory that is not a system one.
	DirUser DirKind = iota
	// DirSystem is an -isystem directory or one of the compiler's own (or
	// an -I or -iquote directory that is also one of those).
	DirSystem
	// DirIncluder is the including file's own directory, where a quoted
	// #include looks first.
	DirIncluder
)

// Inclusion says that an #include, #include_next or #import in From (or the
// compiler's own -include of its predefinitions, at line 0 of the source)
// may have read To, found in a directory of kind Dir. From and To are clean
// absolute names.
type Inclusion struct {
	From, To string
	Line     int
	Dir      DirKind
}

// HeaderFacts are what UserDeps needs to know of a file's text.
type HeaderFacts struct {
	// SystemHeader lists the lines of #pragma GCC system_header.
	SystemHeader []int
	// QuoteSearch: the file has a quoted #include, #include_next or
	// __has_include (or one through a macro), which makes the entry of its
	// own directory.
	QuoteSearch bool
	// Unknown says, when not empty, why the file's state cannot be followed
	// (a line marker, system_header spelled elsewhere).
	Unknown string
}

// ErrUnsure is wrapped by the errors of UserDeps: gcc's choice cannot be
// told for sure.
var ErrUnsure = errors.New("cannot tell which headers gcc takes for system headers")

// States as bit sets: the states a file may be read in (gcc's choice here,
// and clang's in the compile package).
const (
	// StateUser: read as a user header (listed by -MMD).
	StateUser uint8 = 1
	// StateSystem: read as a system header (left out by -MMD).
	StateSystem uint8 = 2
)

// never is the time of a state a file is never read in.
const never = math.MaxInt

// times holds, for each state (user, system), the earliest time a file
// may be read in that state, as a position in the -MD list: a file read
// first at position i is read at i, and its later readings after i.
type times [2]int

// UserDeps returns the entries of list that gcc's -MMD keeps. list is the
// -MD list in gcc's order (the source first), as gcc names the files; abs
// gives the clean absolute name of an entry; inclusions are every way a
// file of the compile may have been included, and facts describe each file
// by clean absolute name. The error wraps ErrUnsure when gcc's choice for
// some file cannot be told.
//
// Time narrows the includers: a file first read at position i was read by
// a file already being read, from a reading of it that began before i.
// The source is read once, from top to bottom: when a file x of the list can
// have been read only by the source's line l, that line ran at x's position,
// and the source's lines after l ran after it.
func UserDeps(list []string, abs func(string) string, inclusions []Inclusion, facts map[string]HeaderFacts) ([]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	first := make(map[string]int, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		first[abs(list[i])] = i
	}
	for name := range first {
		f, ok := facts[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s: nothing known of it: %w", name, ErrUnsure)
		case f.Unknown != "":
			return nil, fmt.Errorf("%s: %s: %w", name, f.Unknown, ErrUnsure)
		}
	}
	main := abs(list[0])
	var read []Inclusion
	byTo := map[string][]Inclusion{}
	for _, in := range inclusions {
		_, from := first[in.From]
		_, to := first[in.To]
		if from && to {
			read = append(read, in)
			byTo[in.To] = append(byTo[in.To], in)
		}
	}
	after := sourceLineTimes(main, byTo, first)
	states := map[string]*times{main: {0, never}}
	get := func(name string) *times {
		t, ok := states[name]
		if !ok {
			t = &times{never, never}
			states[name] = t
		}
		return t
	}
	dirs := map[string]uint8{} // the state of each own-directory entry
	// at is the times of the states name may be in at a line: its own, and
	// system after a #pragma GCC system_header before the line.
	at := func(name string, line int) times {
		t := *get(name)
		for _, l := range facts[name].SystemHeader {
			if l < line {
				t[1] = min(t[1], t[0])
			}
		}
		return t
	}
	// value is the states a file included by in is read in when its
	// includer is in state s (0 user, 1 system).
	value := func(in Inclusion, s int) uint8 {
		from := StateUser << s
		switch in.Dir {
		case DirSystem:
			return StateSystem
		case DirIncluder:
			return MaxStates(from, dirs[path.Dir(in.From)])
		}
		return from
	}
	for changed := true; changed; {
		changed = false
		for name := range first {
			if f := facts[name]; f.QuoteSearch {
				d := path.Dir(name)
				s := dirs[d]
				for k, t := range at(name, math.MaxInt) {
					if t != never {
						s |= StateUser << k
					}
				}
				if s != dirs[d] {
					dirs[d], changed = s, true
				}
			}
		}
		for _, in := range read {
			from := at(in.From, in.Line)
			to := get(in.To)
			for s, t := range from {
				if t == never {
					continue
				}
				when := max(t, after[in], first[in.To])
				v := value(in, s)
				for k := range to {
					if v&(StateUser<<k) != 0 && when < to[k] {
						to[k], changed = when, true
					}
				}
			}
		}
	}
	out := []string{list[0]}
	for i := 1; i < len(list); i++ {
		name := abs(list[i])
		var s uint8
		for _, in := range byTo[name] {
			if after[in] >= i {
				continue
			}
			for k, t := range at(in.From, in.Line) {
				if t < i {
					s |= value(in, k)
				}
			}
		}
		switch s {
		case StateUser:
			out = append(out, list[i])
		case StateSystem:
		case 0:
			return nil, fmt.Errorf("%s: no file read before it includes it: %w", list[i], ErrUnsure)
		default:
			return nil, fmt.Errorf("%s: it may have been read first from a system header or not: %w", list[i], ErrUnsure)
		}
	}
	return out, nil
}

// sourceLineTimes returns, for each inclusion from the source, the list
// position after which its line ran: the greatest position of a file that
// only an earlier line of the source can have read. Inclusions from other
// files (and all of them when the source may include itself) get 0.
func sourceLineTimes(main string, byTo map[string][]Inclusion, first map[string]int) map[Inclusion]int {
	after := map[Inclusion]int{}
	if len(byTo[main]) > 0 {
		return after
	}
	type anchor struct{ line, pos int }
	var anchors []anchor
	for to, ins := range byTo {
		only := true
		for _, in := range ins {
			only = only && in.From == main && in.Line == ins[0].Line
		}
		if only {
			anchors = append(anchors, anchor{ins[0].Line, first[to]})
		}
	}
	for _, ins := range byTo {
		for _, in := range ins {
			if in.From != main {
				continue
			}
			for _, a := range anchors {
				if a.line < in.Line {
					after[in] = max(after[in], a.pos)
				}
			}
		}
	}
	return after
}

// MaxStates returns the states max(a, b) may take for a state in a and one
// in b.
func MaxStates(a, b uint8) uint8 {
	if a == 0 || b == 0 {
		return 0
	}
	var s uint8
	if a&StateUser != 0 && b&StateUser != 0 {
		s |= StateUser
	}
	if a&StateSystem != 0 || b&StateSystem != 0 {
		s |= StateSystem
	}
	return s
}
