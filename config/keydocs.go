package config

import "strconv"

// KeyDoc documents one configuration key, for the generated reference
// (docs/configuration.md and the man page): the same table dcc config reads.
type KeyDoc struct {
	// Name is the key in config.toml; Env the environment variable that
	// overrides it ("" when none).
	Name, Env string
	// Default is the default in the form the file takes ("" when none).
	Default string
	// Doc says what the key does, in one line.
	Doc string
	// Secret keys are never shown by dcc config.
	Secret bool
}

// KeyDocs returns the top-level keys in the order dcc config shows them.
func KeyDocs() []KeyDoc {
	out := make([]KeyDoc, 0, len(keys))
	for _, k := range keys {
		out = append(out, KeyDoc{Name: k.name, Env: k.env, Default: k.def, Doc: k.doc, Secret: k.secret})
	}
	return out
}

// hostKeyDocs says what each key of a [[hosts]] entry does.
var hostKeyDocs = map[string]string{
	"connect":         "the host's address, HOST:PORT (dcc-server listens on port 9693 by default)",
	"token":           "the token the host accepts (default: the top-level token)",
	"njob":            "compile slots this client may use on the host at once (default " + strconv.Itoa(DefaultJobs) + ")",
	"connect_timeout": "how long to wait for the host to answer a connection (default: the top-level connect_timeout)",
	"send_timeout":    "how long sending one unit may take (default: the top-level send_timeout)",
	"recv_timeout":    "how long to wait for a unit's result (default: the top-level recv_timeout)",
	"fingerprint":     "the sha256: fingerprint of the host's TLS key (dcc-server --fingerprint prints it); required unless plaintext",
	"plaintext":       "true: plain TCP, unencrypted, to a host with tls = \"off\"",
}

// HostKeyDocs returns the keys of a [[hosts]] entry, in the order errors list them.
func HostKeyDocs() []KeyDoc {
	out := make([]KeyDoc, 0, len(hostKeys))
	for _, k := range hostKeys {
		out = append(out, KeyDoc{Name: k, Doc: hostKeyDocs[k], Secret: k == "token"})
	}
	return out
}

// EnvDoc documents an environment variable that is not a key's override.
type EnvDoc struct {
	// Name is the variable; Doc says what it does.
	Name, Doc string
}

// EnvDocs returns the environment variables dcc reads besides the keys'
// DCC_<KEY> overrides.
func EnvDocs() []EnvDoc {
	return []EnvDoc{
		{"DCC_DIR", "dcc's directory: config.toml, the cache, the daemon's socket, pid file and log (default ~/.dcc; keep it short, a socket path is limited to 108 bytes)"},
		{"DCC_HOSTS", "compile hosts, replacing the file's [[hosts]] and turning remote on: ADDR:PORT/NJOB,fingerprint=sha256:... (or ,plaintext), separated by spaces"},
		{"DCC_LOG", "append one JSON line per compile to this file: dcc's decision, the outcome and why a miss missed"},
		{"DCC_RECACHE", "1: compile without looking the result up, and store it over what the cache held"},
		{"DCC_READONLY", "1: look the local, shared and team caches up, but store nothing in any"},
		{"DCC_PROJECT", "the project namespace on hosts and in dcc clean --remote (default: the base name of the nearest directory holding .git)"},
		{"DCC_CPUPROFILE", "in the environment of the daemon's start: write a CPU profile of its whole run to this file"},
	}
}
