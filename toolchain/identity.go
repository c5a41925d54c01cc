package toolchain

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"crypto/sha256"
)

// Identity is what makes two compilers interchangeable: the same family and
// driver mode, version and target, and byte-identical programs doing the work.
// Two compilers with equal Keys produce the same output for the same input.
type Identity struct {
	// Family is the family the compiler's own version output shows, which wins
	// over its name ("cc" may be clang).
	Family Family `json:"family"`
	// Driver is the driver mode: "gcc", "g++", "clang", "clang++", "clang-cl"
	// or "cl". clang picks its mode from the name it is run under.
	Driver string `json:"driver"`
	// Version is the compiler's version: "12.2.0", "14.0.6", "19.29.30133".
	Version string `json:"version"`
	// Target is the target triple ("x86_64-linux-gnu" from gcc -dumpmachine,
	// clang's "Target:" line), or cl's architecture ("x64").
	Target string `json:"target"`
	// Path is the resolved real path of the driver binary.
	Path string `json:"path"`
	// Hash is the hex SHA-256 digest over the roles and contents of Components.
	Hash string `json:"hash"`
	// Components are the programs whose contents decide the output: the driver
	// and, for gcc, cc1, cc1plus and the assembler it runs.
	Components []Component `json:"components"`
	// Plan is set for clang compiling for a target its command line names
	// (--target): a digest of what its driver decided from the machine for
	// that target (see Prober.ProbeTarget). Empty for the compiler's own
	// target.
	Plan string `json:"plan,omitempty"`
}

// Component is one program a compile runs.
type Component struct {
	// Role is "driver", "cc1", "cc1plus" or "as".
	Role string `json:"role"`
	// Path is the resolved real path of the program.
	Path string `json:"path"`
	// Hash identifies the program's contents: "elf-build-id:<hex>:<size>" for
	// an ELF program with a GNU build ID, else the hex SHA-256 of its bytes.
	Hash string `json:"hash"`
}

// identityKeyVersion prefixes every Key; change it when Key's input changes.
const identityKeyVersion = "id3"

// Key is a stable hex digest of everything that makes the compiler what it is
// (not its path: the same compiler installed elsewhere has the same Key),
// prefixed with a format version: "id3-<64 hex digits>". The digests here are
// SHA-256 (the standard library's): a compiler is hashed once per daemon, and
// keeping BLAKE3 (and its CPU-feature probing at start-up) out of the wrapper
// saves every compile a quarter of a millisecond.
func (id Identity) Key() string {
	h := sha256.New()
	for _, field := range []string{identityKeyVersion, string(id.Family), id.Driver, id.Version, id.Target, id.Hash} {
		fmt.Fprintf(h, "%d:%s;", len(field), field)
	}
	if id.Plan != "" {
		// Only identities for a named target have one, so the Keys of all
		// others are what they were before Plan existed.
		fmt.Fprintf(h, "plan:%d:%s;", len(id.Plan), id.Plan)
	}
	return identityKeyVersion + "-" + hex.EncodeToString(h.Sum(nil))
}

// ErrUnknownCompiler means the program's version output is not that of a
// compiler dcc knows.
var ErrUnknownCompiler = errors.New("not a compiler dcc recognises")

// Probe limits.
const (
	// probeTimeout bounds one Probe, all queries included, when ctx allows longer.
	probeTimeout = 20 * time.Second
	// maxProbeOutput is how much of one query's output is kept.
	maxProbeOutput = 64 << 10
)

// The version-output patterns, compiled when first needed (the wrapper,
// which links this package, never needs them).
var (
	// clangVersionRE matches "clang version 14.0.6", "Apple clang version 15.0.0 (...)".
	clangVersionRE = lazyRegexp(`(?m)\bclang version (\S+)`)
	// clangTargetRE matches clang's "Target: x86_64-pc-linux-gnu" line.
	clangTargetRE = lazyRegexp(`(?m)^Target: (\S+)`)
	// msvcBannerRE matches cl.exe's banner (printed with any arguments, to stderr).
	msvcBannerRE = lazyRegexp(`Microsoft \(R\) C/C\+\+ Optimizing Compiler Version (\S+) for (\S+)`)
)

