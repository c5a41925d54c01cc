package compile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/toolchain"
)

// maxAbsent bounds the paths a manifest result checks for absence; a compile
// that would need more is not recorded for direct mode (preprocessor mode
// still serves it).
const maxAbsent = 2000

// Options that add an include directory, by the group they belong to in the
// compiler's search order.
var (
	quoteDirOptions  = []string{"-iquote"}
	userDirOptions   = []string{"-I", "/I"}
	systemDirOptions = []string{"-isystem", "/external:I", "-imsvc"}
	afterDirOptions  = []string{"-idirafter"}
)

// searchDirs returns the include directories of this command in the order
// the compiler searches them, as given (relative to the working directory or
// absolute): -iquote, -I, CPATH, -isystem, the language's include-path
// variable (C_INCLUDE_PATH, ...; INCLUDE for cl), the compiler's built-in
// directories, then -idirafter. The directory of the file that holds an
// #include comes before all of them; shadowCandidates adds it per file.
func (j *job) searchDirs(builtin []string) []string {
	args := j.a.PreprocessorArgs
	var dirs []string
	dirs = append(dirs, optionDirs(args, quoteDirOptions)...)
	dirs = append(dirs, optionDirs(args, userDirOptions)...)
	if j.a.Family == toolchain.FamilyMSVC {
		dirs = append(dirs, optionDirs(args, systemDirOptions)...)
		dirs = append(dirs, envDirs(j.req.Env, "INCLUDE", ";")...)
	} else {
		dirs = append(dirs, envDirs(j.req.Env, "CPATH", ":")...)
		dirs = append(dirs, optionDirs(args, systemDirOptions)...)
		dirs = append(dirs, envDirs(j.req.Env, languageIncludeEnv(j.a.Language), ":")...)
	}
	dirs = append(dirs, builtin...)
	return append(dirs, optionDirs(args, afterDirOptions)...)
}

