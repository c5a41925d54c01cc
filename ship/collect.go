// Package ship collects the toolchain a client ships to a compile host
// that lacks it: the compiler's driver, the programs it runs (cc1,
// cc1plus, as; clang is its own cc1), every shared library they load and
// the dynamic loader (as ldd finds them here), the loader's cache and the
// few /etc files a driver reads, each at its path here and by BLAKE3
// digest (protocol.ToolchainOffer). System headers are not in it: they go
// with each job, as its sources do.
package ship

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zeebo/blake3"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
)

// Bundle is a toolchain collected for shipping.
type Bundle struct {
	// Offer is what a host is offered.
	Offer protocol.ToolchainOffer
	// Digest is Offer.BundleDigest().
	Digest string
	// Bytes are the bytes of its files.
	Bytes int64
	// local maps each file's digest to its path here.
	local map[[32]byte]string
	// stamps are the files' sizes and times when they were read.
	stamps map[string]stamp
}

// stamp is what a file looked like when it was read.
type stamp struct {
	size  int64
	mtime time.Time
}

// etcFiles are the files of /etc a driver or the dynamic loader reads.
var etcFiles = []string{"/etc/ld.so.cache", "/etc/os-release", "/etc/lsb-release", "/etc/debian_version"}

// queryTimeout bounds each question asked of the compiler or ldd.
const queryTimeout = 30 * time.Second

// Collect gathers the toolchain of the compiler exe (run by that path),
// whose identity is id. Only gcc and clang toolchains are collected.
func Collect(ctx context.Context, exe string, id toolchain.Identity) (*Bundle, error) {
	if id.Family != toolchain.FamilyGCC && id.Family != toolchain.FamilyClang {
		return nil, fmt.Errorf("ship %s: a %s compiler is not shipped", exe, id.Family)
	}
	exe, err := filepath.Abs(exe)
	if err != nil {
		return nil, fmt.Errorf("ship %s: %w", exe, err)
	}
	e := newEntries()
	var pathDirs []string
	var programs []string
	addProgram := func(p string) error {
		real, err := e.add(p)
		if err == nil {
			programs = append(programs, real)
		}
		return err
	}
	if err := addProgram(exe); err != nil {
		return nil, fmt.Errorf("ship %s: %w", exe, err)
	}
	for _, c := range id.Components {
		if err := addProgram(c.Path); err != nil {
			return nil, fmt.Errorf("ship %s: %s: %w", exe, c.Role, err)
		}
	}
	switch id.Family {
	case toolchain.FamilyGCC:
		// The programs as the driver names them (the paths it runs, links
		// and ".." included); a bare name it runs from PATH.
		for _, role := range []string{"cc1", "cc1plus", "as"} {
			p, err := ask(ctx, exe, "-print-prog-name="+role)
			if err != nil {
				return nil, fmt.Errorf("ship %s: %w", exe, err)
			}
			if !path.IsAbs(p) {
				if role != "as" {
					continue
				}
				if p, err = exec.LookPath(p); err != nil {
					continue
				}
				pathDirs = append(pathDirs, path.Dir(p))
			}
			if err := addProgram(p); err != nil {
				return nil, fmt.Errorf("ship %s: %s: %w", exe, role, err)
			}
		}
	case toolchain.FamilyClang:
		if err := addClangFiles(ctx, e, exe); err != nil {
			return nil, fmt.Errorf("ship %s: %w", exe, err)
		}
	}
	// The include directories the driver looks for (it gives cc1 only
	// those that exist), empty: their headers go with each job.
	for _, lang := range []string{"c", "c++"} {
		dirs, err := includeDirs(ctx, exe, lang)
		if err != nil {
			return nil, fmt.Errorf("ship %s: %w", exe, err)
		}
		for _, d := range dirs {
			if err := e.addEmptyDir(d); err != nil {
				return nil, fmt.Errorf("ship %s: include directory %s: %w", exe, d, err)
			}
		}
	}
	if len(pathDirs) == 0 {
		pathDirs = []string{path.Dir(exe)}
	}
	for _, prog := range slices.Clone(programs) {
		libs, err := sharedLibraries(ctx, prog)
		if err != nil {
			return nil, fmt.Errorf("ship %s: %w", exe, err)
		}
		for _, lib := range libs {
			if _, err := e.add(lib); err != nil {
				return nil, fmt.Errorf("ship %s: %s: %w", exe, lib, err)
			}
		}
	}
	for _, f := range etcFiles {
		if _, err := os.Lstat(f); err == nil {
			if _, err := e.add(f); err != nil {
				return nil, fmt.Errorf("ship %s: %w", exe, err)
			}
		}
	}
	info := protocol.Toolchain{Key: id.Key(), Family: string(id.Family), Driver: id.Driver, Version: id.Version, Target: id.Target}
	return finish(e, info, exe, pathDirs)
}

// FromFiles makes the bundle of a toolchain whose files are named: the
// driver, run as driver, and paths (each with the links on its way), for
// a toolchain laid out by hand.
func FromFiles(info protocol.Toolchain, driver string, pathDirs, paths []string) (*Bundle, error) {
	e := newEntries()
	for _, p := range append([]string{driver}, paths...) {
		if _, err := e.add(p); err != nil {
			return nil, fmt.Errorf("ship %s: %w", driver, err)
		}
	}
	return finish(e, info, driver, pathDirs)
}

