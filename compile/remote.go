package compile

import (
	"context"
	"errors"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote"
	"github.com/dcc-build/dcc/ship"
	"github.com/dcc-build/dcc/toolchain"
)

// Farm is what the pipeline needs from the compile hosts (remote.Pool).
type Farm interface {
	// Compile runs one job on the best free host whose toolchain is
	// toolchainKey, or returns remote.ErrNoHost at once.
	Compile(ctx context.Context, toolchainKey string, req *protocol.CompileRequest) (*protocol.CompileResult, string, error)
	// CompileOr is Compile for a job that may compile here, whose compile
	// slots are the semaphore local: when every host is busy it waits for
	// a host slot or a local one, whichever frees first (tookLocal: a local
	// slot was taken, given back by receiving from local).
	CompileOr(ctx context.Context, toolchainKey string, req *protocol.CompileRequest, local chan struct{}) (res *protocol.CompileResult, host string, tookLocal bool, err error)
	// CacheGet and CachePut reach the team's shared cache; errors are misses.
	CacheGet(ctx context.Context, project, key string) ([]byte, bool)
	CachePut(ctx context.Context, project, key string, entry []byte)
	// SharedOwner is the host CacheGet and CachePut would use for key now.
	SharedOwner(key string) string
	// OwnerTakes says a job with key would go to that host now: its
	// compile request then doubles as the shared-cache lookup.
	OwnerTakes(toolchainKey, key string) bool
}

// RemoteOptions configure remote compiling in a Service.
type RemoteOptions struct {
	// Farm is the pool of compile hosts; nil means remote compiling is off.
	Farm Farm
	// LocalThreshold: units whose preprocessed text is at most this many
	// bytes compile here (a remote round trip would cost more).
	LocalThreshold int
	// LocalJobs bounds the compiles run here at once (0: the number of
	// CPUs), fallbacks from hosts included, so that a build as wide as the
	// hosts never runs them all here.
	LocalJobs int
	// RerunErrors: a remote compile that fails or prints diagnostics runs
	// again here, so diagnostics are the local compiler's own.
	RerunErrors bool
	// Timeout bounds one attempt of a remote compile on a host, send and
	// receive; the wait for a host slot is not counted.
	Timeout time.Duration
	// Sources says which units go to gcc hosts as their source and
	// headers: "all", "debug" (those with debug information) or ""/"off".
	Sources string
	// Project names the project namespace of a working directory.
	Project func(dir string) string
	// Ship learns the compilers of remote jobs, whose bundles the farm
	// ships to hosts that lack them; nil ships none.
	Ship *ship.Source
}

// remoteCandidate reports whether this compile may go to a host (or to the
// shared cache): remote compiling is on, the command is one whose
// preprocessed text compiles to the same object anywhere, and it writes only
// an object and a dependency file (which the local preprocessing writes).
func (j *job) remoteCandidate() bool {
	if j.s.opts.Remote.Farm == nil || j.a.Action != toolchain.ActionRemote || j.a.CompileCommand == nil ||
		j.a.PreprocessCommand == nil || (j.a.Family != toolchain.FamilyGCC && j.a.Family != toolchain.FamilyClang) {
		return false
	}
	for kind := range j.paths {
		if kind != kindObject && kind != kindDeps {
			return false
		}
	}
	return true
}

// project is this compile's namespace on the hosts, worked out once per job.
func (j *job) project() string {
	if j.projectName == "" {
		switch p, ok := lookupEnv(j.req.Env, "DCC_PROJECT"); {
		case ok && p != "":
			j.projectName = remote.ProjectName(p)
		case j.s.opts.Remote.Project != nil:
			j.projectName = j.s.opts.Remote.Project(j.req.Dir)
		default:
			j.projectName = remote.ProjectOf(j.req.Dir)
		}
	}
	return j.projectName
}

// lookupShared asks the team's shared cache for the preprocessor-mode key.
// A hit restores the outputs (the dependency file was written by the
// preprocessing run) and is stored in the local cache too.
func (j *job) lookupShared(ctx context.Context, key cache.Key) (daemon.CompileResult, cache.Entry, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, j.s.remoteTimeout())
	defer cancel()
	b, ok := j.s.opts.Remote.Farm.CacheGet(ctx, j.project(), key.String())
	if !ok {
		return daemon.CompileResult{}, cache.Entry{}, false, nil
	}
	e, err := badgerstore.DecodePortableEntry(b)
	if err != nil || e.ExitCode != 0 || !hasAll(e.Files, j.kinds(false)) {
		j.s.log.Warn("unusable entry from the shared cache", "source", j.a.Source, "err", err)
		return daemon.CompileResult{}, cache.Entry{}, false, nil
	}
	j.onHost(j.s.opts.Remote.Farm.SharedOwner(key.String()))
	if err := restoreOutputs(j.req.Dir, e.Files, j.paths, j.kinds(false)); err != nil {
		return daemon.CompileResult{}, cache.Entry{}, false, err
	}
	j.keepServed(key, e)
	return replay(e, "shared cache hit"), e, true, nil
}

