package compile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/remote"
	"github.com/dcc-build/dcc/toolchain"
)

// Replayed commands: a clang-cl unit goes to a host with its sources, found
// by the scan as a gcc or clang unit's are (with MSVC's rule that a quoted
// name is also looked for beside every file on the include stack), and the
// host runs the command exactly as given under the client's own paths
// (protocol.CompileRequest.Replay). clang-cl's /Z7 records its cc1 command
// line in the object, so nothing short of the command itself gives the same
// bytes. The files sent are the result's manifest: more than the compile
// read, never less.

// replayEnv are the variables from which clang-cl takes options or
// directories: a host runs the command without them.
var replayEnv = []string{"INCLUDE", "EXTERNAL_INCLUDE", "CL", "_CL_", "CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "SOURCE_DATE_EPOCH"}

// replayCandidate reports whether this compile may be replayed on a host:
// a clang-cl compile the classifier found replayable, hosts configured and
// sources allowed, writing only its object, with none of replayEnv set.
func (j *job) replayCandidate() bool {
	r := j.s.opts.Remote
	if r.Farm == nil || j.recache || r.Sources == "off" || !j.a.RemoteFromSources ||
		j.a.Family != toolchain.FamilyMSVC || j.id.Driver != "clang-cl" || !filepath.IsAbs(j.req.Dir) {
		return false
	}
	for kind := range j.paths {
		if kind != kindObject {
			return false
		}
	}
	for _, name := range replayEnv {
		if _, set := lookupEnv(j.req.Env, name); set {
			return false
		}
	}
	return true
}

// replaySearch returns the include options (-I, as gatherSources reads
// them) and the system directories of the command's cc1 line, which
// clang-cl's driver shows with -###.
func (j *job) replaySearch(ctx context.Context) (incArgs []string, system clangDirs, err error) {
	argv := append(append([]string{j.req.Real}, j.a.Args...), "-###")
	out, err := runProcess(ctx, j.req.Dir, j.req.Env, argv)
	if err != nil {
		return nil, system, err
	}
	user, dirs, err := parseReplayDirs(out.stderr)
	if err != nil {
		return nil, system, err
	}
	for _, d := range user {
		incArgs = append(incArgs, "-I"+d)
	}
	return incArgs, clangDirs{dirs: dirs}, nil
}

// parseReplayDirs reads the user (-I) and system (-internal-isystem,
// -internal-externc-isystem, -isystem) directories of the one cc1 command
// in clang's -### output, and fails on any other option that adds to the
// search or includes a file.
func parseReplayDirs(shown []byte) (user, system []string, err error) {
	cmd, err := oneCC1Command(shown)
	if err != nil {
		return nil, nil, err
	}
	for i := 2; i < len(cmd); i++ {
		a := cmd[i]
		switch {
		case a == "-I" || a == "-internal-isystem" || a == "-internal-externc-isystem" || a == "-isystem":
			if i+1 == len(cmd) || cmd[i+1] == "" {
				return nil, nil, fmt.Errorf("%s without a directory", a)
			}
			i++
			if a == "-I" {
				user = append(user, cmd[i])
			} else {
				system = append(system, cmd[i])
			}
		case strings.HasPrefix(a, "-I") && len(a) > 2:
			user = append(user, a[2:])
		case a == "-nostdsysteminc" || a == "-nobuiltininc":
		case strings.HasPrefix(a, "-i") || strings.HasPrefix(a, "-internal") || strings.HasPrefix(a, "-fsystem-include"):
			return nil, nil, fmt.Errorf("cc1 option %s: not followed by dcc's scan", a)
		}
	}
	return user, system, nil
}

// tryReplay sends this clang-cl unit to a host to be replayed. ok is false
// when it cannot or the host did not compile it cleanly: the unit then
// compiles here.
func (j *job) tryReplay(ctx context.Context, directKey cache.Key) (res daemon.CompileResult, ok bool, err error) {
	incArgs, system, err := j.replaySearch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return res, false, ctx.Err()
		}
		j.fellBack("clang-cl's search directories: %v", err)
		return res, false, nil
	}
	j.replayDirs = &system
	set, err := j.gatherSources(ctx, incArgs)
	if err != nil {
		if !errors.Is(err, errNotFromSources) && ctx.Err() != nil {
			return res, false, err
		}
		j.s.log.Debug("not replayed on a host", "source", j.a.Source, "why", err)
		j.fellBack("%v", err)
		return res, false, nil
	}
	if set.size <= j.s.opts.Remote.LocalThreshold {
		j.noHost = true
		j.fellBack("small: %d bytes with its sources, local_threshold %d", set.size, j.s.opts.Remote.LocalThreshold)
		return res, false, nil
	}
	// No deadline here (see compileRemote): the farm bounds each attempt.
	req := &protocol.CompileRequest{
		Toolchain: j.id.Key(), Language: j.a.Language, Args: j.a.Args, SourceName: j.a.Source,
		ClientDir: filepath.Clean(j.req.Dir), Project: j.project(), TimeoutMS: j.s.remoteTimeout().Milliseconds(),
		Sources: set.files, Replay: true, Object: j.a.Outputs.Object,
	}
	rres, host, err := j.s.opts.Remote.Farm.Compile(ctx, j.id.Key(), req)
	switch {
	case errors.Is(err, remote.ErrNoHost):
		j.noHost = true
		j.fellBack("no free host")
		return res, false, nil
	case err != nil:
		j.noHost = true
		j.s.log.Warn("replay on a host failed: compiling here", "source", j.a.Source, "host", host, "err", err)
		j.s.count(cache.StatFallbacks)
		j.fellBack("host %s failed: %v", host, err)
		return res, false, nil
	case rres.ExitCode != 0:
		j.s.count(cache.StatRemoteReruns)
		j.fellBack("the replay on %s failed: run again here", host)
		return res, false, nil
	}
	sent := make([]string, len(set.files))
	for i, f := range set.files {
		sent[i] = f.Path
	}
	reason := j.missReason() + ", replayed on " + host + " with its sources"
	// The command ran as here, under the same paths: its warnings are the
	// ones a compile here prints, kept with the result as a local
	// compile's are.
	res, ok, err = j.finishSources(ctx, directKey, set, rres.Object, output{stdout: rres.Stdout, stderr: rres.Stderr}, sent, reason)
	if !ok || err != nil {
		j.s.log.Warn("replay on a host: compiling here", "source", j.a.Source, "host", host, "why", res.Reason, "err", err)
		j.s.count(cache.StatFallbacks)
		j.fellBack("the result from %s is unusable (%s)", host, res.Reason)
		return daemon.CompileResult{}, false, err
	}
	j.count(cache.StatMisses, cache.StatRemote, cache.StatRemoteSources, cache.StatHostPrefix+host)
	return res, true, nil
}
