package httpstore

import (
	"fmt"
	"strings"
)

// Layouts name where an entry lives under the storage's URL.
const (
	// LayoutFlat is URL/KEY.
	LayoutFlat = "flat"
	// LayoutSubdirs is URL/KEY[:2]/KEY[2:], as ccache's http storage
	// (and its default).
	LayoutSubdirs = "subdirs"
	// LayoutBazel is URL/ac/KEY, the action cache of Bazel's HTTP
	// caching protocol (bazel-remote, Bazel's nginx/WebDAV caches).
	LayoutBazel = "bazel"
)

// relPath returns the path of key's entry under the storage's URL in
// layout, refusing a key that is not lowercase hex of at least three
// digits (of exactly 64 for bazel, which bazel-remote requires of /ac/
// keys), since it would name another object or none.
func relPath(layout, key string) ([]string, error) {
	if len(key) < 3 || strings.Trim(key, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("key %q is not a hex digest", key)
	}
	switch layout {
	case LayoutFlat:
		return []string{key}, nil
	case LayoutSubdirs:
		return []string{key[:2], key[2:]}, nil
	case LayoutBazel:
		if len(key) != 64 {
			return nil, fmt.Errorf("key %q: the bazel layout wants 64 hex digits", key)
		}
		return []string{"ac", key}, nil
	}
	return nil, fmt.Errorf("unknown layout %q", layout)
}
