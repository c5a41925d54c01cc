package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// Set validates value for key and writes it into dir's config file, keeping
// the file's other keys and comments, creating the directory and the file if
// needed. The file is replaced atomically (a temporary file renamed over it).
// A file that is not valid TOML or holds an unknown key is left alone and
// reported: Set never clobbers what it cannot read.
func Set(dir, key, value string) error {
	k, err := lookupKey(key)
	if err != nil {
		return &Error{Kind: ErrUnknownKey, Err: err}
	}
	if err := k.parse(&Config{}, value); err != nil {
		return &Error{Key: key, Kind: ErrInvalid, Err: err}
	}
	path := FilePath(dir)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // rewrite a symlinked config file where it lives
	}
	doc, err := readDocument(path)
	if err != nil {
		return fmt.Errorf("config file left unchanged: %w", err)
	}
	line, err := toml.Marshal(map[string]any{key: tomlValue(k, value)})
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	line = bytes.TrimRight(line, "\n")
	var out []byte
	if e, ok := doc.exprs[key]; ok {
		out = append(append(append(out, doc.data[:e.start]...), line...), doc.data[e.end:]...)
	} else if doc.tablesAt >= 0 {
		// A new top-level key goes before the first table ([[hosts]]):
		// after it, it would belong to that table. It follows the last
		// top-level key if there is one.
		at := doc.tablesAt
		if doc.topEnd > 0 {
			at = doc.topEnd
		}
		out = append(out, doc.data[:at]...)
		out = append(append(out, line...), '\n')
		out = append(out, doc.data[at:]...)
	} else {
		out = append(out, doc.data...)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(append(out, line...), '\n')
	}
	// Check the edit reads back as intended before replacing anything.
	check, err := parseDocument(path, out)
	if err != nil {
		return fmt.Errorf("config file left unchanged: edit would not parse: %w", err)
	}
	if !readsBack(check, k, value) {
		return fmt.Errorf("config file left unchanged: %s = %q does not read back", key, value)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	return writeFileAtomic(path, out)
}

// tomlValue is the TOML value Set writes for a validated text value.
func tomlValue(k keyDef, value string) any {
	if k.typ == tomlBool {
		return asBool(k, value)
	}
	if k.name == "log_level" {
		return strings.ToLower(strings.TrimSpace(value))
	}
	return strings.TrimSpace(value)
}

// readsBack reports whether doc gives key k the value value.
func readsBack(doc *document, k keyDef, value string) bool {
	text, ok, err := doc.text(k)
	if err != nil || !ok {
		return false
	}
	got, want := &Config{}, &Config{}
	return k.parse(got, text) == nil && k.parse(want, value) == nil && k.show(got) == k.show(want)
}

// asBool reads a validated boolean value (false for other keys).
func asBool(k keyDef, value string) bool {
	if k.typ != tomlBool {
		return false
	}
	b, _ := parseBool(value)
	return b
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over path. The file keeps path's mode if it
// exists.
func writeFileAtomic(path string, data []byte) (err error) {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat config file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	return nil
}
