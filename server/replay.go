package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
)

// A replayed command (protocol.CompileRequest.Replay) is the client's own
// command line, run as it is in the client's directory, in a sandbox made
// for the job that shows the files sent at their own paths: each directory
// holding them (and the client's directory, and the object's) is bound from
// the job's tree onto its path, over the host's own where there is one (so
// the client's /usr/include hides the host's). For commands whose object
// records the command line itself, which no rewritten command can give:
// clang-cl's /Z7 puts its cc1 command line into CodeView's LF_BUILDINFO.
// The compiler is the host's copy of the client's (by toolchain key), at
// the same path; what it could read is the host's installation of it and
// the files sent, and what it writes lands in the tree, where only the
// object is read back.

// replayDrivers are the driver modes whose commands may be replayed.
var replayDrivers = []string{"clang-cl"}

// replayDeniedArgs are substrings of arguments a replayed command may not
// have: loading code into the compiler.
var replayDeniedArgs = []string{"plugin", "-load"}

// checkReplayArgs checks a replayed command's arguments: no NUL or line
// break, nothing that loads code into the compiler, no response file (the
// file would be the host's).
func checkReplayArgs(args []string) error {
	if len(args) > protocol.MaxArgs {
		return refuse(protocol.CodeTooLarge, "%d arguments, more than %d", len(args), protocol.MaxArgs)
	}
	for _, a := range args {
		switch {
		case strings.ContainsAny(a, "\x00\n\r"):
			return refuse(protocol.CodeForbiddenArg, "argument %s refused: it contains a NUL or line break", quoteArg(a))
		case strings.HasPrefix(a, "@"):
			return refuse(protocol.CodeForbiddenArg, "argument %s refused: a response file", quoteArg(a))
		}
		for _, d := range replayDeniedArgs {
			if strings.Contains(a, d) {
				return refuse(protocol.CodeForbiddenArg, "argument %s refused: it loads code into the compiler", quoteArg(a))
			}
		}
	}
	return nil
}

// prepareReplay checks a replayed command: a toolchain whose commands may
// be replayed, sources, a clean absolute client directory, a source among
// the files, and an object inside the tree.
func (r *Runner) prepareReplay(req *protocol.CompileRequest, j *Job) error {
	if j.compiler.Family != toolchain.FamilyMSVC || !slices.Contains(replayDrivers, j.compiler.Info.Driver) {
		return refuse(protocol.CodeMalformed, "replay refused: toolchain %s is not one of %s", quoteArg(req.Toolchain), strings.Join(replayDrivers, ", "))
	}
	if !cleanAbs(req.ClientDir) || req.ClientDir == "/" {
		return refuse(protocol.CodeMalformed, "client directory %s refused: it must be an absolute, clean path below the root", quoteArg(req.ClientDir))
	}
	if err := r.fillSources(req); err != nil {
		return err
	}
	files := make(map[string]bool, len(req.Sources))
	for _, f := range req.Sources {
		if !cleanAbs(f.Path) || f.Path == "/" || files[f.Path] {
			return refuse(protocol.CodeMalformed, "source path %s refused: it must be an absolute, clean file path, sent once", quoteArg(f.Path))
		}
		files[f.Path] = true
	}
	if p, ok := clientPath(req.ClientDir, req.SourceName); !ok || !files[p] || req.SourceName == "" {
		return refuse(protocol.CodeMalformed, "source name %s refused: it is not one of the files sent", quoteArg(req.SourceName))
	}
	obj, ok := clientPath(req.ClientDir, req.Object)
	if !ok || req.Object == "" || strings.ContainsAny(req.Object, "\x00\n\r") || files[obj] || path.Dir(obj) == "/" {
		return refuse(protocol.CodeMalformed, "object %s refused: want a file name below a directory, not one of the files sent", quoteArg(req.Object))
	}
	j.input = path.Base(req.SourceName)
	j.object = obj
	j.sources = &sourcePlan{dirs: []string{req.ClientDir, path.Dir(obj)}}
	return nil
}

// replayRoots returns the directories of the client bound onto their own
// paths for a replayed job: those holding the files sent, the client's
// directory and the object's, without those inside another.
func replayRoots(req *protocol.CompileRequest, plan *sourcePlan) []string {
	set := map[string]bool{}
	for _, f := range req.Sources {
		set[path.Dir(f.Path)] = true
	}
	for _, d := range plan.dirs {
		set[d] = true
	}
	var roots []string
	for d := range set {
		inside := false
		for p := path.Dir(d); !inside && p != "/"; p = path.Dir(p) {
			inside = set[p]
		}
		if !inside {
			roots = append(roots, d)
		}
	}
	slices.Sort(roots)
	return roots
}

