// Command gendocs writes dcc's reference from the tables the programs
// themselves use (dcc's subcommands and configuration keys, dcc-server's
// flags and the config file it writes): docs/configuration.md and the man
// pages docs/man/dcc.1 and docs/man/dcc-server.1.
//
//	go run ./scripts/gendocs          # write them (make docs)
//	go run ./scripts/gendocs -check   # exit 1 if a committed file is stale
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	check := flag.Bool("check", false, "compare with the files instead of writing them")
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	stale := 0
	for _, out := range outputs() {
		path := filepath.Join(*root, out.path)
		if *check {
			have, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(have, out.data) {
				fmt.Fprintf(os.Stderr, "gendocs: %s is stale: run make docs\n", out.path)
				stale++
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
			os.Exit(1)
		}
		if err := os.WriteFile(path, out.data, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
			os.Exit(1)
		}
	}
	if stale > 0 {
		os.Exit(1)
	}
}

// output is one generated file, by its path in the repository.
type output struct {
	path string
	data []byte
}

// outputs returns every generated file.
func outputs() []output {
	return []output{
		{"docs/configuration.md", []byte(markdownReference())},
		{"docs/man/dcc.1", []byte(dccManPage())},
		{"docs/man/dcc-server.1", []byte(serverManPage())},
	}
}
