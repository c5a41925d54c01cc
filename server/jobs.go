package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
)

// Limits of one job.
const (
	// DefaultMaxOutput bounds the stdout and the stderr kept of one compile.
	DefaultMaxOutput = 1 << 20
	// objectName is the output every job writes, in its own directory.
	objectName = "out.o"
	// maxInputStem bounds the file name derived from SourceName.
	maxInputStem = 100
	// waitDelay bounds how long a killed compile may hold its output pipes.
	waitDelay = 2 * time.Second
	// staleJobAge: job directories older than this (and twice the job
	// timeout) found at start were left by a server that died.
	staleJobAge = time.Hour
)

// languages maps a CompileRequest's Language to the -x language of its
// preprocessed text and the extension of the input file. The preprocessed
// spellings are accepted as themselves.
var languages = map[string]struct{ x, ext string }{
	"c":                        {"cpp-output", ".i"},
	"c++":                      {"c++-cpp-output", ".ii"},
	"objective-c":              {"objective-c-cpp-output", ".mi"},
	"objective-c++":            {"objective-c++-cpp-output", ".mii"},
	"cpp-output":               {"cpp-output", ".i"},
	"c++-cpp-output":           {"c++-cpp-output", ".ii"},
	"objective-c-cpp-output":   {"objective-c-cpp-output", ".mi"},
	"objective-c++-cpp-output": {"objective-c++-cpp-output", ".mii"},
}

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Workdir holds the job directories; it is created if needed.
	Workdir string
	// SourceCacheBytes bounds the file contents kept from jobs compiled
	// from their sources, which later jobs name by digest; 0 means
	// DefaultSourceCacheBytes.
	SourceCacheBytes int
	// TreeDir holds the trees of jobs compiled from their sources; ""
	// means a private directory under /dev/shm when there is one, else
	// the workdir.
	TreeDir string
	// Jobs is how many compiles run at once (at least 1).
	Jobs int
	// QueueLen is how many compiles may wait for a slot; 0 means 4×Jobs.
	QueueLen int
	// JobTimeout bounds one compile; 0 means DefaultJobTimeout.
	JobTimeout time.Duration
	// MaxOutput bounds the stdout and the stderr kept; 0 means DefaultMaxOutput.
	MaxOutput int
	// Toolchains are the compilers served.
	Toolchains *Toolchains
	// Prober checks before each compile that a compiler is still the one
	// advertised (an upgrade in place changes its Key); nil skips the check.
	Prober *toolchain.Prober
	// Logger receives the runner's log; nil means slog.Default().
	Logger *slog.Logger
	// sandbox confines every job; nil runs jobs unsandboxed.
	sandbox *sandbox
}

// Runner runs compile jobs: each in a fresh directory under the workdir,
// with an allow-listed command line, a minimal environment and a time limit,
// at most Jobs at once. It is safe for concurrent use.
type Runner struct {
	opts    RunnerOptions
	workdir string // the real path of opts.Workdir
	treeDir string // where the trees of jobs compiled from their sources go
	jobDir  string // where the job directories go: workdir, or treeDir (see jobsParent)
	blobs   *blobCache
	path    string // PATH of the compiles
	slots   *slots
	// boxes are the compile slots' sandboxes; nil without a sandbox.
	boxes *slotPool
	// ship serves the toolchains clients ship; nil when the host takes none.
	ship *shipper
	log  *slog.Logger
	// metrics count the jobs run and list those running; nil counts nothing.
	metrics *metrics
}