// replayMounts returns bubblewrap's arguments that bind the tree's roots
// onto their paths, read-only but for the object's directory. A root that
// would hide what the sandbox itself mounts (/usr, the compilers'
// directories, /tmp, ...), that has no mount point (below a read-only
// directory of the host where the host has no such directory), or that is
// in or above one of the server's private directories is refused.
func replayMounts(tree string, roots []string, objectDir string, mounted, private []string) ([]string, error) {
	var args []string
	for _, root := range roots {
		for _, p := range private {
			if root == p || strings.HasPrefix(root, p+"/") || strings.HasPrefix(p, root+"/") {
				return nil, refuse(protocol.CodeForbiddenArg, "the client's directory %s is this host's own", quoteArg(root))
			}
		}
		for _, m := range mounted {
			if root == "/" || m == root || strings.HasPrefix(m, root+"/") {
				return nil, refuse(protocol.CodeForbiddenArg, "the client's directory %s would hide %s on this host", quoteArg(root), m)
			}
			if strings.HasPrefix(root, m+"/") && m != "/tmp" {
				if info, err := os.Stat(root); err != nil || !info.IsDir() {
					return nil, refuse(protocol.CodeForbiddenArg, "the client's directory %s is not a directory of this host's %s", quoteArg(root), m)
				}
			}
		}
		args = append(args, "--ro-bind", tree+root, root)
	}
	return append(args, "--bind", tree+objectDir, objectDir), nil
}

// sandboxMountPoints are the paths a sandbox's common arguments mount.
func sandboxMountPoints(fixed []string) []string {
	var out []string
	for i := 0; i < len(fixed); i++ {
		switch fixed[i] {
		case "--ro-bind", "--bind", "--ro-bind-try", "--symlink":
			if i+2 < len(fixed) {
				out = append(out, fixed[i+2])
				i += 2
			}
		case "--dev", "--proc", "--tmpfs", "--mqueue":
			if i+1 < len(fixed) {
				out = append(out, fixed[i+1])
				i++
			}
		}
	}
	return out
}

// compileReplay runs a replayed command in a sandbox made for it.
func (r *Runner) compileReplay(ctx context.Context, j *Job) (*protocol.CompileResult, error) {
	if r.boxes == nil {
		return nil, refuse(protocol.CodeForbiddenArg, "replay refused: this host runs jobs without a sandbox")
	}
	treeParent, err := r.newTreeDir(r.treeDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := os.RemoveAll(treeParent); err != nil {
			r.log.Warn("removing a job's tree", "dir", treeParent, "err", err)
		}
	}()
	tree := filepath.Join(treeParent, treeName)
	if err := layOut(tree, j.req, j.sources); err != nil {
		return nil, err
	}
	objDir := path.Dir(j.object)
	if sb := r.opts.sandbox; sb != nil && sb.dropsUser() {
		// The job's user writes the object (and nothing else of the tree).
		if err := os.Chown(tree+objDir, int(sb.cred.Uid), int(sb.cred.Gid)); err != nil {
			return nil, fmt.Errorf("give the object's directory to user %s: %w", sb.user, err)
		}
	}
	mounts, err := replayMounts(tree, replayRoots(j.req, j.sources), objDir,
		sandboxMountPoints(r.boxes.sb.fixed), []string{r.jobDir, r.treeDir})
	if err != nil {
		return nil, err
	}
	slot, err := r.boxes.startWith(mounts)
	if err != nil {
		r.metrics.sandboxFailed()
		return nil, err
	}
	defer r.boxes.discard(slot)
	dir, err := newJobDir(r.opts.sandbox, slot.jobs)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithTimeout(ctx, j.limit)
	defer cancel()
	env := []string{"PATH=" + r.path, "PWD=" + j.req.ClientDir, "TMPDIR=" + dir}
	argv := append([]string{j.compiler.Path}, j.req.Args...)
	start := time.Now()
	run, err := r.runInSlot(runCtx, slot, dir, j.req.ClientDir, argv, env)
	if err != nil && runCtx.Err() == nil {
		r.metrics.sandboxFailed()
	}
	if err := r.jobEnded(ctx, runCtx, j, run, err); err != nil {
		return nil, err
	}
	res := &protocol.CompileResult{ExitCode: statusCode(run.status), Stdout: run.stdout, Stderr: run.stderr}
	r.log.Debug("replayed", "source", j.input, "exit", res.ExitCode, "elapsed", time.Since(start))
	if res.ExitCode != 0 {
		return res, nil
	}
	room := protocol.MaxMessageSize - len(res.Stdout) - len(res.Stderr) - 64<<10
	obj, err := readLimited(tree+j.object, room)
	if err != nil {
		return nil, err
	}
	if len(obj) == 0 {
		return nil, errors.New("the replayed command wrote an empty object")
	}
	res.Object = obj
	return res, nil
}
