package remote

import (
	"sync"

	"github.com/dcc-build/dcc/protocol"
)

// maxSentFiles bounds the digests remembered per host; past it the memory
// starts over (the files then go whole once more).
const maxSentFiles = 1 << 18

// sentFiles remembers which file contents a host was sent whole on its
// current session, so that later jobs name them by digest: each header
// crosses the wire once per host, not once per unit. A host that no longer
// keeps one refuses the job as missing its sources, and the job goes again
// whole. It is safe for concurrent use.
type sentFiles struct {
	mu     sync.Mutex
	gen    uint64 // the session the digests were sent on
	hashes map[[32]byte]struct{}
}

// elide returns files with those already sent on session gen named by
// digest only. The result shares nothing with files that is changed.
func (s *sentFiles) elide(gen uint64, files []protocol.SourceFile) []protocol.SourceFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		s.gen, s.hashes = gen, nil
	}
	out := make([]protocol.SourceFile, len(files))
	for i, f := range files {
		out[i] = f
		if _, ok := s.hashes[f.Digest]; ok {
			out[i].ByDigest, out[i].Data = true, nil
		}
	}
	return out
}

// add remembers that files went to the host on session gen.
func (s *sentFiles) add(gen uint64, files []protocol.SourceFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen || s.hashes == nil || len(s.hashes)+len(files) > maxSentFiles {
		s.gen, s.hashes = gen, make(map[[32]byte]struct{}, len(files))
	}
	for _, f := range files {
		s.hashes[f.Digest] = struct{}{}
	}
}

// forget drops what the host was sent: it keeps less than was thought.
func (s *sentFiles) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashes = nil
}
