package compile

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/toolchain"
)

// Team cache keys. Every checkout of a project lives somewhere else, and
// build systems pass absolute paths, so the preprocessed text of one unit
// differs between checkouts in its line markers alone. Where the object
// does not record those paths, the team key names the files of the markers
// relative to the working directory instead (for files under the base
// directory), and checkouts at different places share the entry. The
// object then must not hold the paths it would have recorded: no debug
// information of the working directory, no __builtin_FILE or
// source_location (which take the marker's name), nothing recorded of the
// command beyond its arguments; and when the entry is written, its outputs
// are checked for the checkout's directory (teamGuard), so that an object
// that records it anyway is shared only with compiles at the same place.

// teamKey is a compile's key in the team cache: key, under which its
// entry may be served to checkouts at other places, and guard, the
// directory its outputs must not name for that ("" when the key holds the
// paths as they are: the preprocessor-mode key itself).
type teamKey struct {
	key   cache.Key
	guard string
}

// pathRecorders are what makes a compiler write a line marker's file name
// into the object: the builtins behind std::source_location and
// __builtin_FILE.
var pathRecorders = [][]byte{[]byte("__builtin_FILE"), []byte("__builtin_source_location")}

// prefixMapOptions take OLD=NEW: the object records NEW for paths under OLD.
var prefixMapOptions = []string{"-ffile-prefix-map=", "-fdebug-prefix-map=", "-fmacro-prefix-map=", "-fprofile-prefix-map="}

// teamKeyOf returns the team key of this compile, whose preprocessor-mode
// key is cppKey and preprocessed text text.
func (j *job) teamKeyOf(cppKey cache.Key, text []byte, included []cache.FileDigest) teamKey {
	raw := teamKey{key: cppKey}
	for _, r := range pathRecorders {
		if bytes.Contains(text, r) {
			return raw
		}
	}
	rel, ok := j.teamRelativizer()
	if !ok {
		return raw
	}
	args, ok := rel.args(j.a.CodegenArgs)
	if !ok {
		return raw
	}
	norm, ok := rel.markers(text)
	if !ok {
		return raw
	}
	k := newKey("team").str(j.id.Key()).str(string(j.a.Family)).str(j.a.Language).str(string(j.a.Action))
	k.strs(args).strs(envValues(j.req.Env, keyEnv)).bytes(norm)
	if j.a.Action != toolchain.ActionRemote {
		// As cppKey: the source's name and the included files count too.
		k.str(rel.path(resolve(rel.cwd, j.a.Source)))
		for _, f := range included {
			k.str(rel.path(resolve(rel.cwd, f.Path))).digest(f.Digest)
		}
	}
	if rel.common == "/" {
		return raw
	}
	j.teamText = norm
	return teamKey{key: k.sum(), guard: rel.common}
}

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// relativizer rewrites absolute paths under base as paths relative to cwd,
// and keeps in common the deepest directory holding cwd and every path it
// rewrote.
type relativizer struct {
	cwd, base, common string
	// strict leaves a path that is not clean ("dir/../x.h") as it is: a
	// dependency file names paths as they are spelled, so direct mode
	// must not take one spelling for another.
	strict bool
}

// path returns p relative to cwd when it is an absolute path under base
// (trailing slashes kept, as gcc's marker of the working directory has
// them), or p unchanged.
func (r *relativizer) path(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	trimmed := strings.TrimRight(p, "/")
	clean := filepath.Clean(p)
	if !under(clean, r.base) || (r.strict && clean != trimmed) {
		return p
	}
	rel, err := filepath.Rel(r.cwd, clean)
	if err != nil {
		return p
	}
	for !under(clean, r.common) {
		r.common = filepath.Dir(r.common)
	}
	return rel + p[len(trimmed):]
}

// args rewrites the directories of prefix maps under base; ok is false
// when another argument names a path under base (it would differ between
// checkouts in a way the key cannot see through).
func (r *relativizer) args(args []string) ([]string, bool) {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		for _, opt := range prefixMapOptions {
			if m, found := strings.CutPrefix(a, opt); found {
				old, repl, _ := strings.Cut(m, "=")
				out[i] = opt + r.path(old) + "=" + repl
				a = opt + "=" + repl
				break
			}
		}
		if strings.Contains(a, r.base+"/") || strings.HasSuffix(a, r.base) {
			return nil, false
		}
	}
	return out, true
}

// markers returns text with the file name of every line marker rewritten
// by path. ok is false for a marker name with escapes (a name that needs
// them is not rewritten safely).
func (r *relativizer) markers(text []byte) ([]byte, bool) {
	out := make([]byte, 0, len(text))
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i+1], text[i+1:]
		} else {
			text = nil
		}
		if len(line) < 4 || line[0] != '#' {
			out = append(out, line...)
			continue
		}
		start := bytes.IndexByte(line, '"')
		if start < 0 {
			out = append(out, line...)
			continue
		}
		if _, _, ok := parseMarker(bytes.TrimRight(line, "\n")); !ok {
			out = append(out, line...)
			continue
		}
		end := closingQuote(line[start:])
		if end < 0 {
			return nil, false
		}
		name := string(line[start+1 : start+end])
		if strings.ContainsRune(name, '\\') {
			return nil, false
		}
		out = append(out, line[:start+1]...)
		out = append(out, r.path(name)...)
		out = append(out, line[start+end:]...)
	}
	return out, true
}

// teamShareable reports whether the outputs of an entry to be written under
// a path-free team key name none of the directory guard: otherwise the
// compile recorded where this checkout is, and the entry must only serve
// compiles at the same place.
func teamShareable(e cache.Entry, guard string) bool {
	if guard == "" {
		return true
	}
	g := []byte(guard)
	for _, b := range e.Files {
		if bytes.Contains(b, g) {
			return false
		}
	}
	return !bytes.Contains(e.Stdout, g) && !bytes.Contains(e.Stderr, g)
}
