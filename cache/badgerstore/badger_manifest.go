package badgerstore

import (
	"cmp"
	"github.com/dcc-build/dcc/cache"
	"slices"
)

// addResult returns results with r first, without older results that have
// the same inputs as r, at most limit long.
func addResult(results []cache.ManifestResult, r cache.ManifestResult, limit int) []cache.ManifestResult {
	out := make([]cache.ManifestResult, 0, min(len(results)+1, limit))
	out = append(out, r)
	for _, old := range results {
		if len(out) == limit {
			break
		}
		if !sameInputs(old, r) {
			out = append(out, old)
		}
	}
	return out
}

// sameInputs reports whether a and b list the same files with the same
// digests and the same absent paths, in any order.
func sameInputs(a, b cache.ManifestResult) bool {
	if len(a.Files) != len(b.Files) || len(a.Absent) != len(b.Absent) {
		return false
	}
	byPath := func(x, y cache.FileDigest) int {
		if c := cmp.Compare(x.Path, y.Path); c != 0 {
			return c
		}
		return slices.Compare(x.Digest[:], y.Digest[:])
	}
	af, bf := slices.Clone(a.Files), slices.Clone(b.Files)
	slices.SortFunc(af, byPath)
	slices.SortFunc(bf, byPath)
	if !slices.Equal(af, bf) {
		return false
	}
	aa, ba := slices.Clone(a.Absent), slices.Clone(b.Absent)
	slices.Sort(aa)
	slices.Sort(ba)
	return slices.Equal(aa, ba)
}
