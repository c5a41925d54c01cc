//go:build unix

package server

import (
	"flag"
	"io"
	"strings"
)

// FlagDoc documents one dcc-server flag for the generated reference.
type FlagDoc struct {
	// Name is the flag without dashes; Arg the name of its value ("" for a
	// switch).
	Name, Arg string
	// Doc says what the flag does.
	Doc string
}

// ServerReference is what the man page and docs/configuration.md say of
// dcc-server, taken from the flags Main parses and the file it writes.
type ServerReference struct {
	// Usage is the text -h prints before the flags.
	Usage string
	// Flags are the command-line flags, in the order -h prints them.
	Flags []FlagDoc
	// ConfigFile is the commented config file a first run writes, with
	// TOKEN in place of the token it makes.
	ConfigFile string
}

// exampleCPUs is the CPU count the config file shown is written for: the
// file a first run writes says the number of CPUs of its machine.
const exampleCPUs = 8

// Reference returns dcc-server's reference. dccDir stands for the dcc
// directory in the paths of the config file shown.
func Reference(dccDir string) ServerReference {
	var f cliFlags
	fs := newFlagSet(&f, io.Discard)
	ref := ServerReference{Usage: strings.TrimSpace(usage)}
	fs.VisitAll(func(fl *flag.Flag) {
		arg, doc := flag.UnquoteUsage(fl)
		ref.Flags = append(ref.Flags, FlagDoc{Name: fl.Name, Arg: arg, Doc: doc})
	})
	c := DefaultConfig(dccDir)
	c.Tokens = []string{"TOKEN"}
	c.Jobs = exampleCPUs
	ref.ConfigFile = c.fileText()
	return ref
}
