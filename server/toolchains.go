package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
)

// pathCompilers are the compilers served when PATH has them.
var pathCompilers = []string{"gcc", "g++", "clang", "clang++"}

// Compiler is one compiler the server runs for clients that name its Key.
type Compiler struct {
	// Info is what the handshake advertises.
	Info protocol.Toolchain
	// Path is the absolute path the server runs. It keeps the name the
	// compiler was found under (clang picks its driver mode from it).
	Path string
	// Family is the compiler family, which decides how debug information
	// is given the client's directory.
	Family toolchain.Family
	// ClangTarget is the --target this entry serves, as the config's
	// clang_targets spells it; "" for the compiler's own target. Jobs must
	// name it (or the triple it stands for) and no other.
	ClangTarget string
	// Root is, for a toolchain a client shipped (Info.Bundle set), the
	// tree of its files, which the job's sandbox shows in place of this
	// host's /usr; Path is then the client's driver path in it.
	Root string
	// PathDirs is, for a shipped toolchain, the PATH its jobs run with.
	PathDirs []string
}

// Toolchains maps toolchain Keys to the compilers that have them: those
// installed on the host, found at start, and those clients shipped (by
// their bundle's digest), added and removed as they come and go. It is
// safe for concurrent use.
type Toolchains struct {
	byKey map[string]Compiler
	list  []protocol.Toolchain

	mu      sync.RWMutex
	shipped map[string]Compiler // by bundle digest
}

// ErrNoCompiler is a host on which no compiler to serve was found.
var ErrNoCompiler = errors.New("no compiler to serve: none of gcc, g++, clang, clang++ is on PATH and the config's toolchains list none that works")

// DiscoverToolchains probes gcc, g++, clang and clang++ on PATH and the
// configured compilers (paths, or names looked up on PATH) with prober, and
// keeps those that probe as gcc or clang; when two have the same Key the first
// wins. A configured compiler that fails to probe is logged as a warning, a
// missing PATH compiler at debug level. No compiler at all is an error.
func DiscoverToolchains(ctx context.Context, prober *toolchain.Prober, configured []string, log *slog.Logger) (*Toolchains, error) {
	return DiscoverToolchainsAndTargets(ctx, prober, configured, nil, log)
}

// DiscoverToolchainsAndTargets is DiscoverToolchains, also serving each clang
// and clang++ found for each of clangTargets (the config's clang_targets):
// each such entry has the Key of toolchain.Prober.ProbeTarget, which covers
// what clang's driver decides from this machine for the target, so a client
// whose clang decides otherwise for it never sends its units here. A target
// that fails to probe is logged as a warning and not served.
func DiscoverToolchainsAndTargets(ctx context.Context, prober *toolchain.Prober, configured, clangTargets []string, log *slog.Logger) (*Toolchains, error) {
	t := &Toolchains{byKey: map[string]Compiler{}, shipped: map[string]Compiler{}}
	type candidate struct {
		name       string
		configured bool
	}
	var cands []candidate
	for _, c := range configured {
		cands = append(cands, candidate{c, true})
	}
	for _, c := range pathCompilers {
		cands = append(cands, candidate{c, false})
	}
	for _, c := range cands {
		comp, err := probeCompiler(ctx, prober, c.name)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("discover compilers: %w", ctx.Err())
			}
			level := slog.LevelDebug
			if c.configured {
				level = slog.LevelWarn
			}
			log.Log(ctx, level, "compiler not served", "compiler", c.name, "err", err)
			continue
		}
		key := comp.Info.Key
		if _, dup := t.byKey[key]; dup {
			log.Debug("compiler served already under another path", "compiler", comp.Path, "key", key)
			continue
		}
		t.add(comp, log)
		if comp.Family == toolchain.FamilyClang {
			for _, target := range clangTargets {
				tc, err := probeClangTarget(ctx, prober, comp, target)
				if err != nil {
					if ctx.Err() != nil {
						return nil, fmt.Errorf("discover compilers: %w", ctx.Err())
					}
					log.Warn("clang target not served", "compiler", comp.Path, "target", target, "err", err)
					continue
				}
				if _, dup := t.byKey[tc.Info.Key]; !dup {
					t.add(tc, log)
				}
			}
		}
	}
	if len(t.list) == 0 {
		return t, ErrNoCompiler
	}
	if len(t.list) > protocol.MaxToolchains {
		t.list = t.list[:protocol.MaxToolchains]
	}
	return t, nil
}

// add serves comp under its Key.
func (t *Toolchains) add(comp Compiler, log *slog.Logger) {
	t.byKey[comp.Info.Key] = comp
	t.list = append(t.list, comp.Info)
	log.Info("serving compiler", "path", comp.Path, "family", comp.Info.Family,
		"version", comp.Info.Version, "target", comp.Info.Target, "clang_target", comp.ClangTarget, "key", comp.Info.Key)
}

