package scale

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writeProject writes units as sources u0000.c ... in dir, and a Makefile
// whose "all" compiles each to an object with $(CC). Each source holds its
// recorded duration for the stand-in compiler and a name unique to tag (the
// row and the client), so that no cache, the client's or a host's, answers
// it from another client's or another row's compile.
func writeProject(dir, tag string, units []Unit) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	var objs strings.Builder
	for i, u := range units {
		src := fmt.Sprintf("/* %s */\nint dcc_scale_ms = %d;\nint dcc_scale_unit_%s_%d = %d;\n",
			u.Name, u.Duration.Milliseconds(), tag, i, i)
		name := fmt.Sprintf("u%04d", i)
		if err := os.WriteFile(filepath.Join(dir, name+".c"), []byte(src), 0o644); err != nil {
			return fmt.Errorf("project: %w", err)
		}
		fmt.Fprintf(&objs, " \\\n\t%s.o", name)
	}
	mk := fmt.Sprintf("CC = gcc\nCFLAGS = -O2\nOBJS =%s\n\nall: $(OBJS)\n\n%%.o: %%.c\n\t$(CC) $(CFLAGS) -c $< -o $@\n", objs.String())
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}
