package compile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/toolchain"
)

// Output kinds, the keys of cache.Entry.Files.
const (
	kindObject     = cache.ObjectFile
	kindDeps       = "deps"
	kindSplitDwarf = "dwo"
	kindCoverage   = "gcno"
	kindStackUsage = "su"
	// kindDepsTarget holds the target text the stored .d file starts with,
	// so a hit for another object path can put its own target there.
	kindDepsTarget = "deps-target"
	// kindDepsFlags holds the dependency options (depFlags) the stored .d
	// file was made with: a .d from -MD is not the .d of -MMD or -MP.
	kindDepsFlags = "deps-flags"
)

// errNoOutputDir: an output's directory does not exist. The compiler would
// fail; a cache hit must not succeed where the compiler fails.
var errNoOutputDir = errors.New("output directory does not exist")

// outputPaths maps each output kind the compile writes to its path, relative
// to the working directory unless absolute. Deps are included when present.
func outputPaths(o toolchain.Outputs) map[string]string {
	paths := map[string]string{}
	for kind, p := range map[string]string{
		kindObject: o.Object, kindDeps: o.Deps, kindSplitDwarf: o.SplitDwarf,
		kindCoverage: o.Coverage, kindStackUsage: o.StackUsage,
	} {
		if p != "" {
			paths[kind] = p
		}
	}
	return paths
}

// resolve makes p absolute against dir.
func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// collectOutputs reads every output file a compile wrote.
func collectOutputs(dir string, paths map[string]string) (map[string][]byte, error) {
	files := make(map[string][]byte, len(paths))
	for kind, p := range paths {
		b, err := os.ReadFile(resolve(dir, p))
		if err != nil {
			return nil, fmt.Errorf("read %s output: %w", kind, err)
		}
		files[kind] = b
	}
	return files, nil
}

// restoreOutputs writes the cached files of the given kinds to their paths,
// each atomically (a temporary file in the same directory, then rename), after
// checking that every directory exists.
func restoreOutputs(dir string, files map[string][]byte, paths map[string]string, kinds []string) error {
	for _, kind := range kinds {
		d := filepath.Dir(resolve(dir, paths[kind]))
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return fmt.Errorf("%s: %w", d, errNoOutputDir)
		}
	}
	for _, kind := range kinds {
		if err := writeAtomic(resolve(dir, paths[kind]), files[kind]); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, so a reader sees the old file or the new one, never half of
// one. The file gets the usual mode for new files (0666 less the umask).
func writeAtomic(path string, data []byte) error {
	if st, err := os.Lstat(path); err == nil && st.Mode()&(os.ModeDevice|os.ModeCharDevice|os.ModeNamedPipe|os.ModeSocket) != 0 {
		// -MF /dev/null, a pipe: the compiler writes into it, and so does
		// a hit. Renaming over it would replace a device with a file.
		return writeThrough(path, data)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tmp := path + ".dcc-" + hex.EncodeToString(suffix[:])
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = replaceWith(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// writeThrough writes data into an existing file that is not a regular
// one (a device or a pipe), as the compiler opening it for writing does.
func writeThrough(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// depTarget returns the target text a dependency file of this command starts
// with: the -MT values as given and the -MQ values make-quoted, joined by
// spaces, read from the preprocess command (the classifier adds an explicit
// -MQ when the command names none). ok is false when the target is not known.
func depTarget(a *toolchain.Analysis) (string, bool) {
	var targets []string
	args := a.PreprocessCommand
	for i := 0; i < len(args); i++ {
		var val string
		quote := false
		switch arg := args[i]; {
		case (arg == "-MT" || arg == "-MQ") && i+1 < len(args):
			val, quote = args[i+1], arg == "-MQ"
			i++
		case strings.HasPrefix(arg, "-MT") && len(arg) > 3:
			val = arg[3:]
		case strings.HasPrefix(arg, "-MQ") && len(arg) > 3:
			val, quote = arg[3:], true
		default:
			continue
		}
		if quote {
			val = makeQuote(val)
		}
		targets = append(targets, val)
	}
	return strings.Join(targets, " "), len(targets) > 0
}

// makeQuote quotes a target as gcc's -MQ does: $ doubled, and blanks and #
// escaped with a backslash.
func makeQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '$':
			b.WriteString("$$")
		case ' ', '\t', '#':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rewriteDepTarget replaces the target text a dependency file starts with.
// ok is false when the file does not start with oldTarget followed by a colon.
func rewriteDepTarget(deps []byte, oldTarget, newTarget string) ([]byte, bool) {
	if !bytes.HasPrefix(deps, []byte(oldTarget+":")) {
		return nil, false
	}
	if oldTarget == newTarget {
		return deps, true
	}
	out := make([]byte, 0, len(deps)+len(newTarget)-len(oldTarget))
	out = append(out, newTarget...)
	return append(out, deps[len(oldTarget):]...), true
}
