package badgerstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// maxLogMessage bounds a Badger message passed on to slog.
const maxLogMessage = 300

// badgerLogger routes Badger's log to slog: errors as errors, warnings as
// warnings, info and debug as debug. Messages are cut at their first line
// and at maxLogMessage bytes, because some Badger messages embed a hexdump
// of a value.
type badgerLogger struct{ l *slog.Logger }

func newBadgerLogger(l *slog.Logger) badgerLogger {
	return badgerLogger{l.With("component", "badger")}
}

func (b badgerLogger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !b.l.Enabled(ctx, level) {
		return
	}
	b.l.Log(ctx, level, sanitize(fmt.Sprintf(format, args...)))
}

// sanitize keeps the first line of msg, at most maxLogMessage bytes of it.
func sanitize(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] + " [...]"
	}
	if len(msg) > maxLogMessage {
		msg = msg[:maxLogMessage] + " [...]"
	}
	return msg
}

func (b badgerLogger) Errorf(f string, a ...any)   { b.log(slog.LevelError, f, a) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a) }
func (b badgerLogger) Infof(f string, a ...any)    { b.log(slog.LevelDebug, f, a) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.log(slog.LevelDebug, f, a) }

// badgerError wraps an error from Badger with context and a message cut like
// sanitize, keeping it reachable by errors.Is.
type badgerError struct {
	op  string
	err error
}

func (e *badgerError) Error() string { return "cache: " + e.op + ": " + sanitize(e.err.Error()) }
func (e *badgerError) Unwrap() error { return e.err }

func wrapBadger(op string, err error) error {
	if err == nil {
		return nil
	}
	return &badgerError{op: op, err: err}
}
