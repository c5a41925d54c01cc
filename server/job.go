package server

import (
	"encoding/binary"
	"path"
	"strings"
	"time"

	"github.com/zeebo/blake3"

	"github.com/dcc-build/dcc/protocol"
)

// Job is a CompileRequest that passed every check, ready to run.
type Job struct {
	req      *protocol.CompileRequest
	compiler Compiler
	// lang is the -x language, input the input file's name.
	lang, input string
	// debug: the object carries debug information, which must record the
	// client's directory.
	debug bool
	// limit is the job's time limit.
	limit time.Duration
	// sources is set for a job compiled from its sources.
	sources *sourcePlan
	// object is, for a replayed command (protocol.CompileRequest.Replay),
	// the object's clean absolute path on the client.
	object string
	// client names the client that sent the job, for the status page.
	client string
	// session is the session that sent it: slots are shared in turn
	// between sessions (slots.go).
	session string
}

// Prepare checks a request: a toolchain this server advertised, a known
// language, allowed arguments and, with debug information, an absolute
// clean ClientDir. Refusals are *Refusal.
func (r *Runner) Prepare(req *protocol.CompileRequest) (*Job, error) {
	comp, ok := r.opts.Toolchains.Lookup(req.Toolchain)
	if req.Bundle != "" {
		comp, ok = r.opts.Toolchains.LookupShipped(req.Toolchain, req.Bundle)
	}
	if !ok {
		return nil, refuse(protocol.CodeUnknownToolchain, "toolchain %s is not served here", quoteArg(req.Toolchain))
	}
	if req.Replay && comp.Root != "" {
		return nil, refuse(protocol.CodeForbiddenArg, "replay refused: a shipped toolchain's commands are not replayed")
	}
	check := CheckArgs
	if req.Replay {
		check = checkReplayArgs
	}
	if err := check(req.Args); err != nil {
		return nil, err
	}
	if err := CheckTarget(comp, req.Args); err != nil {
		return nil, err
	}
	j := &Job{req: req, compiler: comp, debug: debugInfo(req.Args), limit: r.opts.JobTimeout}
	if req.TimeoutMS > 0 {
		j.limit = min(j.limit, time.Duration(req.TimeoutMS)*time.Millisecond)
	}
	if len(req.Sources) > 0 {
		if err := r.prepareSources(req, j); err != nil {
			return nil, err
		}
		return j, nil
	}
	lang, ok := languages[req.Language]
	if !ok {
		return nil, refuse(protocol.CodeMalformed, "language %s refused: want c, c++, objective-c or objective-c++", quoteArg(req.Language))
	}
	j.lang, j.input = lang.x, inputName(req.SourceName, lang.ext)
	if j.debug {
		d := req.ClientDir
		if d == "" || !strings.HasPrefix(d, "/") || path.Clean(d) != d || strings.ContainsAny(d, "\x00\n\r") {
			return nil, refuse(protocol.CodeMalformed, "client directory %s refused: with -g it must be an absolute, clean path", quoteArg(d))
		}
	}
	return j, nil
}

// inputName is the job's input file: the base name of the client's source
// without its extension, reduced to [A-Za-z0-9._-], with ext ("x.i").
func inputName(source, ext string) string {
	base := source[strings.LastIndexAny(source, `/\`)+1:]
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	stem := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, base)
	stem = strings.TrimLeft(stem, ".-")
	if len(stem) > maxInputStem {
		stem = stem[:maxInputStem]
	}
	if stem == "" {
		stem = "input"
	}
	return stem + ext
}

// ResultKey is the job's key in the result cache: a digest of everything the
// object depends on (the toolchain, language, arguments, input file name,
// the client's directory when debug information records it, and the
// preprocessed text), computed by the server, so that no client can make
// another receive an object that was not compiled from the same request.
func (j *Job) ResultKey() [32]byte {
	h := blake3.New()
	field := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.WriteString(s)
	}
	field("dcc-server-result-v2")
	field(j.req.Toolchain)
	if j.req.Bundle != "" {
		// A shipped toolchain: its files, as this host received them.
		field("bundle")
		field(j.req.Bundle)
	}
	field(j.lang)
	field(j.input)
	for _, a := range j.req.Args {
		field(a)
	}
	field("\x00")
	if j.debug {
		field(j.req.ClientDir)
	}
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(j.req.Preprocessed)))])
	h.Write(j.req.Preprocessed)
	if j.sources != nil {
		// Compiled from its sources: everything the compile could read.
		field("sources")
		field(j.req.SourceName)
		field(j.req.ClientDir)
		field(j.req.Preinclude)
		field(j.req.Object)
		if j.req.Replay {
			field("replay")
		}
		for _, list := range [][]string{j.sources.includeArgs, j.req.SystemDirs, j.req.ExternCDirs} {
			for _, a := range list {
				field(a)
			}
			field("\x00")
		}
		for _, f := range j.req.Sources {
			field(f.Path)
			h.Write(n[:binary.PutVarint(n[:], f.ModTime)])
			h.Write(f.Digest[:]) // checked against the content in Prepare
		}
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}
