package server

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/server/toolstore"
	"github.com/dcc-build/dcc/toolchain"
)

// Toolchains clients ship. A host that lacks a client's compiler receives
// its files (toolstore), and runs its jobs in sandboxes whose file system
// is the bundle's tree alone: the host's /usr, /bin, /lib and /etc are not
// there, only the client's files at the client's paths. Each bundle has a
// pool of slot sandboxes of its own. Jobs name the bundle by digest, which
// the host computes itself from what it received, so a client can only
// ever run, and cache results of, the files it names.

// shipper serves the toolchains clients ship.
type shipper struct {
	r     *Runner
	store *toolstore.Store
	log   *slog.Logger
	// shared is set when the store is in SharedToolchainDir, whose
	// parents the server made and removes when they are left empty.
	shared bool

	mu    sync.Mutex
	pools map[string]*slotPool // by bundle digest
}

// shipTryTimeout bounds the trial run of a bundle's driver.
const shipTryTimeout = 30 * time.Second

// newShipper opens the toolchain store of cfg and serves the bundles it
// holds. Without a sandbox, or with toolchain_max_size = 0, the host takes
// no shipped toolchains (nil).
func newShipper(r *Runner, cfg *Config) (*shipper, error) {
	if r.opts.sandbox == nil || cfg.ToolchainMaxSize <= 0 || cfg.ToolchainDir == "" {
		return nil, nil
	}
	if err := staticWorker(); err != nil {
		r.log.Warn("this host takes no shipped toolchains", "why", err)
		return nil, nil
	}
	sh := &shipper{r: r, log: r.log, pools: map[string]*slotPool{}}
	dir, err := r.toolchainDir(cfg)
	if err != nil {
		r.log.Warn("this host takes no shipped toolchains", "why", err)
		return nil, nil
	}
	private := []string{r.workdir, r.treeDir, r.jobDir}
	store, err := toolstore.Open(dir, toolstore.Options{MaxBytes: cfg.ToolchainMaxSize, Private: private,
		Evicted: sh.evicted, Logger: r.log})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	sh.store = store
	sh.shared = !cfg.ToolchainDirSet && dir == SharedToolchainDir(r.workdir)
	for _, b := range store.Bundles() {
		r.opts.Toolchains.addShipped(shippedCompiler(b))
	}
	return sh, nil
}

// toolchainDir returns where shipped toolchains are kept: the config's
// toolchain_dir, or for a server running as root that does not name one,
// SharedToolchainDir. bubblewrap, run as the job user, resolves the path
// of each directory it binds: that user must traverse every directory of
// the path (0711).
func (r *Runner) toolchainDir(cfg *Config) (string, error) {
	sb := r.opts.sandbox
	if !sb.dropsUser() {
		return cfg.ToolchainDir, nil
	}
	dir := cfg.ToolchainDir
	if !cfg.ToolchainDirSet {
		dir = SharedToolchainDir(r.workdir)
		for _, d := range []string{filepath.Dir(filepath.Dir(dir)), filepath.Dir(dir), dir} {
			if err := privateDir(d); err != nil {
				return "", fmt.Errorf("toolchain directory %s: %w", d, err)
			}
			if err := os.Chmod(d, 0o711); err != nil {
				return "", fmt.Errorf("toolchain directory %s: %w", d, err)
			}
		}
	} else if err := os.MkdirAll(dir, 0o711); err != nil {
		return "", fmt.Errorf("toolchain directory %s: %w", dir, err)
	}
	if d := reachableBy(dir); d != "" {
		return "", fmt.Errorf("user %s, who runs jobs, cannot reach toolchain_dir %s: %s is closed to other users (give it o+x, or set toolchain_dir elsewhere)", sb.user, dir, d)
	}
	return dir, nil
}

// staticWorker checks that this program, which runs as the sandbox worker
// of every slot, is statically linked: in a shipped toolchain's sandbox
// there is no C library or dynamic loader but the toolchain's.
func staticWorker() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		return fmt.Errorf("read this program: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (build it with CGO_ENABLED=0, as make build does): its sandbox worker must run where only a shipped toolchain's files are", exe)
		}
	}
	return nil
}

// Ships reports whether the host takes shipped toolchains.
func (r *Runner) Ships() bool { return r.ship != nil }