// finish digests the entries' files and makes the bundle.
func finish(e *entries, info protocol.Toolchain, driver string, pathDirs []string) (*Bundle, error) {
	b := &Bundle{local: map[[32]byte]string{}, stamps: map[string]stamp{}}
	if err := b.hash(e); err != nil {
		return nil, fmt.Errorf("ship %s: %w", driver, err)
	}
	b.Offer = protocol.ToolchainOffer{Info: info, Driver: driver, PathDirs: pathDirs}
	for _, f := range e.files {
		b.Offer.Files = append(b.Offer.Files, f)
	}
	slices.SortFunc(b.Offer.Files, func(a, b protocol.BundleFile) int { return strings.Compare(a.Path, b.Path) })
	b.Digest = b.Offer.BundleDigest()
	return b, nil
}

// hash digests the regular files of e (several at once), recording their
// stamps and where each digest is read from.
func (b *Bundle) hash(e *entries) error {
	type result struct {
		digest [32]byte
		st     stamp
		err    error
	}
	results := make([]result, len(e.regular))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, p := range e.regular {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i].digest, results[i].st, results[i].err = hashFile(p)
		}()
	}
	wg.Wait()
	for i, p := range e.regular {
		r := results[i]
		if r.err != nil {
			return r.err
		}
		f := e.files[p]
		f.Digest, f.Size = r.digest, r.st.size
		e.files[p] = f
		b.local[r.digest] = p
		b.stamps[p] = r.st
		b.Bytes += r.st.size
	}
	return nil
}

// hashFile digests a file, with its stamp taken before it was read.
func hashFile(p string) ([32]byte, stamp, error) {
	var d [32]byte
	f, err := os.Open(p)
	if err != nil {
		return d, stamp{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return d, stamp{}, err
	}
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return d, stamp{}, fmt.Errorf("read %s: %w", p, err)
	}
	copy(d[:], h.Sum(nil))
	return d, stamp{size: info.Size(), mtime: info.ModTime()}, nil
}

// Current reports whether every file is as it was when collected.
func (b *Bundle) Current() bool {
	for p, st := range b.stamps {
		info, err := os.Stat(p)
		if err != nil || info.Size() != st.size || !info.ModTime().Equal(st.mtime) {
			return false
		}
	}
	return true
}

// Open opens the file of digest d for sending, and checks that it is
// still as collected.
func (b *Bundle) Open(d [32]byte) (*os.File, int64, error) {
	p, ok := b.local[d]
	if !ok {
		return nil, 0, fmt.Errorf("ship: no file of the bundle has digest %x", d[:8])
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	info, err := f.Stat()
	if err == nil && (info.Size() != b.stamps[p].size || !info.ModTime().Equal(b.stamps[p].mtime)) {
		err = fmt.Errorf("ship: %s changed since it was collected", p)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, info.Size(), nil
}

// ask runs the compiler with one argument and returns its answer's line.
func ask(ctx context.Context, exe, arg string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, arg)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", exe, arg, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// addClangFiles adds the files clang's driver reads or looks for: its
// resource directory's share/ (sanitizer lists), the file by which it
// tells its resource headers are there, and the crtbegin.o by which it
// selects a GCC installation (whose directories it searches).
func addClangFiles(ctx context.Context, e *entries, exe string) error {
	dir, err := ask(ctx, exe, "-print-resource-dir")
	if err != nil || !path.IsAbs(dir) {
		return fmt.Errorf("no resource directory: %v", err)
	}
	if info, err := os.Stat(path.Join(dir, "share")); err == nil && info.IsDir() {
		if err := e.addDir(path.Join(dir, "share")); err != nil {
			return fmt.Errorf("resource directory: %w", err)
		}
	}
	var files []string
	files = append(files, path.Join(dir, "include", "stddef.h"))
	verbose, err := askAll(ctx, exe, "-v")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(verbose, "\n") {
		if gcc, ok := strings.CutPrefix(line, "Selected GCC installation: "); ok {
			files = append(files, path.Join(strings.TrimSpace(gcc), "crtbegin.o"))
		}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			if _, err := e.add(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// askAll runs the compiler with one argument and returns all it printed.
func askAll(ctx context.Context, exe, arg string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, arg)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", exe, arg, err)
	}
	return string(out), nil
}

// includeDirs returns the directories the compiler searches for headers
// of lang, as its -v output lists them.
func includeDirs(ctx context.Context, exe, lang string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-E", "-v", "-x", lang, "-")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -E -v -x %s: %w", exe, lang, err)
	}
	var dirs []string
	in := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "#include"):
			in = true
		case strings.HasPrefix(line, "End of search list"):
			in = false
		case in && strings.HasPrefix(line, " /"):
			dirs = append(dirs, strings.Fields(line)[0])
		}
	}
	return dirs, nil
}

// sharedLibraries returns the shared libraries prog loads and its dynamic
// loader, as ldd finds them here; none for a program that is not a
// dynamic ELF executable.
func sharedLibraries(ctx context.Context, prog string) ([]string, error) {
	head := make([]byte, 4)
	if f, err := os.Open(prog); err == nil {
		_, _ = io.ReadFull(f, head)
		f.Close()
	}
	if !bytes.Equal(head, []byte("\x7fELF")) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ldd", prog)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %w", prog, err)
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("ldd %s: %s", prog, strings.TrimSpace(line))
		}
		if _, after, ok := strings.Cut(line, "=>"); ok {
			line = after
		}
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.HasPrefix(fields[0], "/") {
			libs = append(libs, fields[0])
		}
	}
	return libs, nil
}
