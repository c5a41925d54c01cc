package compile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcc-build/dcc/cache"
)

// maxAbsent bounds the paths a manifest result checks for absence; a compile
// that would need more is not recorded for direct mode (preprocessor mode
// still serves it).
const maxAbsent = 2000

// includeDirOptions are the options that add an include directory, in the
// order the compiler searches them: quote-only, -I, system, after.
var includeDirOptions = [][]string{{"-iquote"}, {"-I", "/I"}, {"-isystem", "/external:I", "-imsvc"}, {"-idirafter"}}

// searchDirs returns the include directories the command names, in search
// order, preceded by the source's own directory (searched first for quoted
// includes).
func (j *job) searchDirs() []string {
	dirs := []string{filepath.Dir(filepath.Clean(j.a.Source))}
	args := j.a.PreprocessorArgs
	for _, group := range includeDirOptions {
		for i := 0; i < len(args); i++ {
			for _, opt := range group {
				switch {
				case args[i] == opt && i+1 < len(args):
					dirs = append(dirs, filepath.Clean(args[i+1]))
					i++
				case strings.HasPrefix(args[i], opt) && len(args[i]) > len(opt):
					dirs = append(dirs, filepath.Clean(args[i][len(opt):]))
				default:
					continue
				}
				break
			}
		}
	}
	return dirs
}

// shadowCandidates lists the paths that must stay absent for the included
// files to be found where they were: for a header found as REL under the k-th
// search directory, REL under each earlier directory. A header appearing
// there later would be included instead, which the digests of the files used
// last time cannot show. The result is nil with ok false when there would be
// too many to check.
func (j *job) shadowCandidates(included []cache.FileDigest) (absent []string, ok bool) {
	dirs := j.searchDirs()
	seen := map[string]bool{}
	for _, f := range included {
		p := filepath.Clean(f.Path)
		for k, d := range dirs {
			rel, found := within(p, d)
			if !found {
				continue
			}
			for _, earlier := range dirs[:k] {
				cand := filepath.Join(earlier, rel)
				if seen[cand] || cand == p {
					continue
				}
				seen[cand] = true
				if _, err := os.Stat(resolve(j.req.Dir, cand)); errors.Is(err, os.ErrNotExist) {
					absent = append(absent, cand)
				}
			}
			break
		}
		if len(absent) > maxAbsent {
			return nil, false
		}
	}
	return absent, true
}

// within returns p relative to dir when p lies inside dir (both relative or
// both absolute, as written).
func within(p, dir string) (string, bool) {
	if filepath.IsAbs(p) != filepath.IsAbs(dir) {
		return "", false
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}
