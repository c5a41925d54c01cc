package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// InitConfig writes the config file at path as a first run would (a fresh
// token, the defaults of the dcc directory dccDir), except that it names
// its TLS key by a path relative to the file's own directory
// (tls_file = "server-tls.pem"): the two go together, whether the file is
// read where it is (dcc-server --config /etc/dcc/server.conf) or copied
// elsewhere with its key. A file
// already there is kept as it is. Then, unless the file says tls = "off",
// it makes the TLS key the file names when there is none. It returns the
// file's configuration, whether it wrote the file, and the key (nil when
// tls is off).
func InitConfig(path, dccDir string) (*Config, bool, *HostKey, error) {
	created := false
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		token, err := NewToken()
		if err != nil {
			return nil, false, nil, err
		}
		c := DefaultConfig(dccDir)
		c.Tokens = []string{token}
		c.TLSFile = TLSFileName
		if created, err = writePrivateOnce(path, []byte(c.fileText())); err != nil {
			return nil, false, nil, err
		}
	} else if err != nil {
		return nil, false, nil, fmt.Errorf("check %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, nil, fmt.Errorf("read config file: %w", err)
	}
	cfg, err := ParseConfig(path, dccDir, data)
	if err != nil {
		return nil, false, nil, err
	}
	if cfg.Plaintext {
		return cfg, created, nil, nil
	}
	key, err := LoadHostKey(cfg.TLSFile, hostName())
	if err != nil {
		return nil, false, nil, err
	}
	return cfg, created, key, nil
}

// initConfigCommand runs --init-config PATH: it writes what is missing of
// the config file and its TLS key, and says what it did without showing the
// token (package managers keep a log of what their scripts print).
func initConfigCommand(path string, stdout io.Writer, fail func(int, error) int) int {
	if path == "" {
		return fail(ExitUsage, errors.New("--init-config wants the path of the config file to write"))
	}
	dir, err := Dir()
	if err != nil {
		return fail(ExitError, err)
	}
	abs, err := absPath(path, "")
	if err != nil {
		return fail(ExitUsage, fmt.Errorf("--init-config %s: %w", path, err))
	}
	cfg, created, key, err := InitConfig(abs, dir)
	if err != nil {
		return fail(ExitError, err)
	}
	if created {
		fmt.Fprintf(stdout, "dcc-server: wrote %s with a new token (clients need it: it is in the file)\n", cfg.File)
	} else {
		fmt.Fprintf(stdout, "dcc-server: %s exists: kept as it is\n", cfg.File)
	}
	switch {
	case key == nil:
		fmt.Fprintf(stdout, "dcc-server: tls is off: clients reach this host in plain TCP (plaintext = true)\n")
	case key.Created:
		fmt.Fprintf(stdout, "dcc-server: made a TLS key in %s: clients pin its fingerprint %s\n", cfg.TLSFile, key.Fingerprint)
	default:
		fmt.Fprintf(stdout, "dcc-server: the TLS key in %s has the fingerprint %s\n", cfg.TLSFile, key.Fingerprint)
	}
	return ExitOK
}