// shippedCompiler is the Compiler that runs bundle b.
func shippedCompiler(b *toolstore.Bundle) Compiler {
	info := b.Offer.Info
	info.Bundle = b.Digest
	return Compiler{Info: info, Path: b.Offer.Driver, Family: toolchain.Family(info.Family), Root: b.Root,
		PathDirs: slices.Clone(b.Offer.PathDirs)}
}

// offerToolchain answers a ToolchainOffer: the files still to send, or
// the toolchain served once all are here (laid out and tried first).
func (r *Runner) offerToolchain(ctx context.Context, log *slog.Logger, o *protocol.ToolchainOffer) (*protocol.ToolchainOfferResult, error) {
	if r.ship == nil {
		return nil, refuse(protocol.CodeForbiddenArg, "this host takes no shipped toolchains (toolchain_max_size = 0, or no sandbox)")
	}
	sh := r.ship
	if b, ok := sh.store.Held(o.BundleDigest()); ok {
		return &protocol.ToolchainOfferResult{Installed: shippedCompiler(b).Info}, nil
	}
	missing, err := sh.store.Missing(o)
	if err != nil {
		return nil, storeRefusal(err)
	}
	if len(missing) > 0 {
		return &protocol.ToolchainOfferResult{Missing: missing}, nil
	}
	start := time.Now()
	b, err := sh.store.Install(o, func(b *toolstore.Bundle) error { return sh.try(ctx, b) })
	if err != nil {
		return nil, storeRefusal(err)
	}
	c := shippedCompiler(b)
	r.opts.Toolchains.addShipped(c)
	log.Info("serving a shipped toolchain", "driver", c.Path, "version", c.Info.Version, "target", c.Info.Target,
		"bundle", b.Digest[:12], "bytes", b.Bytes, "took", time.Since(start))
	return &protocol.ToolchainOfferResult{Installed: c.Info}, nil
}

// receiveBlob answers a ToolchainBlob.
func (r *Runner) receiveBlob(b *protocol.ToolchainBlob) (*protocol.ToolchainBlobResult, error) {
	if r.ship == nil {
		return nil, refuse(protocol.CodeForbiddenArg, "this host takes no shipped toolchains (toolchain_max_size = 0, or no sandbox)")
	}
	complete, err := r.ship.store.Put(b)
	if err != nil {
		return nil, storeRefusal(err)
	}
	return &protocol.ToolchainBlobResult{Complete: complete}, nil
}

// storeRefusal turns a store's error into the refusal a client reads.
func storeRefusal(err error) error {
	var inv *toolstore.InvalidError
	switch {
	case errors.As(err, &inv):
		return refuse(protocol.CodeForbiddenArg, "shipped toolchain refused: %s", inv.Reason)
	case errors.Is(err, toolstore.ErrBusy), errors.Is(err, toolstore.ErrFull):
		return refuse(protocol.CodeBusy, "%v", err)
	case errors.Is(err, toolstore.ErrMissing):
		return refuse(protocol.CodeMissingSources, "%v", err)
	}
	return err
}

// try runs the bundle's driver with --version in a sandbox of its tree: it
// must run and name the version offered.
func (sh *shipper) try(ctx context.Context, b *toolstore.Bundle) error {
	pool, err := sh.newPool(b.Root)
	if err != nil {
		return err
	}
	defer pool.close()
	slot, err := pool.get()
	if err != nil {
		return err
	}
	defer pool.discard(slot)
	dir, err := newJobDir(sh.r.opts.sandbox, slot.jobs)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, shipTryTimeout)
	defer cancel()
	env := []string{"PATH=" + strings.Join(b.Offer.PathDirs, ":"), "TMPDIR=" + dir}
	run, err := sh.r.runInSlot(ctx, slot, dir, dir, []string{b.Offer.Driver, "--version"}, env)
	if err != nil {
		return refuse(protocol.CodeForbiddenArg, "shipped toolchain refused: its driver %s does not run in this host's sandbox: %v", b.Offer.Driver, err)
	}
	out := string(run.stdout) + string(run.stderr)
	if statusCode(run.status) != 0 || !strings.Contains(out, b.Offer.Info.Version) {
		return refuse(protocol.CodeForbiddenArg, "shipped toolchain refused: %s --version in this host's sandbox ended with status %d and printed %q, not version %s",
			b.Offer.Driver, statusCode(run.status), oneLine(out), b.Offer.Info.Version)
	}
	return nil
}