// NewRunner creates the workdir (mode 0700), removes job directories a dead
// server left there, and returns a Runner.
func NewRunner(opts RunnerOptions) (*Runner, error) {
	if opts.Jobs < 1 {
		return nil, fmt.Errorf("server: %d jobs: want at least 1", opts.Jobs)
	}
	if opts.Toolchains == nil {
		return nil, errors.New("server: a runner needs toolchains")
	}
	if opts.QueueLen == 0 {
		opts.QueueLen = 4 * opts.Jobs
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = DefaultJobTimeout
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = DefaultMaxOutput
	}
	if opts.SourceCacheBytes <= 0 {
		opts.SourceCacheBytes = DefaultSourceCacheBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(opts.Workdir, 0o700); err != nil {
		return nil, fmt.Errorf("server: create workdir: %w", err)
	}
	// The job directory's path goes into -fdebug-prefix-map and PWD: use the
	// path the compiler's getcwd sees.
	real, err := filepath.EvalSymlinks(opts.Workdir)
	if err != nil {
		return nil, fmt.Errorf("server: workdir: %w", err)
	}
	if err := checkWorkdir(real); err != nil {
		return nil, fmt.Errorf("server: workdir %s: %w", real, err)
	}
	r := &Runner{opts: opts, workdir: real, treeDir: opts.TreeDir, blobs: newBlobCache(opts.SourceCacheBytes), path: os.Getenv("PATH"),
		slots: newSlots(opts.Jobs, opts.QueueLen), log: opts.Logger}
	if r.treeDir == "" {
		r.treeDir = defaultTreeDir(real)
	} else if err := os.MkdirAll(r.treeDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: create the tree directory: %w", err)
	}
	if r.treeDir, err = filepath.EvalSymlinks(r.treeDir); err != nil {
		return nil, fmt.Errorf("server: tree directory: %w", err)
	}
	if err := checkWorkdir(r.treeDir); err != nil {
		return nil, fmt.Errorf("server: tree directory %s: %w", r.treeDir, err)
	}
	if r.path == "" {
		r.path = "/usr/local/bin:/usr/bin:/bin"
	}
	if r.jobDir, err = r.jobsParent(); err != nil {
		return nil, err
	}
	r.removeStale(r.workdir, "job-")
	if r.treeDir != r.workdir {
		r.removeStale(r.treeDir, "tree-")
		r.removeStale(r.treeDir, "job-")
	}
	r.removeStale(r.jobDir, "slot-")
	if r.treeDir != r.jobDir {
		r.removeStale(r.treeDir, "slot-")
	}
	return r, nil
}

// removeStale removes job directories left by a server that died, old
// enough that no live job can own them.
func (r *Runner) removeStale(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.log.Warn("reading the workdir", "err", err)
		return
	}
	limit := max(staleJobAge, 2*r.opts.JobTimeout)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < limit {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			r.log.Warn("removing a stale job directory", "dir", e.Name(), "err", err)
		}
	}
}

// Close removes the directory of the trees when it is the runner's own and
// empty: a server that stops leaves nothing under /dev/shm.
func (r *Runner) Close() {
	if r.boxes != nil {
		r.boxes.close()
	}
	if r.ship != nil {
		r.ship.close()
	}
	if r.treeDir != r.workdir {
		os.Remove(r.treeDir) // fails, harmlessly, while another server uses it
	}
}

// Load reports the slots, the compiles running and those waiting, and how
// many of them are session's (none for "").
func (r *Runner) Load(session string) protocol.Load { return r.slots.load(session) }

// AwaitSlot returns when a compile slot is free for session, or ctx ends,
// or EndWatches was called (see slotnotice.go).
func (r *Runner) AwaitSlot(ctx context.Context, session string) { r.slots.awaitFree(ctx, session) }

// DeclineSlot ends the hold of the slot last told to session, which will
// not use it (see slotnotice.go).
func (r *Runner) DeclineSlot(session string) { r.slots.decline(session) }

// EndWatches answers every AwaitSlot at once, now and later.
func (r *Runner) EndWatches() { r.slots.endWatches() }

// Run waits for a compile slot (refused as "busy" when the queue is full,
// or at once when the job asked not to queue; the waiting sessions served
// in turn), then compiles. The time limit covers the run; ctx (the client waiting)
// covers the wait too. A job past its time limit is killed, with its
// children, and refused as "timeout". The job directory is removed whatever
// happens.
func (r *Runner) Run(ctx context.Context, j *Job) (*protocol.CompileResult, error) {
	if j.req.TimeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(j.req.TimeoutMS)*time.Millisecond)
		defer cancel()
	}
	release, err := r.slots.acquire(ctx, j.session, !j.req.NoQueue)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, refuse(protocol.CodeTimeout, "no compile slot came free within the job's time limit of %s", j.limit)
		}
		return nil, err
	}
	defer release()
	ended := r.metrics.jobStarted(j.req.SourceName, j.client)
	res, err := r.runHolding(ctx, j)
	ended(err == nil && res.ExitCode == 0)
	return res, err
}

