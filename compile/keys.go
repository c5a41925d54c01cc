package compile

import (
	"encoding/binary"
	"strings"

	"github.com/dcc-build/dcc/cache"
	"github.com/zeebo/blake3"
)

// keyVersion starts every key; change it whenever what goes into a key changes,
// so entries written under the old rules are never read under the new ones.
const keyVersion = "dcc-key-3"

// keyEnv lists the environment variables that change a compile's result or its
// diagnostics (ccache hashes the same set): include search paths, the time the
// time macros expand to, the diagnostics' language, and where gcc finds cc1.
var keyEnv = []string{
	"CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH", "OBJCPLUS_INCLUDE_PATH",
	"SOURCE_DATE_EPOCH", "LANG", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANGUAGE",
	"GCC_EXEC_PREFIX", "COMPILER_PATH", "GCC_COMPARE_DEBUG", "CCC_OVERRIDE_OPTIONS",
}

// uncacheableEnv lists environment variables that make the compiler write
// files dcc does not know about: such compiles run unchanged.
var uncacheableEnv = []string{"DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES"}

// keyBuilder hashes length-prefixed fields, so that no two different field
// sequences hash the same bytes.
type keyBuilder struct{ h *blake3.Hasher }

// newKey starts a key of the given kind ("direct", "cpp", ...).
func newKey(kind string) *keyBuilder {
	k := &keyBuilder{h: blake3.New()}
	k.str(keyVersion)
	k.str(kind)
	return k
}

// bytes adds one field.
func (k *keyBuilder) bytes(b []byte) *keyBuilder {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	_, _ = k.h.Write(n[:])
	_, _ = k.h.Write(b)
	return k
}

// str adds one string field.
func (k *keyBuilder) str(s string) *keyBuilder { return k.bytes([]byte(s)) }

// strs adds a list of strings as one field (its length, then each string).
func (k *keyBuilder) strs(list []string) *keyBuilder {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(list)))
	_, _ = k.h.Write(n[:])
	for _, s := range list {
		k.str(s)
	}
	return k
}

// digest adds a content digest.
func (k *keyBuilder) digest(d cache.Digest) *keyBuilder { return k.bytes(d[:]) }

// sum returns the key.
func (k *keyBuilder) sum() cache.Key {
	var key cache.Key
	copy(key[:], k.h.Sum(nil))
	return key
}

// envValues returns "NAME=value" for each variable of names set in env, in
// the order of names.
func envValues(env []string, names []string) []string {
	var out []string
	for _, name := range names {
		if v, ok := lookupEnv(env, name); ok {
			out = append(out, name+"="+v)
		}
	}
	return out
}

// lookupEnv finds a variable in an environment list (the last setting wins, as
// for a process).
func lookupEnv(env []string, name string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			val, found = v, true
		}
	}
	return val, found
}