// probeClangTarget is comp, a clang, serving --target=target.
func probeClangTarget(ctx context.Context, prober *toolchain.Prober, comp Compiler, target string) (Compiler, error) {
	id, err := prober.ProbeTarget(ctx, comp.Path, target)
	if err != nil {
		return Compiler{}, err
	}
	comp.Info = protocol.Toolchain{Key: id.Key(), Family: string(id.Family), Driver: id.Driver,
		Version: id.Version, Target: id.Target}
	comp.ClangTarget = target
	return comp, nil
}

// CheckTarget refuses a clang job whose --target is not the one the entry
// serves: none for the compiler's own target's entry, and the entry's own
// (as configured, or the triple it stands for) for a clang_targets entry.
// Clients name the entry of the target their command has, so only a client
// that does not (an older one) is refused, and compiles the unit itself
// rather than having it compiled for a target another machine may see
// differently.
func CheckTarget(comp Compiler, args []string) error {
	if comp.Family != toolchain.FamilyClang {
		return nil
	}
	target, named := toolchain.ClangTarget(args)
	switch {
	case comp.ClangTarget == "" && named:
		return refuse(protocol.CodeForbiddenArg, "--target=%s refused: this toolchain serves its own target %s only (a host serves other targets listed in clang_targets)",
			quoteArg(target), quoteArg(comp.Info.Target))
	case comp.ClangTarget != "" && !named:
		return refuse(protocol.CodeForbiddenArg, "no --target: this toolchain serves --target=%s only", quoteArg(comp.ClangTarget))
	case comp.ClangTarget != "" && target != comp.ClangTarget && target != comp.Info.Target:
		return refuse(protocol.CodeForbiddenArg, "--target=%s refused: this toolchain serves --target=%s only", quoteArg(target), quoteArg(comp.ClangTarget))
	}
	return nil
}

// probeCompiler finds and probes one compiler.
func probeCompiler(ctx context.Context, prober *toolchain.Prober, name string) (Compiler, error) {
	path := name
	if !strings.ContainsRune(name, '/') {
		p, err := exec.LookPath(name)
		if err != nil {
			return Compiler{}, fmt.Errorf("%s: not found on PATH", name)
		}
		path = p
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return Compiler{}, fmt.Errorf("%s: %w", name, err)
	}
	id, err := prober.Probe(ctx, path)
	if err != nil {
		return Compiler{}, err
	}
	if id.Family != toolchain.FamilyGCC && id.Family != toolchain.FamilyClang && !slices.Contains(replayDrivers, id.Driver) {
		return Compiler{}, fmt.Errorf("%s: a %s compiler: only gcc, clang and clang-cl are served", path, id.Family)
	}
	return Compiler{
		Info: protocol.Toolchain{Key: id.Key(), Family: string(id.Family), Driver: id.Driver,
			Version: id.Version, Target: id.Target},
		Path:   path,
		Family: id.Family,
	}, nil
}

// NewToolchains builds a Toolchains from compilers already probed (tests,
// and servers that probe themselves).
func NewToolchains(compilers []Compiler) *Toolchains {
	t := &Toolchains{byKey: map[string]Compiler{}, shipped: map[string]Compiler{}}
	for _, c := range compilers {
		if _, dup := t.byKey[c.Info.Key]; !dup {
			t.byKey[c.Info.Key] = c
			t.list = append(t.list, c.Info)
		}
	}
	return t
}

// Lookup returns the compiler whose Key is key.
func (t *Toolchains) Lookup(key string) (Compiler, bool) {
	c, ok := t.byKey[key]
	return c, ok
}

// List returns what the handshake and status advertise: the installed
// compilers in discovery order, then the shipped ones by bundle digest.
func (t *Toolchains) List() []protocol.Toolchain {
	list := slices.Clone(t.list)
	t.mu.RLock()
	var shipped []protocol.Toolchain
	for _, c := range t.shipped {
		shipped = append(shipped, c.Info)
	}
	t.mu.RUnlock()
	slices.SortFunc(shipped, func(a, b protocol.Toolchain) int { return strings.Compare(a.Bundle, b.Bundle) })
	list = append(list, shipped...)
	if len(list) > protocol.MaxToolchains {
		list = list[:protocol.MaxToolchains]
	}
	return list
}

// Installed returns the compilers installed on the host.
func (t *Toolchains) Installed() []Compiler {
	var out []Compiler
	for _, info := range t.list {
		out = append(out, t.byKey[info.Key])
	}
	return out
}

// LookupShipped returns the shipped toolchain of bundle digest bundle, when
// its Key is key.
func (t *Toolchains) LookupShipped(key, bundle string) (Compiler, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c, ok := t.shipped[bundle]
	return c, ok && c.Info.Key == key
}

// addShipped serves a shipped toolchain.
func (t *Toolchains) addShipped(c Compiler) {
	t.mu.Lock()
	t.shipped[c.Info.Bundle] = c
	t.mu.Unlock()
}

// removeShipped stops serving the shipped toolchain of bundle digest bundle.
func (t *Toolchains) removeShipped(bundle string) {
	t.mu.Lock()
	delete(t.shipped, bundle)
	t.mu.Unlock()
}