// optionDirs returns the directories the given options name, in order, in
// either spelling (-I dir, -Idir).
func optionDirs(args []string, options []string) []string {
	var dirs []string
	for i := 0; i < len(args); i++ {
		for _, opt := range options {
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
	return dirs
}

// languageIncludeEnv is the variable holding extra system include
// directories for a language.
func languageIncludeEnv(lang string) string {
	switch {
	case strings.HasPrefix(lang, "objective-c++"):
		return "OBJCPLUS_INCLUDE_PATH"
	case strings.HasPrefix(lang, "objective-c"):
		return "OBJC_INCLUDE_PATH"
	case strings.HasPrefix(lang, "c++"):
		return "CPLUS_INCLUDE_PATH"
	default:
		return "C_INCLUDE_PATH"
	}
}

// envDirs splits an include-path variable of env; an empty element is the
// working directory, as for gcc.
func envDirs(env []string, name, sep string) []string {
	v, ok := lookupEnv(env, name)
	if !ok || v == "" {
		return nil
	}
	var dirs []string
	for _, d := range strings.Split(v, sep) {
		if d == "" {
			d = "."
		}
		dirs = append(dirs, filepath.Clean(d))
	}
	return dirs
}

// shadowCandidates lists the paths that must stay absent for the included
// files to be found where they were: for a header found as REL under the k-th
// place the compiler searched (the directory of the file that included it,
// then searchDirs), REL under each earlier place. A header appearing there
// later would be included instead, which the digests of the files used last
// time cannot show. Which directory a header was found in is not written in
// the preprocessed text, so every directory that holds it counts (a spare
// candidate costs a stat, a missing one a wrong hit).
//
// Two things keep the list short, since a direct hit stats every path on it:
// the compiler's own directories (/usr/include, ...) are not watched for new
// headers (they change with the compiler and the system's packages), and a
// candidate whose directory does not exist is recorded as that directory
// (inc/bits for inc/bits/types.h), so the headers of one subdirectory share
// one entry. The result is nil with ok false when there would be too many.
func (j *job) shadowCandidates(included []cache.FileDigest, builtin []string) (absent []string, ok bool) {
	if j.a.PreprocessCommand == nil {
		return nil, true // preprocessed input: the compile searches no directory
	}
	dirs := j.searchDirs(builtin)
	absBuiltin := make([]string, len(builtin))
	for i, d := range builtin {
		absBuiltin[i] = resolve(j.req.Dir, d)
	}
	system := func(abs string) bool {
		for _, b := range absBuiltin {
			if abs == b || strings.HasPrefix(abs, b+"/") {
				return true
			}
		}
		return false
	}
	type place struct {
		dir, abs string
		system   bool
	}
	searched := make([]place, len(dirs))
	for i, d := range dirs {
		abs := resolve(j.req.Dir, d)
		searched[i] = place{d, abs, system(abs)}
	}
	exists := map[string]bool{}
	stat := func(p string) bool {
		e, ok := exists[p]
		if !ok {
			_, err := os.Lstat(resolve(j.req.Dir, p))
			e = !errors.Is(err, os.ErrNotExist)
			exists[p] = e
		}
		return e
	}
	seen := map[string]bool{}
	// stack: for cl and clang-cl, which look for a quoted name beside every
	// file on the include stack after the includer's own directory and
	// before the /I ones, the directories of every file included, in no
	// known order: a header found in any of them could be shadowed from
	// any other.
	var stack []place
	if j.a.Family == toolchain.FamilyMSVC {
		dirSeen := map[string]bool{}
		for _, f := range included {
			d := filepath.Dir(resolve(j.req.Dir, filepath.Clean(f.Path)))
			if !dirSeen[d] {
				dirSeen[d] = true
				stack = append(stack, place{d, d, system(d)})
			}
		}
	}
	// includerDirs: where headers of unknown includer may have been
	// searched from first (depend mode), computed when first needed.
	var includerDirs []string
	// placesFrom: the places searched, in order, for an #include in a file
	// of the given directory, made once per directory.
	placesFrom := map[string][]place{}
	placesOf := func(first string) []place {
		if p, ok := placesFrom[first]; ok {
			return p
		}
		firstAbs := resolve(j.req.Dir, first)
		p := slices.Concat([]place{{first, firstAbs, system(firstAbs)}}, stack, searched)
		placesFrom[first] = p
		return p
	}
	record := func(earlier, rel string) {
		// The shallowest missing path on the way to earlier/rel (the place
		// itself included: a search directory that does not exist yet).
		p := earlier
		if !stat(p) {
			if !seen[p] {
				seen[p] = true
				absent = append(absent, p)
			}
			return
		}
		for _, part := range strings.Split(rel, "/") {
			p = filepath.Join(p, part)
			if !stat(p) {
				if !seen[p] {
					seen[p] = true
					absent = append(absent, p)
				}
				return
			}
		}
	}
	for _, f := range included {
		includer, known := j.includers[f.Path]
		if !known || includer == "" {
			continue // the main source: named on the command line
		}
		absP := resolve(j.req.Dir, filepath.Clean(f.Path))
		// The includer's directory is searched first for a quoted #include;
		// for -include files (a pseudo-file includes them) it is the working
		// directory.
		firsts := []string{"."}
		switch {
		case includer == unknownIncluder:
			if includerDirs == nil {
				includerDirs = j.possibleIncluderDirs(system)
			}
			firsts = includerDirs
		case includer[0] != '<':
			firsts = []string{filepath.Dir(filepath.Clean(includer))}
		}
		for _, first := range firsts {
			places := placesOf(first)
			for k := range places {
				rel, found := within(absP, places[k].abs)
				if !found {
					continue
				}
				earlierPlaces := places[:k]
				if k <= len(stack) {
					// Found beside a file of the stack: any other may come first.
					earlierPlaces = places[:1+len(stack)]
				}
				for _, earlier := range earlierPlaces {
					if !earlier.system && filepath.Join(earlier.abs, rel) != absP {
						record(earlier.dir, rel)
					}
				}
			}
		}
		if len(absent) > maxAbsent {
			return nil, false
		}
	}
	// A precompiled header appearing next to a header would be used in its
	// place (precompiledHeader found none when this compile ran).
	for _, cand := range j.pchCandidates() {
		if !seen[cand] && !system(resolve(j.req.Dir, cand)) {
			seen[cand] = true
			absent = append(absent, cand)
		}
	}
	return absent, true
}

// within returns p relative to dir when p lies inside dir; both are absolute
// and clean.
func within(p, dir string) (string, bool) {
	if dir == "/" {
		return p[1:], len(p) > 1
	}
	if len(p) <= len(dir)+1 || p[len(dir)] != '/' || p[:len(dir)] != dir {
		return "", false
	}
	return p[len(dir)+1:], true
}

// errPrecompiledHeader: the compiler would read a precompiled header in place
// of a header's text, which the preprocessed text does not show.
var errPrecompiledHeader = errors.New("precompiled headers are not cached")

// pchSuffixes are what gcc (a file or a directory of them) and clang (for
// -include) append to a header's name to find its precompiled form.
var pchSuffixes = []string{".gch", ".pch"}

// pchCandidates lists where a precompiled form of each header the source or
// an -include option includes directly would be, absent or not: the only
// headers a precompiled form can replace (one can't be used after the first
// C token).
func (j *job) pchCandidates() []string {
	var out []string
	for path, includer := range j.includers {
		// A header of unknown includer may have been included by the source.
		if includer == "" || (includer != unknownIncluder && includer[0] != '<' && includer != j.mainFile) {
			continue
		}
		for _, suffix := range pchSuffixes {
			out = append(out, path+suffix)
		}
	}
	slices.Sort(out)
	return out
}

// precompiledHeader returns a precompiled header the compile would use, or "".
func (j *job) precompiledHeader() string {
	for _, p := range j.pchCandidates() {
		if _, err := os.Stat(resolve(j.req.Dir, p)); err == nil {
			return p
		}
	}
	return ""
}