// runHolding compiles with a slot taken: the shipped compiler's files in
// use, or the installed one checked.
func (r *Runner) runHolding(ctx context.Context, j *Job) (*protocol.CompileResult, error) {
	if j.compiler.Root != "" {
		// Shipped: its files are the store's, checked by digest.
		done, err := r.useShipped(j.compiler)
		if err != nil {
			return nil, err
		}
		defer done()
	} else if err := r.verifyCompiler(ctx, j.compiler); err != nil {
		return nil, err
	}
	return r.compile(ctx, j)
}

// verifyCompiler checks that the compiler is still the one advertised (for
// a clang_targets entry, for its target).
func (r *Runner) verifyCompiler(ctx context.Context, c Compiler) error {
	if r.opts.Prober == nil {
		return nil
	}
	var id toolchain.Identity
	var err error
	if c.ClangTarget != "" {
		// A clang_targets entry: clang's driver and what it decides from
		// this machine for the target (the GCC installation it selects).
		id, err = r.opts.Prober.ProbeTarget(ctx, c.Path, c.ClangTarget)
	} else {
		id, err = r.opts.Prober.Probe(ctx, c.Path)
	}
	if err == nil && id.Key() == c.Info.Key {
		return nil
	}
	r.log.Warn("a served compiler changed or vanished since the server started: restart dcc-server to serve it again",
		"path", c.Path, "err", err)
	return refuse(protocol.CodeUnknownToolchain, "toolchain %s changed on this host since it was advertised", c.Info.Key)
}

// compile runs the compiler in a fresh job directory: in a slot's sandbox,
// when there is one, which is given back once the job's directories are
// gone.
func (r *Runner) compile(ctx context.Context, j *Job) (*protocol.CompileResult, error) {
	if j.req.Replay {
		return r.compileReplay(ctx, j)
	}
	jobsParent, treesParent := r.jobDir, r.treeDir
	var slot *sandboxSlot
	boxes, pathEnv, err := r.jobPool(j.compiler)
	if err != nil {
		return nil, err
	}
	if boxes != nil {
		if slot, err = boxes.get(); err != nil {
			r.metrics.sandboxFailed()
			return nil, err
		}
		defer boxes.put(slot)
		jobsParent, treesParent = slot.jobs, slot.trees
	}
	dir, err := newJobDir(r.opts.sandbox, jobsParent)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			r.log.Warn("removing a job directory", "dir", dir, "err", err)
		}
	}()
	var args []string
	var tree string
	workDir := dir
	if j.sources != nil {
		treeParent, err := r.newTreeDir(treesParent)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := os.RemoveAll(treeParent); err != nil {
				r.log.Warn("removing a job's tree", "dir", treeParent, "err", err)
			}
		}()
		tree = filepath.Join(treeParent, treeName)
		if err := layOut(tree, j.req, j.sources); err != nil {
			return nil, err
		}
		args, workDir = sourceArgs(j, dir, tree), filepath.Join(tree, j.req.ClientDir)
	} else {
		if err := os.WriteFile(filepath.Join(dir, j.input), j.req.Preprocessed, 0o644); err != nil {
			return nil, fmt.Errorf("write the job's input: %w", err)
		}
		args = r.commandArgs(j, dir)
	}
	runCtx, cancel := context.WithTimeout(ctx, j.limit)
	defer cancel()
	// A fixed environment: the server's PATH (the compiler finds its own
	// programs through it), the job's working directory, the job directory
	// as TMPDIR, and no locale variables, so diagnostics come in the C
	// locale.
	env := []string{"PATH=" + pathEnv, "PWD=" + workDir, "TMPDIR=" + dir}
	argv := append([]string{j.compiler.Path}, args...)
	start := time.Now()
	var run *jobRun
	if slot != nil {
		run, err = r.runInSlot(runCtx, slot, dir, workDir, argv, env)
		if err != nil && runCtx.Err() == nil {
			r.metrics.sandboxFailed()
		}
	} else {
		run, err = r.runDirect(runCtx, workDir, argv, env)
	}
	elapsed := time.Since(start)
	if err := r.jobEnded(ctx, runCtx, j, run, err); err != nil {
		return nil, err
	}
	res := &protocol.CompileResult{ExitCode: statusCode(run.status), Stdout: run.stdout, Stderr: run.stderr}
	r.log.Debug("compiled", "source", j.input, "exit", res.ExitCode, "elapsed", elapsed)
	if res.ExitCode != 0 {
		return res, nil
	}
	room := protocol.MaxMessageSize - len(res.Stdout) - len(res.Stderr) - 64<<10
	if j.sources != nil {
		if res.Deps, err = sourceDeps(dir, tree); err != nil {
			return nil, err
		}
		for _, d := range res.Deps {
			room -= len(d) + 8
		}
	}
	obj, err := readLimited(filepath.Join(dir, objectName), room)
	if err != nil {
		return nil, err
	}
	res.Object = obj
	return res, nil
}

// jobEnded says how a job's run ended, as an error for the client: killed
// at the end of runCtx (its time limit, the client's, or the client went),
// or failed to run. Otherwise it adds the sandbox's note on a limit the
// compiler hit to what it printed, and returns nil.
func (r *Runner) jobEnded(ctx, runCtx context.Context, j *Job, run *jobRun, err error) error {
	if runCtx.Err() != nil && (err != nil || run.status.Signaled()) {
		switch {
		case ctx.Err() == nil:
			r.log.Info("compile killed at its time limit", "source", j.input, "limit", j.limit)
			return refuse(protocol.CodeTimeout, "the compile ran past its time limit of %s and was killed", j.limit)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return refuse(protocol.CodeTimeout, "the compile ran past the client's time limit of %s and was killed",
				time.Duration(j.req.TimeoutMS)*time.Millisecond)
		default:
			return fmt.Errorf("compile abandoned: %w", ctx.Err())
		}
	}
	if err != nil {
		return err
	}
	if sb := r.opts.sandbox; sb != nil {
		if note := sb.limitNote(run.status); note != "" {
			run.stderr = fmt.Appendf(run.stderr, "%s\n", note)
		}
	}
	return nil
}

// commandArgs is the compiler's command line after the program: the
// client's allowed arguments, what gives debug information the client's
// directory, and the server's own input, language and output.
func (r *Runner) commandArgs(j *Job, dir string) []string {
	args := append([]string(nil), j.req.Args...)
	if j.debug {
		switch j.compiler.Family {
		case toolchain.FamilyClang:
			// clang records the compilation directory it is given, and
			// applies the client's prefix maps to it as it would have there.
			if !hasCompilationDir(args) {
				args = append(args, "-fdebug-compilation-dir="+j.req.ClientDir)
			}
		default:
			// gcc records its working directory through its prefix maps:
			// the last matching map wins and only one applies, so the job
			// directory maps straight to what the client's maps make of
			// the client's directory.
			args = append(args, "-fdebug-prefix-map="+dir+"="+remapGCC(j.req.ClientDir, clientPrefixMaps(args)))
		}
	}
	return append(args, "-x", j.lang, "-c", j.input, "-o", objectName)
}

// readLimited reads a job's object, refusing one over limit bytes.
func readLimited(name string, limit int) ([]byte, error) {
	f, err := openJobFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("the compiler exited with status 0 without writing the object")
	}
	if err != nil {
		return nil, fmt.Errorf("read the object: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read the object: %w", err)
	}
	if info.Size() > int64(limit) {
		return nil, refuse(protocol.CodeTooLarge, "the object is %d bytes, more than a reply may carry (%d)", info.Size(), limit)
	}
	var buf bytes.Buffer
	buf.Grow(int(info.Size()))
	if _, err := io.Copy(&buf, io.LimitReader(f, int64(limit)+1)); err != nil {
		return nil, fmt.Errorf("read the object: %w", err)
	}
	if buf.Len() > limit {
		return nil, refuse(protocol.CodeTooLarge, "the object is more than a reply may carry (%d bytes)", limit)
	}
	return buf.Bytes(), nil
}

// cappedBuffer keeps the first limit bytes written to it, accepts the rest
// without keeping it (a chatty compiler never blocks) and notes the cut.
type cappedBuffer struct {
	buf       bytes.Buffer
	limit     int
	truncated bool
}

// Write implements io.Writer.
func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.limit - c.buf.Len()
	if len(p) > room {
		c.truncated = true
	}
	if room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// bytes returns what was kept, with a note when output was cut.
func (c *cappedBuffer) bytes() []byte {
	if c.truncated {
		fmt.Fprintf(&c.buf, "\n[dcc-server: output cut at %d bytes]\n", c.limit)
	}
	return c.buf.Bytes()
}
