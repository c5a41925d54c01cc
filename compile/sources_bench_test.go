package compile

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dcc-build/dcc/daemon"
	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
)

// deflateUnit sets up zlib's deflate.c as a unit sent with its sources: a
// service whose farm is a runner in this process, the job, and its files.
func deflateUnit(b *testing.B) (*job, *runnerFarm, *sourceSet) {
	b.Helper()
	dir, _ := filepath.Abs("../.work/src/zlib/zlib-1.2.13.dfsg")
	if _, err := os.Stat(filepath.Join(dir, "deflate.c")); err != nil {
		b.Skip("zlib sources not fetched")
	}
	s, farm := newSourcesService(b, "all")
	const gcc = "/usr/bin/gcc"
	id, err := s.opts.Prober.Probe(b.Context(), gcc)
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"-O2", "-D_REENTRANT", "-c", "deflate.c", "-o", "deflate.o"}
	a := toolchain.Classify(toolchain.Command{Compiler: "gcc", Args: args, Dir: dir, Family: id.Family, Driver: id.Driver})
	j := &job{s: s, req: daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Args: args}, a: &a, id: id, paths: outputPaths(a.Outputs)}
	inc, _ := includeArgs(a.PreprocessorArgs)
	set, err := j.gatherSources(b.Context(), inc)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d files, %d bytes", len(set.files), set.size)
	return j, farm, set
}

// sourcesRequest is the compile request of j sending set.
func sourcesRequest(j *job, set *sourceSet) *protocol.CompileRequest {
	return &protocol.CompileRequest{Toolchain: j.id.Key(), Language: j.a.Language, Args: j.a.CodegenArgs, SourceName: j.a.Source,
		ClientDir: j.req.Dir, Sources: set.files, IncludeArgs: set.incArgs, SystemDirs: set.systemDirs, Preinclude: set.preinclude}
}

// BenchmarkGatherSources finds the files zlib's deflate.c could read, as a
// unit sent with its sources does (the daemon's scans memoized).
func BenchmarkGatherSources(b *testing.B) {
	j, _, set := deflateUnit(b)
	b.ResetTimer()
	for range b.N {
		if _, err := j.gatherSources(b.Context(), set.incArgs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeSourcesRequest frames deflate.c's request with its
// sources, as the daemon sends it.
func BenchmarkEncodeSourcesRequest(b *testing.B) {
	j, _, set := deflateUnit(b)
	req := sourcesRequest(j, set)
	b.ResetTimer()
	for range b.N {
		if err := protocol.WriteMessage(io.Discard, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostCompileFromSources runs deflate.c's job on a host (a runner
// in this process): sent with its sources, and as preprocessed text.
func BenchmarkHostCompileFromSources(b *testing.B) {
	j, farm, set := deflateUnit(b)
	text, _, err := j.preprocess(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	cpp := &protocol.CompileRequest{Toolchain: j.id.Key(), Language: j.a.Language, Args: j.a.CodegenArgs,
		SourceName: j.a.Source, ClientDir: j.req.Dir, Preprocessed: text}
	for _, bc := range []struct {
		name string
		req  *protocol.CompileRequest
	}{{"sources", sourcesRequest(j, set)}, {"preprocessed", cpp}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				res, _, err := farm.Compile(b.Context(), j.id.Key(), bc.req)
				if err != nil || res.ExitCode != 0 {
					b.Fatal(err, res)
				}
			}
		})
	}
}
