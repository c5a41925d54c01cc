package wrapper

import (
	"path/filepath"
	"slices"
	"strings"
)

// Mode is how dcc was started.
type Mode int

const (
	// ModeCommand: "dcc explain ...", "dcc install-links ...", "dcc --help".
	ModeCommand Mode = iota
	// ModeMasquerade: started through a link named like a compiler ("gcc").
	ModeMasquerade
	// ModePrefix: "dcc gcc ...", "dcc /usr/bin/clang ...", or as a CMake launcher.
	ModePrefix
)

// Invocation is the compile dcc was asked to run.
type Invocation struct {
	// Mode says how dcc was started.
	Mode Mode
	// Compiler is the compiler to run, as named ("gcc", "/usr/bin/cc", "cl.exe").
	Compiler string
	// Args are the compiler's arguments.
	Args []string
}

// Detect tells masquerade use from prefix use and from dcc's own subcommands.
// Any program name other than dcc's own is a masquerade (as ccache does);
// "dcc NAME ..." is prefix use unless isCommand(NAME) or NAME is an option.
func Detect(argv []string, isCommand func(string) bool) Invocation {
	if len(argv) == 0 {
		return Invocation{Mode: ModeCommand}
	}
	base := filepath.Base(argv[0])
	if !isOwnName(base) {
		return Invocation{Mode: ModeMasquerade, Compiler: base, Args: argv[1:]}
	}
	if len(argv) < 2 || isCommand(argv[1]) || strings.HasPrefix(argv[1], "-") {
		return Invocation{Mode: ModeCommand}
	}
	return Invocation{Mode: ModePrefix, Compiler: argv[1], Args: argv[2:]}
}

// CcacheName is the name of a link to dcc that takes ccache's command line:
// a build system that puts ccache in front of every compile (meson does
// when it finds ccache in PATH) finds dcc's link first in a masquerade
// directory, and "ccache gcc -c ..." is then prefix use of dcc, and
// "ccache --version" or "ccache -s" dcc's own (ccache's options map to
// dcc's subcommands).
const CcacheName = "ccache"

// isOwnName reports whether a program name is dcc's own rather than a masquerade link.
func isOwnName(base string) bool {
	if base == "dcc" || strings.HasPrefix(base, "dcc.") || base == CcacheName {
		return true
	}
	exe, err := executable()
	return err == nil && filepath.Base(exe) == base
}

// CommandNames are dcc's subcommands: "dcc NAME ..." with one of them runs
// the subcommand, with any other NAME it is prefix use. The subcommands
// themselves live in dccd (the wrapper links none of them, to start fast);
// cli's tests keep this list equal to its commands.
var CommandNames = []string{
	"explain", "stats", "clear", "config", "daemon", "connect", "disconnect", "jobs",
	"hosts", "monitor", "clean", "install-links", "doctor", "version", "help",
}

// IsCommand reports whether name is one of CommandNames.
func IsCommand(name string) bool { return slices.Contains(CommandNames, name) }
