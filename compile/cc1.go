package compile

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dcc-build/dcc/toolchain"
)

// Running cc1 directly. gcc's driver only starts cc1 for -E, and that costs
// a process (about 1.2 ms of a 12 ms preprocessing run). For each compiler
// and shape of preprocessing command (the command with its source left out,
// the working directory and the environment that steers the driver), the
// daemon asks the driver once, with -###, which cc1 command it would run,
// checks once that this command prints exactly what the driver prints, and
// from then on runs cc1 itself with the source put in.

// cc1Template is the cc1 command of one command shape.
type cc1Template struct {
	// argv is the command as the driver would run it for the first source.
	argv []string
	// srcIdx, baseIdx and extIdx are where the source, its base name
	// (-dumpbase) and its extension (-dumpbase-ext, -1 if absent) are.
	srcIdx, baseIdx, extIdx int
	// ok is false when the shape must go through the driver.
	ok bool
}

// cc1Memo holds the templates by command shape.
type cc1Memo struct {
	mu sync.Mutex
	m  map[string]*cc1Template
}

// maxCC1Templates bounds the memo; past it, it starts over.
const maxCC1Templates = 4096

// get returns the template of key, or nil.
func (c *cc1Memo) get(key string) *cc1Template {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

// put remembers the template of key.
func (c *cc1Memo) put(key string, t *cc1Template) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCC1Templates {
		c.m = map[string]*cc1Template{}
	}
	c.m[key] = t
}

// cc1Key is the command shape of this compile's preprocessing.
func (j *job) cc1Key(argv []string) string {
	var b strings.Builder
	b.WriteString(j.id.Key())
	for _, part := range append([]string{j.req.Dir, filepath.Ext(j.a.Source)}, envValues(j.req.Env, keyEnv)...) {
		b.WriteString("\x00")
		b.WriteString(part)
	}
	for _, a := range argv {
		if a == j.a.Source {
			a = "\x01source"
		}
		b.WriteString("\x00")
		b.WriteString(a)
	}
	return b.String()
}

// preprocessDirect runs the preprocessing command through cc1 directly when
// that is known to print what the driver prints. ok is false when the
// caller must run the driver (not gcc, dependency output asked for, or a
// shape that did not qualify); the first compile of each shape runs both
// and compares, and its output is the driver's.
func (j *job) preprocessDirect(ctx context.Context, argv []string) (out output, ok bool, err error) {
	if j.a.Family != toolchain.FamilyGCC || len(j.a.DependencyArgs) > 0 {
		// A dependency file's name can come from the source's: it stays
		// with the driver.
		return output{}, false, nil
	}
	key := j.cc1Key(argv)
	t := j.s.cc1.get(key)
	if t == nil {
		t, out, ok := j.learnCC1(ctx, argv)
		j.s.cc1.put(key, t)
		return out, ok, nil // the driver's own output, when it ran
	}
	if !t.ok {
		return output{}, false, nil
	}
	out, err = runProcess(ctx, j.req.Dir, j.req.Env, t.forSource(j.a.Source))
	if err != nil || out.exit != 0 {
		return output{}, false, nil // let the driver say what is wrong
	}
	return out, true, nil
}

// learnCC1 asks the driver for its cc1 command, and checks it against the
// driver on this source. It returns the driver's output too when it ran the
// driver successfully (ok), which is this compile's preprocessing.
func (j *job) learnCC1(ctx context.Context, argv []string) (t *cc1Template, viaDriver output, ok bool) {
	no := &cc1Template{}
	shown, err := runProcess(ctx, j.req.Dir, j.req.Env, append(slices.Clone(argv), "-###"))
	if err != nil || shown.exit != 0 {
		return no, output{}, false
	}
	t, parsed := parseCC1Template(shown.stderr, j.a.Source)
	if !parsed {
		return no, output{}, false
	}
	viaDriver, err = runProcess(ctx, j.req.Dir, j.req.Env, argv)
	if err != nil || viaDriver.exit != 0 {
		return no, output{}, false
	}
	direct, err := runProcess(ctx, j.req.Dir, j.req.Env, t.argv)
	if err != nil || direct.exit != 0 || !bytes.Equal(direct.stdout, viaDriver.stdout) ||
		!bytes.Equal(direct.stderr, viaDriver.stderr) {
		return no, viaDriver, true
	}
	t.ok = true
	return t, viaDriver, true
}

// forSource returns the cc1 command for another source of the same shape.
func (t *cc1Template) forSource(source string) []string {
	argv := slices.Clone(t.argv)
	argv[t.srcIdx] = source
	argv[t.baseIdx] = filepath.Base(source)
	if t.extIdx >= 0 {
		argv[t.extIdx] = filepath.Ext(source)
	}
	return argv
}

// parseCC1Template finds the one cc1 command in the driver's -### output
// and where source, its base name and its extension sit in it. ok is false
// unless there is exactly one command, it runs cc1 (or cc1plus, cc1obj,
// cc1objplus) with -E, and the source's name appears nowhere else.
func parseCC1Template(shown []byte, source string) (*cc1Template, bool) {
	var cmd []string
	for _, line := range strings.Split(string(shown), "\n") {
		if !strings.HasPrefix(line, " ") {
			continue
		}
		if cmd != nil {
			return nil, false // more than one command
		}
		args, ok := splitDriverLine(strings.TrimLeft(line, " "))
		if !ok || len(args) == 0 {
			return nil, false
		}
		cmd = args
	}
	if len(cmd) < 2 || !filepath.IsAbs(cmd[0]) || !strings.HasPrefix(filepath.Base(cmd[0]), "cc1") ||
		!slices.Contains(cmd, "-E") {
		return nil, false
	}
	t := &cc1Template{argv: cmd, srcIdx: -1, baseIdx: -1, extIdx: -1}
	base, ext := filepath.Base(source), filepath.Ext(source)
	for i := 1; i < len(cmd); i++ {
		switch {
		case cmd[i] == "-dumpbase" && i+1 < len(cmd) && cmd[i+1] == base && t.baseIdx < 0:
			t.baseIdx = i + 1
			i++
		case cmd[i] == "-dumpbase-ext" && i+1 < len(cmd) && cmd[i+1] == ext && t.extIdx < 0:
			t.extIdx = i + 1
			i++
		case cmd[i] == source && t.srcIdx < 0:
			t.srcIdx = i
		case strings.Contains(cmd[i], base):
			return nil, false // the name is used some other way
		}
	}
	return t, t.srcIdx > 0 && t.baseIdx > 0
}

// splitDriverLine splits one command line of gcc's -### output: words
// separated by blanks, a word in double quotes when it holds anything
// special, with \" and \\ inside quotes.
func splitDriverLine(line string) ([]string, bool) {
	var args []string
	for i := 0; i < len(line); {
		switch {
		case line[i] == ' ':
			i++
		case line[i] == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(line) && !closed {
				switch {
				case line[i] == '\\' && i+1 < len(line):
					b.WriteByte(line[i+1])
					i += 2
				case line[i] == '"':
					closed = true
					i++
				default:
					b.WriteByte(line[i])
					i++
				}
			}
			if !closed {
				return nil, false
			}
			args = append(args, b.String())
		default:
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			args = append(args, line[i:i+j])
			i += j
		}
	}
	return args, true
}