// pool returns the slot pool of a shipped compiler's bundle.
func (sh *shipper) pool(c Compiler) (*slotPool, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p, ok := sh.pools[c.Info.Bundle]; ok {
		return p, nil
	}
	p, err := sh.newPool(c.Root)
	if err != nil {
		return nil, err
	}
	sh.pools[c.Info.Bundle] = p
	return p, nil
}

// newPool makes a slot pool whose sandboxes show the tree root.
func (sh *shipper) newPool(root string) (*slotPool, error) {
	sb, err := sh.r.opts.sandbox.withRoot(root)
	if err != nil {
		return nil, err
	}
	p, err := newSlotPool(sb, sh.r.jobDir, sh.r.treeDir, sh.log)
	if err != nil {
		for _, f := range sb.binds {
			f.Close()
		}
		return nil, err
	}
	return p, nil
}

// evicted stops serving a bundle the store removed.
func (sh *shipper) evicted(b *toolstore.Bundle) {
	sh.r.opts.Toolchains.removeShipped(b.Digest)
	sh.mu.Lock()
	p := sh.pools[b.Digest]
	delete(sh.pools, b.Digest)
	sh.mu.Unlock()
	if p != nil {
		p.close()
	}
}

// close kills the bundles' idle sandboxes, and removes the store when it
// keeps nothing (with the directories above it the server made).
func (sh *shipper) close() {
	sh.mu.Lock()
	pools := sh.pools
	sh.pools = map[string]*slotPool{}
	sh.mu.Unlock()
	for _, p := range pools {
		p.close()
	}
	if sh.store.RemoveIfEmpty() && sh.shared {
		hashDir := filepath.Dir(sh.store.Dir())
		// Each fails, harmlessly, while another server uses it.
		if os.Remove(hashDir) == nil {
			os.Remove(filepath.Dir(hashDir))
		}
	}
}

// withRoot returns the sandbox s with the tree root as its file system in
// place of the host's: each top-level directory of root bound read-only
// (by descriptor, which the job's user need not be able to reach), each
// top-level link made again, and /dev, /proc and /tmp as every sandbox has
// them; nothing of the host's /usr, /bin, /lib or /etc.
func (s *sandbox) withRoot(root string) (*sandbox, error) {
	c := *s
	c.fixed = slices.Clone(sandboxNamespaces)
	c.binds = nil
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	fail := func(err error) (*sandbox, error) {
		for _, f := range c.binds {
			f.Close()
		}
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		switch {
		case e.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return fail(err)
			}
			c.fixed = append(c.fixed, "--symlink", target, "/"+e.Name())
		case e.IsDir():
			fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fail(&os.PathError{Op: "open", Path: p, Err: err})
			}
			c.binds = append(c.binds, os.NewFile(uintptr(fd), p))
			// Descriptor 3 is the worker's executable (slotPool).
			c.fixed = append(c.fixed, "--ro-bind-fd", strconv.Itoa(3+len(c.binds)), "/"+e.Name())
		}
	}
	c.fixed = append(c.fixed, sandboxSystemMounts...)
	return &c, nil
}

// jobPool returns the slot pool a job runs in and the PATH it runs with:
// its bundle's for a shipped toolchain, else the host's.
func (r *Runner) jobPool(c Compiler) (*slotPool, string, error) {
	if c.Root == "" {
		return r.boxes, r.path, nil
	}
	if r.ship == nil {
		return nil, "", refuse(protocol.CodeUnknownToolchain, "toolchain %s is not served here", quoteArg(c.Info.Key))
	}
	p, err := r.ship.pool(c)
	return p, strings.Join(c.PathDirs, ":"), err
}

// useShipped marks a shipped compiler's bundle in use for a job, so that it
// is not removed under it; the release function ends the use.
func (r *Runner) useShipped(c Compiler) (func(), error) {
	if c.Root == "" {
		return func() {}, nil
	}
	if r.ship != nil {
		if b, ok := r.ship.store.Acquire(c.Info.Bundle); ok {
			return func() { r.ship.store.Release(b) }, nil
		}
	}
	return nil, refuse(protocol.CodeUnknownToolchain, "shipped toolchain %s is no longer kept here", c.Info.Bundle)
}
