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

// BenchmarkGatherSources finds the files zlib's deflate.c could read, as a
// unit sent with its sources does (the daemon's scans memoized).
func BenchmarkGatherSources(b *testing.B) {
	dir, _ := filepath.Abs("../.work/src/zlib/zlib-1.2.13.dfsg")
	if _, err := os.Stat(filepath.Join(dir, "deflate.c")); err != nil {
		b.Skip("zlib sources not fetched")
	}
	s, _ := newSourcesService(b, "all")
	gcc := "/usr/bin/gcc"
	id, err := s.opts.Prober.Probe(b.Context(), gcc)
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"-O2", "-D_REENTRANT", "-c", "deflate.c", "-o", "deflate.o"}
	a := toolchain.Classify(toolchain.Command{Compiler: "gcc", Args: args, Dir: dir, Family: id.Family, Driver: id.Driver})
	j := &job{s: s, req: daemon.CompileRequest{Compiler: "gcc", Real: gcc, Dir: dir, Args: args}, a: &a, id: id, paths: outputPaths(a.Outputs)}
	inc, _ := includeArgs(a.PreprocessorArgs)
	set, _, _, err := j.gatherSources(b.Context(), inc)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(set.files)), "files")
	b.ReportMetric(float64(set.size), "bytes")
	b.ResetTimer()
	for range b.N {
		if _, _, _, err := j.gatherSources(b.Context(), inc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeSourcesRequest frames deflate.c's request with its
// sources, as the daemon sends it.
func BenchmarkEncodeSourcesRequest(b *testing.B) {
	dir, _ := filepath.Abs("../.work/src/zlib/zlib-1.2.13.dfsg")
	if _, err := os.Stat(filepath.Join(dir, "deflate.c")); err != nil {
		b.Skip("zlib sources not fetched")
	}
	s, _ := newSourcesService(b, "all")
	id, err := s.opts.Prober.Probe(b.Context(), "/usr/bin/gcc")
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"-O2", "-D_REENTRANT", "-c", "deflate.c", "-o", "deflate.o"}
	a := toolchain.Classify(toolchain.Command{Compiler: "gcc", Args: args, Dir: dir, Family: id.Family, Driver: id.Driver})
	j := &job{s: s, req: daemon.CompileRequest{Compiler: "gcc", Real: "/usr/bin/gcc", Dir: dir, Args: args}, a: &a, id: id, paths: outputPaths(a.Outputs)}
	inc, _ := includeArgs(a.PreprocessorArgs)
	set, builtin, pre, err := j.gatherSources(b.Context(), inc)
	if err != nil {
		b.Fatal(err)
	}
	req := &protocol.CompileRequest{Toolchain: id.Key(), Language: "c", Args: a.CodegenArgs, SourceName: a.Source,
		ClientDir: dir, Sources: set.files, IncludeArgs: inc, SystemDirs: builtin, Preinclude: pre}
	b.Logf("%d files, %d bytes", len(set.files), set.size)
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
	dir, _ := filepath.Abs("../.work/src/zlib/zlib-1.2.13.dfsg")
	if _, err := os.Stat(filepath.Join(dir, "deflate.c")); err != nil {
		b.Skip("zlib sources not fetched")
	}
	s, farm := newSourcesService(b, "all")
	id, err := s.opts.Prober.Probe(b.Context(), "/usr/bin/gcc")
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"-O2", "-D_REENTRANT", "-c", "deflate.c", "-o", "deflate.o"}
	a := toolchain.Classify(toolchain.Command{Compiler: "gcc", Args: args, Dir: dir, Family: id.Family, Driver: id.Driver})
	j := &job{s: s, req: daemon.CompileRequest{Compiler: "gcc", Real: "/usr/bin/gcc", Dir: dir, Args: args}, a: &a, id: id, paths: outputPaths(a.Outputs)}
	inc, _ := includeArgs(a.PreprocessorArgs)
	set, builtin, pre, err := j.gatherSources(b.Context(), inc)
	if err != nil {
		b.Fatal(err)
	}
	src := &protocol.CompileRequest{Toolchain: id.Key(), Language: "c", Args: a.CodegenArgs, SourceName: a.Source,
		ClientDir: dir, Sources: set.files, IncludeArgs: inc, SystemDirs: builtin, Preinclude: pre}
	text, _, err := j.preprocess(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	cpp := &protocol.CompileRequest{Toolchain: id.Key(), Language: "c", Args: a.CodegenArgs, SourceName: a.Source,
		ClientDir: dir, Preprocessed: text}
	for _, bc := range []struct {
		name string
		req  *protocol.CompileRequest
	}{{"sources", src}, {"preprocessed", cpp}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				res, _, err := farm.Compile(b.Context(), id.Key(), bc.req)
				if err != nil || res.ExitCode != 0 {
					b.Fatal(err, res)
				}
			}
		})
	}
}
