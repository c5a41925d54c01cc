package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// defaultFile is the config file written on first run: every key at its
// default, each with a comment saying what it does.
func defaultFile() string {
	var b strings.Builder
	b.WriteString("# dcc's configuration. Environment variables override these values\n")
	b.WriteString("# (DCC_MAX_SIZE, ...); \"dcc config\" shows the effective ones.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "\n# %s (environment: %s)\n", k.doc, k.env)
		if k.typ == tomlBool {
			fmt.Fprintf(&b, "%s = %s\n", k.name, k.def)
		} else {
			fmt.Fprintf(&b, "%s = %s\n", k.name, strconv.Quote(k.def))
		}
	}
	b.WriteString(`
# Compile hosts, one [[hosts]] table each (environment: DCC_HOSTS="127.0.0.2:9693/4
# 127.0.0.3:9693/8" replaces them, with DCC_TOKEN). connect is required; njob
# (default 4) is how many compiles the host gets at once; token and the
# timeouts default to the keys above. "dcc connect" checks them. The wire is
# TLS: fingerprint pins the host's key (dcc-server --fingerprint prints it on
# the host; in DCC_HOSTS: "HOST:PORT/NJOB,fingerprint=sha256:..."). A host with
# tls = "off" is reached only with plaintext = true (",plaintext"), unencrypted.
#
# [[hosts]]
# connect = "127.0.0.2:9693"
# token = "the token dcc-server printed"
# fingerprint = "the sha256:... fingerprint dcc-server printed"
# njob = 4
# recv_timeout = "10m"
`)
	return b.String()
}

// WriteDefaultIfMissing writes dir's config file with every key at its
// default when there is none yet (first run), atomically; an existing file is
// never touched. It reports whether it wrote one.
func WriteDefaultIfMissing(dir string) (bool, error) {
	path := FilePath(dir)
	if _, err := os.Lstat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.toml")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(defaultFile()); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	// Link, not rename: a file created meanwhile by another process wins.
	if err := os.Link(tmp.Name(), filepath.Clean(path)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}