// lazyRegexp returns a function that compiles expr on its first call.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// Probe runs the compiler at path (a file name is looked up in PATH) to find
// out its Identity, and hashes the programs that do its work. It runs under ctx
// with a timeout, keeps the name it was given as argv[0] (clang picks its driver
// mode from it) and every error says which compiler failed.
func Probe(ctx context.Context, path string) (Identity, error) {
	id, _, err := probe(ctx, path)
	return id, err
}

// probe is Probe, also returning the stamps of every file the answer depends on,
// each taken before that file was read.
func probe(ctx context.Context, path string) (Identity, []fileStamp, error) {
	id, stamps, err := probeExe(ctx, path)
	if err != nil {
		return Identity{}, nil, fmt.Errorf("probe %s: %w", path, err)
	}
	return id, stamps, nil
}

// lookExe returns the path a command named path runs.
func lookExe(path string) (string, error) {
	if !strings.ContainsAny(path, `/\`) {
		return exec.LookPath(path)
	}
	return filepath.Abs(path)
}

func probeExe(ctx context.Context, path string) (Identity, []fileStamp, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	exe, err := lookExe(path)
	if err != nil {
		return Identity{}, nil, err
	}
	st, err := stampOf(exe)
	if err != nil {
		return Identity{}, nil, err
	}
	stamps := []fileStamp{st}
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return Identity{}, nil, err
	}
	name, _ := ParseCompilerName(exe)
	var gccAnswers func() ([]string, []error)
	if name.Family == FamilyGCC {
		// Named like gcc: its queries start with --version rather than after
		// it (the first compile of a new daemon waits for all of them), and
		// are dropped should --version show another compiler.
		gccAnswers = startGCCQueries(ctx, exe)
	}
	out, runErr := query(ctx, exe, "--version")
	if ctx.Err() != nil {
		return Identity{}, nil, fmt.Errorf("--version: %w", ctx.Err())
	}
	id := Identity{Path: real}
	progs := map[string]string{"driver": real}
	switch {
	case clangVersionRE().MatchString(out):
		id.Family, id.Driver = FamilyClang, "clang"
		if name.Family == FamilyMSVC {
			id.Family, id.Driver = FamilyMSVC, "clang-cl"
		} else if name.CXX {
			id.Driver = "clang++"
		}
		id.Version = clangVersionRE().FindStringSubmatch(out)[1]
		if m := clangTargetRE().FindStringSubmatch(out); m != nil {
			id.Target = m[1]
		}
	case msvcBannerRE().MatchString(out):
		m := msvcBannerRE().FindStringSubmatch(out)
		id.Family, id.Driver, id.Version, id.Target = FamilyMSVC, "cl", m[1], m[2]
	case strings.Contains(out, "Free Software Foundation") || strings.Contains(firstLine(out), "(GCC)"):
		id.Family, id.Driver = FamilyGCC, "gcc"
		if name.CXX {
			id.Driver = "g++"
		}
		if gccAnswers == nil {
			gccAnswers = startGCCQueries(ctx, exe)
		}
		if err := probeGCC(ctx, exe, &id, progs, gccAnswers); err != nil {
			return Identity{}, nil, err
		}
	default:
		if runErr != nil {
			return Identity{}, nil, fmt.Errorf("%w: --version: %v: %q", ErrUnknownCompiler, runErr, firstLine(out))
		}
		return Identity{}, nil, fmt.Errorf("%w: --version printed %q", ErrUnknownCompiler, firstLine(out))
	}
	comps, compStamps, err := hashComponents(progs)
	if err != nil {
		return Identity{}, nil, err
	}
	id.Components, id.Hash = comps, combinedHash(comps)
	return id, append(stamps, compStamps...), nil
}

// gccQueryRoles are the programs gcc is asked for with -print-prog-name.
var gccQueryRoles = []string{"cc1", "cc1plus", "as"}

// startGCCQueries starts, at once, the queries that ask gcc for its version,
// target and the programs it runs (-dumpfullversion, -dumpmachine, then
// -print-prog-name= for each of gccQueryRoles), and returns a function that
// waits for their answers.
func startGCCQueries(ctx context.Context, exe string) func() ([]string, []error) {
	args := []string{"-dumpfullversion", "-dumpmachine"}
	for _, role := range gccQueryRoles {
		args = append(args, "-print-prog-name="+role)
	}
	answers := make([]string, len(args))
	errs := make([]error, len(args))
	var wg sync.WaitGroup
	for i, arg := range args {
		wg.Go(func() { answers[i], errs[i] = queryLine(ctx, exe, arg) })
	}
	return func() ([]string, []error) {
		wg.Wait()
		return answers, errs
	}
}

// probeGCC fills in gcc's version, target and the programs it runs from the
// answers of startGCCQueries.
func probeGCC(ctx context.Context, exe string, id *Identity, progs map[string]string, gccAnswers func() ([]string, []error)) error {
	roles := gccQueryRoles
	answers, errs := gccAnswers()
	var err error
	if id.Version, err = answers[0], errs[0]; err != nil || id.Version == "" {
		if id.Version, err = queryLine(ctx, exe, "-dumpversion"); err != nil {
			return err
		}
	}
	if id.Target, err = answers[1], errs[1]; err != nil {
		return err
	}
	if id.Version == "" || id.Target == "" {
		// A GNU program that is not gcc (coreutils' "true --version" names
		// the Free Software Foundation too) answers with nothing.
		return fmt.Errorf("%w: no version or target from -dumpfullversion, -dumpversion and -dumpmachine", ErrUnknownCompiler)
	}
	for i, role := range roles {
		p, err := answers[2+i], errs[2+i]
		if err != nil {
			return err
		}
		if !filepath.IsAbs(p) {
			// gcc answers with the bare name when its own directories lack the
			// program: cc1plus without g++ installed, or an assembler gcc finds
			// in PATH.
			if role != "as" {
				continue
			}
			if p, err = exec.LookPath(p); err != nil {
				continue
			}
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			progs[role] = real
		}
	}
	return nil
}

// query runs exe with args under ctx in the C locale (and cl's English banner)
// and returns its combined output, truncated to maxProbeOutput. When ctx ended
// the run, the error is ctx's.
func query(ctx context.Context, exe string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	out := &cappedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C", "VSLANG=1033")
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return out.buf.String(), err
}

// queryLine runs a query that must succeed and print one line.
func queryLine(ctx context.Context, exe string, arg string) (string, error) {
	out, err := query(ctx, exe, arg)
	if err != nil {
		return "", fmt.Errorf("%s: %w", arg, err)
	}
	return strings.TrimSpace(out), nil
}

// firstLine is the first non-empty line of s, for messages.
func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// cappedBuffer keeps the first maxProbeOutput bytes written to it and accepts
// the rest without keeping it, so a chatty program never blocks.
type cappedBuffer struct{ buf bytes.Buffer }

// Write implements io.Writer.
func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := maxProbeOutput - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// hashComponents hashes each program in progs (role -> path), sorted by role.
func hashComponents(progs map[string]string) ([]Component, []fileStamp, error) {
	roles := make([]string, 0, len(progs))
	for role := range progs {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	// The programs are hashed at once (cc1 alone is tens of MiB): the first
	// compile of a new daemon waits for this.
	comps := make([]Component, len(roles))
	stamps := make([]fileStamp, len(roles))
	errs := make([]error, len(roles))
	var wg sync.WaitGroup
	for i, role := range roles {
		wg.Go(func() {
			sum, st, err := hashFile(progs[role])
			if err != nil {
				errs[i] = fmt.Errorf("hash %s: %w", role, err)
				return
			}
			comps[i] = Component{Role: role, Path: progs[role], Hash: sum}
			stamps[i] = st
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return comps, stamps, nil
}

// hashFile returns the hex SHA-256 digest of a regular file and its stamp, taken
// before reading so that a change during the read shows as a stale stamp.
func hashFile(path string) (string, fileStamp, error) {
	if st, err := os.Stat(path); err == nil {
		if sum, ok := hashedFiles.Load(path); ok && sum.(hashedFile).sig == statSignature(st) {
			return sum.(hashedFile).sum, fileStamp{path: path, sig: statSignature(st)}, nil
		}
	}
	sum, stamp, err := readAndHashFile(path)
	if err == nil {
		hashedFiles.Store(path, hashedFile{sig: stamp.sig, sum: sum})
	}
	return sum, stamp, err
}

// hashedFiles memoizes hashFile by path and stat signature: gcc and g++ (or
// several versioned names of one compiler) share cc1, cc1plus and as, tens
// of MiB each.
var hashedFiles sync.Map // path -> hashedFile

// hashedFile is one memoized hashFile answer.
type hashedFile struct {
	sig, sum string
}

// readAndHashFile is hashFile without the memo. An ELF program that carries
// a GNU build ID (the linker's digest of its contents, which Debian and most
// distributions keep in every binary) is identified by that ID and its size,
// read from a few pages: cc1 and cc1plus are tens of MiB each, and hashing
// them made the first compile of every new daemon wait 40 ms. Other files
// are digested whole.
func readAndHashFile(path string) (string, fileStamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fileStamp{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fileStamp{}, err
	}
	if !info.Mode().IsRegular() {
		return "", fileStamp{}, fmt.Errorf("%s is not a regular file", path)
	}
	stamp := fileStamp{path: path, sig: statSignature(info)}
	if id, ok := elfBuildID(f); ok {
		return fmt.Sprintf("elf-build-id:%s:%d", id, info.Size()), stamp, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fileStamp{}, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), stamp, nil
}

// elfBuildID returns the hex GNU build ID of the ELF file f, if it is one and
// has one (a note named "GNU" of type NT_GNU_BUILD_ID, 3).
func elfBuildID(f io.ReaderAt) (string, bool) {
	ef, err := elf.NewFile(f)
	if err != nil {
		return "", false
	}
	defer ef.Close()
	sec := ef.Section(".note.gnu.build-id")
	if sec == nil || sec.Type != elf.SHT_NOTE {
		return "", false
	}
	data, err := sec.Data()
	if err != nil || len(data) < 16 {
		return "", false
	}
	order := ef.ByteOrder
	nameSize, descSize, typ := order.Uint32(data[0:]), order.Uint32(data[4:]), order.Uint32(data[8:])
	nameEnd := 12 + uint64(nameSize)
	descStart := 12 + (uint64(nameSize)+3)&^3
	if typ != 3 || nameSize != 4 || string(data[12:min(nameEnd, uint64(len(data)))]) != "GNU\x00" ||
		descSize < 8 || descStart+uint64(descSize) > uint64(len(data)) {
		return "", false
	}
	return hex.EncodeToString(data[descStart : descStart+uint64(descSize)]), true
}

// combinedHash digests the roles and contents (not the paths) of comps.
func combinedHash(comps []Component) string {
	h := sha256.New()
	for _, c := range comps {
		fmt.Fprintf(h, "%s=%s;", c.Role, c.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileStamp is what a file looked like when a probe read it.
type fileStamp struct {
	path string
	sig  string
}

// stampOf stats path (following symlinks).
func stampOf(path string) (fileStamp, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{path: path, sig: statSignature(info)}, nil
}

// current reports whether the file still looks the same.
func (s fileStamp) current() bool {
	now, err := stampOf(s.path)
	return err == nil && now.sig == s.sig
}

// statSignature is size, modification time and mode, plus the device, inode and
// change time where the platform's stat has them (Dev, Ino, Ctim or Ctimespec):
// replacing a file, even with the same size and mtime, changes it.
func statSignature(info os.FileInfo) string {
	sig := fmt.Sprintf("%d %d %v", info.Size(), info.ModTime().UnixNano(), info.Mode())
	sys := reflect.Indirect(reflect.ValueOf(info.Sys()))
	if sys.Kind() == reflect.Struct {
		for _, field := range []string{"Dev", "Ino", "Ctim", "Ctimespec"} {
			if v := sys.FieldByName(field); v.IsValid() && v.CanInterface() {
				sig += fmt.Sprintf(" %s=%v", field, v.Interface())
			}
		}
	}
	return sig
}
