package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/protocol"
)

// peer is the client at the other end of a session.
type peer struct {
	// name is the name the client gave in its handshake.
	name string
	// session tells this session from the others (its remote address):
	// compile slots are shared in turn between sessions.
	session string
}

// handle answers one request of the client p.
func (s *Server) handle(ctx context.Context, log *slog.Logger, p peer, req protocol.Message) protocol.Message {
	start := time.Now()
	if s.draining.Load() {
		s.metrics.request(req.Type(), protocol.CodeBusy, time.Since(start))
		return &protocol.Error{Code: protocol.CodeBusy, Message: "the server is shutting down"}
	}
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	var resp protocol.Message
	var err error
	switch r := req.(type) {
	case *protocol.CompileRequest:
		resp, err = s.compile(ctx, log, p, r)
	case *protocol.CacheGet:
		resp, err = s.cacheGet(r)
	case *protocol.CachePut:
		resp, err = s.cachePut(log, r)
	case *protocol.Clean:
		resp, err = s.clean(log, r)
	case *protocol.Status:
		if r.Decline {
			s.runner.DeclineSlot(p.session)
		}
		if r.AwaitSlot {
			s.runner.AwaitSlot(ctx, p.session)
			start = time.Now() // the request's time is the answer's, not the wait
		}
		resp = &protocol.StatusResult{Server: s.name, Toolchains: s.toolchains.List(), Load: s.runner.Load(p.session), Ships: s.runner.Ships(), Time: time.Now().UnixNano()}
	case *protocol.ToolchainOffer:
		resp, err = s.runner.offerToolchain(ctx, log, r)
	case *protocol.ToolchainBlob:
		resp, err = s.runner.receiveBlob(r)
	default:
		err = refuse(protocol.CodeMalformed, "%s is not a request this server answers", req.Type())
	}
	if err != nil {
		msg := toMessage(err)
		s.metrics.request(req.Type(), msg.Code, time.Since(start))
		level := slog.LevelInfo
		if msg.Code == protocol.CodeInternal {
			level = slog.LevelWarn
		}
		if ctx.Err() != nil {
			level = slog.LevelDebug // the client gave up: nobody reads the answer
		}
		log.Log(ctx, level, "request refused", "type", req.Type().String(), "code", msg.Code, "reason", msg.Message)
		return msg
	}
	s.metrics.request(req.Type(), "ok", time.Since(start))
	log.Debug("request answered", "type", req.Type().String(), "elapsed", time.Since(start))
	return resp
}

// compile answers a CompileRequest: from the result cache when the client
// asked for caching and the same request was compiled before, else by
// running the job (and caching a success).
func (s *Server) compile(ctx context.Context, log *slog.Logger, p peer, r *protocol.CompileRequest) (*protocol.CompileResult, error) {
	job, err := s.runner.Prepare(r)
	if err != nil {
		return nil, err
	}
	job.client, job.session = p.name, p.session
	if r.CacheKey == "" {
		res, err := s.runner.Run(ctx, job)
		if err != nil {
			return nil, err
		}
		res.Load = s.runner.Load(p.session)
		return res, nil
	}
	sharedKey, err := ParseKey(r.CacheKey)
	if err != nil {
		return nil, err
	}
	if err := CheckProject(r.Project); err != nil {
		return nil, err
	}
	res, ok := s.fromShared(log, r.Project, sharedKey, len(r.Sources) > 0)
	s.metrics.cacheLookup(cacheShared, ok)
	if ok {
		s.metrics.compiled(resultSharedCache)
		res.Load = s.runner.Load(p.session)
		return res, nil
	}
	key := job.ResultKey()
	if len(r.Sources) == 0 {
		// A job compiled from its sources is cached in the shared cache
		// only, with the list of files it read.
		res, ok, err := s.store.GetResult(r.Project, key)
		if err != nil {
			log.Warn("result cache lookup", "err", err)
		}
		s.metrics.cacheLookup(cacheResult, ok)
		if ok {
			s.metrics.compiled(resultResultCache)
			res.Cached, res.Load = true, s.runner.Load(p.session)
			return res, nil
		}
	}
	// The same unit sent by several clients at once compiles once.
	res, shared, err := s.flights.do(ctx, flightKey{r.Project, key}, func() (*protocol.CompileResult, error) {
		res, err := s.runner.Run(ctx, job)
		if err == nil && res.ExitCode == 0 {
			if len(r.Sources) == 0 {
				s.storeResult(ctx, log, r.Project, key, res)
			}
			res.Shared = s.share(ctx, log, r.Project, sharedKey, res)
		}
		return res, err
	})
	if err != nil {
		return nil, err
	}
	res.Cached, res.Load = shared, s.runner.Load(p.session)
	return res, nil
}

