package compile

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// unitNames are the names that vary between the compiles of one shape.
type unitNames struct {
	// source and object as the command gives them; sourceStem and
	// objectStem are their base names without extension.
	source, object, sourceStem, objectStem string
}

// namesOf returns the names of a compile, and ok false when they hold
// anything but letters, digits and ._+-/ (names that the driver would quote
// in COLLECT_GCC_OPTIONS), or when a stem is empty or only dots.
func namesOf(source, object string) (unitNames, bool) {
	n := unitNames{source: source, object: object,
		sourceStem: strings.TrimSuffix(filepath.Base(source), filepath.Ext(source)),
		objectStem: strings.TrimSuffix(filepath.Base(object), filepath.Ext(object))}
	for _, s := range []string{source, object} {
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._+-/", c)) {
				return n, false
			}
		}
	}
	properStem := func(stem string) bool { return strings.Trim(stem, ".") != "" }
	return n, properStem(n.sourceStem) && properStem(n.objectStem)
}

// Placeholders for the names in a template.
const (
	sourcePlaceholder     = "\x00\x01"
	objectPlaceholder     = "\x00\x02"
	sourceStemPlaceholder = "\x00\x03"
	objectStemPlaceholder = "\x00\x04"
)

// abstract replaces n's names in s with placeholders, longest first (the
// stems share one placeholder when they are equal). A name is replaced only
// where it stands on its own, not inside a longer word ("a" in -march): the
// driver writes names between slashes, dots, quotes and blanks.
func (n unitNames) abstract(s string) string {
	names := [][2]string{{n.object, objectPlaceholder}, {n.source, sourcePlaceholder}}
	if n.sourceStem == n.objectStem {
		names = append(names, [2]string{n.objectStem, objectStemPlaceholder})
	} else {
		names = append(names, [2]string{n.objectStem, objectStemPlaceholder}, [2]string{n.sourceStem, sourceStemPlaceholder})
	}
	slices.SortStableFunc(names, func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
	for _, nm := range names {
		s = replaceWord(s, nm[0], nm[1])
	}
	return s
}

// replaceWord replaces each occurrence of word in s that has no letter,
// digit, '_' or '-' right before or after it in s.
func replaceWord(s, word, with string) string {
	if word == "" {
		return s
	}
	var b strings.Builder
	written := 0 // s[:written] is in b
	for from := 0; ; {
		i := strings.Index(s[from:], word)
		if i < 0 {
			break
		}
		i += from
		end := i + len(word)
		if (i > 0 && isWordByte(s[i-1])) || (end < len(s) && isWordByte(s[end])) {
			from = i + 1
			continue
		}
		b.WriteString(s[written:i])
		b.WriteString(with)
		written, from = end, end
	}
	b.WriteString(s[written:])
	return b.String()
}

// isWordByte: a byte that continues a name.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// concrete puts n's names in place of the placeholders.
func (n unitNames) concrete(s string) string {
	if !strings.Contains(s, "\x00") {
		return s
	}
	return strings.NewReplacer(sourcePlaceholder, n.source, objectPlaceholder, n.object,
		sourceStemPlaceholder, n.sourceStem, objectStemPlaceholder, n.objectStem).Replace(s)
}

// driverShape is what the daemon knows of one command shape.
type driverShape struct {
	// template is the first plan with its names abstracted; sample its names.
	template driverPlan
	sample   unitNames
	// validated: a second plan with other names was predicted exactly.
	validated bool
	// mispredicted counts the plans the template did not predict: each
	// replaces the template (a short name such as "a" also turns up inside
	// other options, which spoils a template made from it), up to
	// maxMispredicted.
	mispredicted int
	// useDriver: the shape goes through the driver.
	useDriver bool
}

// driverShapes holds the shapes by key; their fields are guarded by mu.
type driverShapes struct {
	mu sync.Mutex
	m  map[string]*driverShape
	// asked counts the plans asked of the driver.
	asked int
}

// maxDriverShapes bounds the memo; past it, it starts over.
const maxDriverShapes = 4096

// maxMispredicted is how many plans a shape's template may fail to predict
// before the shape goes through the driver for good.
const maxMispredicted = 3

// plan returns the plan of the compile named n of shape key, from the
// template once it is validated, else from ask (the driver's own plan,
// which also teaches the shape).
func (d *driverShapes) plan(key string, n unitNames, ask func() (driverPlan, bool)) (driverPlan, bool) {
	d.mu.Lock()
	s := d.m[key]
	if s != nil && (s.useDriver || s.validated) {
		defer d.mu.Unlock()
		if s.useDriver {
			return driverPlan{}, false
		}
		return s.template.mapStrings(n.concrete), true
	}
	d.mu.Unlock()

	asked, ok := ask()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked++
	if s = d.m[key]; s == nil {
		if d.m == nil || len(d.m) >= maxDriverShapes {
			d.m = map[string]*driverShape{}
		}
		s = &driverShape{}
		if ok {
			s.template, s.sample = asked.mapStrings(n.abstract), n
		} else {
			s.useDriver = true
		}
		d.m[key] = s
		return asked, ok
	}
	switch {
	case s.useDriver || s.validated:
	case !ok:
		s.useDriver = true
	case n.sourceStem != s.sample.sourceStem && n.objectStem != s.sample.objectStem:
		// Other names: the template must predict this plan exactly.
		switch {
		case s.template.mapStrings(n.concrete).equal(asked):
			s.validated = true
		case s.mispredicted+1 >= maxMispredicted:
			s.useDriver = true
		default:
			s.mispredicted++
			s.template, s.sample = asked.mapStrings(n.abstract), n
		}
	}
	return asked, ok
}
