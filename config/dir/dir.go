// Package dir names dcc's per-user directory ($DCC_DIR, default ~/.dcc) and
// the daemon's files in it. It is all the wrapper needs of the configuration,
// and imports nothing that would slow the wrapper's start (no config parser).
package dir

import (
	"fmt"
	"path/filepath"

	"github.com/mitchellh/go-homedir"
)

// Resolve returns dcc's directory: $DCC_DIR (made absolute) when set and not
// empty, else ~/.dcc. env looks a variable up (os.LookupEnv, or a map's in
// tests).
func Resolve(env func(string) (string, bool)) (string, error) {
	if d, ok := env("DCC_DIR"); ok && d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("DCC_DIR %q: %w", d, err)
		}
		return abs, nil
	}
	home, err := homedir.Dir()
	if err != nil {
		return "", fmt.Errorf("find the home directory for ~/.dcc (or set DCC_DIR): %w", err)
	}
	return filepath.Join(home, ".dcc"), nil
}

// Socket returns the daemon's Unix socket in dir.
func Socket(dir string) string { return filepath.Join(dir, "daemon.sock") }

// Lock returns the lock file the daemon's starters and the daemon hold.
func Lock(dir string) string { return filepath.Join(dir, "daemon.lock") }

// Log returns the daemon's log file.
func Log(dir string) string { return filepath.Join(dir, "daemon.log") }
