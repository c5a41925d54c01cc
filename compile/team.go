package compile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/cache/badgerstore"
	"github.com/dcc-build/dcc/daemon"
)

// TeamCache is the team's cache on remote storage (teamcache.Front): Get
// never fails (trouble is a miss) and never takes longer than its backends'
// timeouts; Put queues the write and returns at once.
type TeamCache interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	Put(key string, payload []byte)
}

// A team cache payload is one kind byte, then the kind's data.
const (
	// teamEntry: a portable entry (badgerstore.EncodePortableEntry) of the
	// outputs but the dependency file, which the local preprocessing
	// writes.
	teamEntry = 'e'
	// teamAtPath: the unit's object records where its checkout is (the
	// outputs named the guard directory when it was written): its entry
	// is under the key of the unit at its place (teamPathKey).
	teamAtPath = 'p'
)

// errTeamPayload: a payload that is none of the kinds above.
var errTeamPayload = errors.New("not a team cache entry of this version")

// teamPathKey is the key of a unit whose object records where it is: the
// preprocessor-mode key (the text with its absolute paths) and the working
// directory.
func (j *job) teamPathKey(cppKey cache.Key) cache.Key {
	return newKey("team-at").bytes(cppKey[:]).str(filepath.Clean(j.req.Dir)).sum()
}

// lookupTeam asks the team cache for this unit. A hit restores the outputs
// (the dependency file was written by the preprocessing run) and is stored
// in the local cache under cppKey.
func (j *job) lookupTeam(ctx context.Context, tk teamKey, cppKey cache.Key) (daemon.CompileResult, cache.Entry, bool, error) {
	team := j.s.opts.Team
	if team == nil || j.recache {
		return daemon.CompileResult{}, cache.Entry{}, false, nil
	}
	e, ok := j.getTeam(ctx, tk.key)
	if ok && e == nil && tk.guard != "" {
		e, ok = j.getTeam(ctx, j.teamPathKey(cppKey))
	}
	if !ok || e == nil || e.ExitCode != 0 || !hasAll(e.Files, j.kinds(false)) {
		j.count(cache.StatStorageMisses)
		return daemon.CompileResult{}, cache.Entry{}, false, nil
	}
	j.count(cache.StatStorageHits)
	if err := restoreOutputs(j.req.Dir, e.Files, j.paths, j.kinds(false)); err != nil {
		return daemon.CompileResult{}, cache.Entry{}, false, err
	}
	j.keepServed(cppKey, *e)
	return replay(*e, "remote storage hit"), *e, true, nil
}

// getTeam reads key: an entry, or (nil, true) for a pointer to the key of
// the unit at its place, or a miss.
func (j *job) getTeam(ctx context.Context, key cache.Key) (*cache.Entry, bool) {
	b, ok := j.s.opts.Team.Get(ctx, key.String())
	if !ok {
		return nil, false
	}
	e, err := decodeTeam(b)
	if err != nil {
		j.s.log.Warn("unusable team cache entry", "source", j.a.Source, "key", key.String(), "err", err)
		return nil, false
	}
	return e, true
}

// decodeTeam reads a payload: an entry, or nil for teamAtPath.
func decodeTeam(b []byte) (*cache.Entry, error) {
	if len(b) == 0 {
		return nil, errTeamPayload
	}
	switch b[0] {
	case teamAtPath:
		if len(b) != 1 {
			return nil, errTeamPayload
		}
		return nil, nil
	case teamEntry:
		e, err := badgerstore.DecodePortableEntry(b[1:])
		if err != nil {
			return nil, fmt.Errorf("team cache entry: %w", err)
		}
		return &e, nil
	}
	return nil, errTeamPayload
}

// shareTeam writes the result of a successful compile to the team cache,
// in the background: the outputs but the dependency file, under the team
// key when they name nothing of where this checkout is, else under the
// key of the unit at its place, with a pointer to it under the team key.
func (j *job) shareTeam(tk teamKey, cppKey cache.Key, e cache.Entry) {
	team := j.s.opts.Team
	if team == nil || j.readOnly {
		return
	}
	files := make(map[string][]byte, len(e.Files))
	for _, kind := range j.kinds(false) {
		if b, ok := e.Files[kind]; ok {
			files[kind] = b
		}
	}
	shared := cache.Entry{Files: files, Stdout: e.Stdout, Stderr: e.Stderr}
	enc, err := badgerstore.EncodePortableEntry(shared)
	if err != nil {
		j.s.log.Warn("encode team cache entry", "source", j.a.Source, "err", err)
		return
	}
	payload := append([]byte{teamEntry}, enc...)
	if teamShareable(shared, tk.guard) {
		team.Put(tk.key.String(), payload)
		if tk.guard != "" {
			j.teamShared = tk
			if _, wantDeps := j.paths[kindDeps]; wantDeps {
				j.teamDeps = map[string][]byte{kindDeps: e.Files[kindDeps], kindDepsTarget: e.Files[kindDepsTarget],
					kindDepsFlags: e.Files[kindDepsFlags]}
			}
		}
		return
	}
	team.Put(j.teamPathKey(cppKey).String(), payload)
	team.Put(tk.key.String(), []byte{teamAtPath})
}