// storeResult puts a successful compile in the result cache.
func (s *Server) storeResult(ctx context.Context, log *slog.Logger, project string, key [32]byte, res *protocol.CompileResult) {
	if err := s.store.PutResult(project, key, res); err != nil {
		logStoreFailure(ctx, log, "storing a compile result", err)
	}
}

// logStoreFailure logs a failed store: a warning, but only a debug line
// for an entry too large to keep, which is expected now and then.
func logStoreFailure(ctx context.Context, log *slog.Logger, what string, err error) {
	level := slog.LevelWarn
	if errors.Is(err, ErrTooLarge) {
		level = slog.LevelDebug
	}
	log.Log(ctx, level, what, "err", err)
}

// fromShared answers a compile from project's namespace of the shared cache
// when it holds a clean entry under the client's key: the same answer the
// client's own shared-cache lookup would have had, without a second round
// trip. An entry that does not decode is no answer.
func (s *Server) fromShared(log *slog.Logger, project string, key [32]byte, sources bool) (*protocol.CompileResult, bool) {
	b, ok, err := s.store.Get(project, key)
	if err != nil || !ok {
		return nil, false
	}
	e, err := badgerstore.DecodePortableEntry(b)
	if err != nil || e.ExitCode != 0 || len(e.Files[cache.ObjectFile]) == 0 || sources && len(e.Files[cache.ReadListFile]) == 0 {
		log.Debug("shared cache entry unusable for a compile", "err", err)
		return nil, false
	}
	res := &protocol.CompileResult{Object: e.Files[cache.ObjectFile], Stdout: e.Stdout, Stderr: e.Stderr, FromShared: true}
	if sources {
		res.Deps = strings.Split(string(e.Files[cache.ReadListFile]), "\n")
	}
	return res, true
}

// share puts a clean compile's object (no diagnostics: a client replays
// those from its own compiler) into project's namespace of the shared cache
// under the client's key, as the client would, and reports whether it did:
// the client then need not send it again.
func (s *Server) share(ctx context.Context, log *slog.Logger, project string, key [32]byte, res *protocol.CompileResult) bool {
	if len(res.Stdout) > 0 || len(res.Stderr) > 0 || len(res.Object) == 0 {
		return false
	}
	files := map[string][]byte{cache.ObjectFile: res.Object}
	if len(res.Deps) > 0 {
		files[cache.ReadListFile] = []byte(strings.Join(res.Deps, "\n"))
	}
	entry, err := badgerstore.EncodePortableEntry(cache.Entry{Files: files})
	if err == nil {
		err = s.store.Put(project, key, entry)
	}
	if err != nil {
		logStoreFailure(ctx, log, "sharing a compile result", err)
		return false
	}
	return true
}

// cacheGet answers a shared cache lookup.
func (s *Server) cacheGet(r *protocol.CacheGet) (*protocol.CacheGetResult, error) {
	if err := CheckProject(r.Project); err != nil {
		return nil, err
	}
	key, err := ParseKey(r.Key)
	if err != nil {
		return nil, err
	}
	entry, ok, err := s.store.Get(r.Project, key)
	if err != nil {
		return nil, err
	}
	s.metrics.cacheLookup(cacheShared, ok)
	return &protocol.CacheGetResult{Found: ok, Entry: entry}, nil
}

// cachePut stores a shared cache entry; one the store cannot take is
// answered Stored: false.
func (s *Server) cachePut(log *slog.Logger, r *protocol.CachePut) (*protocol.CachePutResult, error) {
	if err := CheckProject(r.Project); err != nil {
		return nil, err
	}
	key, err := ParseKey(r.Key)
	if err != nil {
		return nil, err
	}
	if len(r.Entry) == 0 {
		return nil, refuse(protocol.CodeMalformed, "an empty cache entry")
	}
	if err := s.store.Put(r.Project, key, r.Entry); err != nil {
		if errors.Is(err, ErrTooLarge) {
			log.Debug("shared cache entry not stored", "err", err)
			return &protocol.CachePutResult{Stored: false}, nil
		}
		return nil, err
	}
	return &protocol.CachePutResult{Stored: true}, nil
}

// clean removes a project's results and shared entries.
func (s *Server) clean(log *slog.Logger, r *protocol.Clean) (*protocol.CleanResult, error) {
	if err := CheckProject(r.Project); err != nil {
		return nil, err
	}
	n, err := s.store.Clean(r.Project)
	if err != nil {
		return nil, err
	}
	log.Info("cleaned a project", "project", r.Project, "removed", n)
	return &protocol.CleanResult{Removed: n}, nil
}
