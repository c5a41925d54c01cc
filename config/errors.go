package config

import (
	"errors"
	"strings"
)

// Errors callers test with errors.Is. Every error Load, LoadFrom and Set return
// for a bad configuration is an *Error wrapping one of them.
var (
	// ErrSyntax: the config file is not valid TOML.
	ErrSyntax = errors.New("malformed config file")
	// ErrUnknownKey: a key dcc does not know, in the file or given to Set.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalid: a known key with a value of the wrong type or out of range.
	ErrInvalid = errors.New("invalid value")
)

// Error is a configuration error: where it was found, the key concerned, and
// what is wrong, printed on one line ("/home/u/.dcc/config.toml:3: max_size:
// invalid size ...").
type Error struct {
	// Where is "FILE:LINE", "$DCC_MAX_SIZE", or empty for a value given to Set.
	Where string
	// Key is the configuration key, when known.
	Key string
	// Kind is ErrSyntax, ErrUnknownKey or ErrInvalid.
	Kind error
	// Err says what is wrong.
	Err error
}

// Error returns the one-line message.
func (e *Error) Error() string {
	var parts []string
	if e.Where != "" {
		parts = append(parts, e.Where)
	}
	if e.Key != "" {
		parts = append(parts, e.Key)
	}
	parts = append(parts, e.Err.Error())
	// A message is one line, whatever a value or a TOML message contains.
	return strings.ReplaceAll(strings.Join(parts, ": "), "\n", " ")
}

// Unwrap lets errors.Is match Kind and whatever Err wraps.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }
