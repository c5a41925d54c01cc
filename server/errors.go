package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dcc-build/dcc/protocol"
)

// Refusal is a request the server will not carry out, with the protocol error
// code the client receives (protocol.CodeForbiddenArg, CodeBusy, ...) and a
// one-line reason.
type Refusal struct {
	// Code is one of the protocol's Code constants.
	Code string
	// Message says what was refused and why, on one line.
	Message string
}

// Error returns "code: message".
func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

// refuse builds a *Refusal whose message is formatted and kept to one line.
func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: oneLine(fmt.Sprintf(format, args...))}
}

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("server: closed")

// toMessage turns an error from a handler into the Error message the client
// receives: a *Refusal keeps its code, anything else is "internal".
func toMessage(err error) *protocol.Error {
	var r *Refusal
	if errors.As(err, &r) {
		return &protocol.Error{Code: r.Code, Message: r.Message}
	}
	return &protocol.Error{Code: protocol.CodeInternal, Message: oneLine(err.Error())}
}

// maxMessageLine bounds the messages the server puts in an Error.
const maxMessageLine = 1024

// oneLine replaces line breaks and other control characters in s and cuts it
// to maxMessageLine bytes, so that what a client sent can't forge log lines.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxMessageLine {
		s = s[:maxMessageLine] + "..."
	}
	return s
}

// quoteArg shows an argument a client sent in a message: quoted, cut to a
// readable length.
func quoteArg(s string) string {
	const maxLen = 200
	if len(s) > maxLen {
		return fmt.Sprintf("%q...", s[:maxLen])
	}
	return fmt.Sprintf("%q", s)
}