// keepServed stores under key, in the local cache, an entry another cache
// served, unless nothing may be stored (DCC_READONLY) or the disk is
// (nearly) full. It reports whether it did; a failure is only logged: the
// compile was served.
func (j *job) keepServed(key cache.Key, e cache.Entry) bool {
	if j.readOnly || j.s.checkRoom(entrySize(e)) != nil {
		return false
	}
	if err := j.s.opts.Store.PutEntry(key, e); err != nil {
		j.s.log.Warn("store an entry served from elsewhere", "source", j.a.Source, "err", err)
		return false
	}
	return true
}

// shareEncoded puts an encoded entry into the shared cache, in the
// background: the build does not wait for it.
func (j *job) shareEncoded(key cache.Key, enc []byte) {
	project, farm, timeout := j.project(), j.s.opts.Remote.Farm, j.s.remoteTimeout()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		farm.CachePut(ctx, project, key.String(), enc)
	}()
}

// compileRemote tries the compile on a host. ok is false when it must run
// here instead: no host free, a host failure or timeout (a fallback), or a
// remote compile that failed or printed anything (run again here for the
// local compile's own diagnostics, when configured). shared says the host
// put the object in the shared cache where lookups for key go: no need to
// send it there again. fromShared says the host answered from that cache.
func (j *job) compileRemote(ctx context.Context, text []byte, key cache.Key) (out output, ok, shared, fromShared bool) {
	if len(text) <= j.s.opts.Remote.LocalThreshold {
		j.fellBack("small: %d bytes of preprocessed text, local_threshold %d", len(text), j.s.opts.Remote.LocalThreshold)
		return output{}, false, false, false
	}
	// No deadline here: the wait for a host slot is not the host's time.
	// The farm bounds each attempt on a host by TimeoutMS (recv_timeout).
	req := &protocol.CompileRequest{
		Toolchain: j.id.Key(), Language: j.a.Language, Args: j.a.CodegenArgs, Preprocessed: text,
		SourceName: j.a.Source, ClientDir: j.req.Dir, Project: j.project(), CacheKey: key.String(),
		TimeoutMS: j.s.remoteTimeout().Milliseconds(),
	}
	j.shippable()
	res, host, err := j.farmCompile(ctx, req)
	if errors.Is(err, remote.ErrNoHost) {
		j.fellBack("no free host")
		return output{}, false, false, false // every host is busy: this one compiles here
	}
	if err != nil {
		j.s.log.Warn("remote compile failed: compiling here", "source", j.a.Source, "host", host, "err", err)
		j.s.count(cache.StatFallbacks)
		j.fellBack("host %s failed: %v", host, err)
		return output{}, false, false, false
	}
	printed := len(res.Stdout) > 0 || len(res.Stderr) > 0
	if res.ExitCode != 0 || printed {
		if j.s.opts.Remote.RerunErrors || res.ExitCode == 0 && printed {
			j.s.count(cache.StatRemoteReruns)
			j.fellBack("the compile on %s failed or printed diagnostics: run again here", host)
			return output{}, false, false, false
		}
		j.onHost(host)
		return output{stdout: res.Stdout, stderr: res.Stderr, exit: res.ExitCode}, true, false, false
	}
	if err := writeAtomic(resolve(j.req.Dir, j.paths[kindObject]), res.Object); err != nil {
		j.s.log.Warn("write remote object: compiling here", "source", j.a.Source, "err", err)
		j.s.count(cache.StatFallbacks)
		j.fellBack("writing the object from %s failed: %v", host, err)
		return output{}, false, false, false
	}
	if res.FromShared {
		j.onHost(host)
		return output{}, true, true, true
	}
	j.count(cache.StatRemote, cache.StatHostPrefix+host)
	return output{}, true, res.Shared && j.s.opts.Remote.Farm.SharedOwner(key.String()) == host, false
}

// remoteTimeout bounds one exchange with a host (for a compile, one
// attempt, sent as its TimeoutMS).
func (s *Service) remoteTimeout() time.Duration {
	if s.opts.Remote.Timeout > 0 {
		return s.opts.Remote.Timeout
	}
	return 5 * time.Minute
}

var _ daemon.RemoteBackend = (*Service)(nil)

// errNoHosts: "dcc hosts" or "dcc clean --remote" with no hosts configured.
var errNoHosts = errors.New("no compile hosts are configured (hosts in config.toml, or DCC_HOSTS)")

// Hosts reports each configured compile host (daemon.RemoteBackend); with
// check, every host is contacted now.
func (s *Service) Hosts(ctx context.Context, check bool) ([]daemon.HostReport, error) {
	if s.opts.Hosts == nil {
		return nil, errNoHosts
	}
	return s.opts.Hosts.Hosts(ctx, check)
}

// CleanRemote removes a project's entries from every host
// (daemon.RemoteBackend).
func (s *Service) CleanRemote(ctx context.Context, project string) ([]daemon.CleanReport, error) {
	if s.opts.Hosts == nil {
		return nil, errNoHosts
	}
	return s.opts.Hosts.CleanRemote(ctx, project)
}

// shippable lets the farm ship the job's compiler to hosts that lack it:
// gcc and clang for their own target (a clang --target's identity covers
// what its driver decided from this machine, which its bundle does not
// carry).
func (j *job) shippable() {
	if j.s.opts.Remote.Ship != nil && j.id.Plan == "" {
		j.s.opts.Remote.Ship.Remember(j.req.Real, j.id)
	}
}
