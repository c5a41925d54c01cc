package server

import (
	"io"
	"log/slog"
)

// LogLevel is the level of the -v and -D flags: debug with -D, info with
// -v, warnings and errors otherwise.
func LogLevel(verbose, debug bool) slog.Level {
	switch {
	case debug:
		return slog.LevelDebug
	case verbose:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// NewLogger returns a text logger writing to w (stderr in the foreground,
// the log file as a daemon) at level.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).With("prog", "dcc-server")
}
