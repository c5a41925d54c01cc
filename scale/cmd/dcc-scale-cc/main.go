// Command dcc-scale-cc is the farm simulator's stand-in compiler. Named gcc
// in a directory of its own, it is what the simulated clients compile with
// and what the simulated hosts list as a toolchain. A compile (-c) of a
// source holding "dcc_scale_ms = N" (which survives preprocessing, so
// distcc's preprocessed units carry it too) sleeps N milliseconds, writes a
// deterministic object (and the dependency file -MD/-MMD asks for) and
// appends one line to units.log beside the program: start and end in Unix
// nanoseconds, N, the working directory and TMPDIR (which tell where it
// ran). Everything else (--version, -dumpmachine, -print-prog-name, -E,
// -###, sources without the marker) is real gcc's: the program execs
// $DCC_SCALE_REAL_CC, by default /usr/bin/gcc, so dcc identifies it as gcc.
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// marker finds a unit's recorded duration in its source.
var marker = regexp.MustCompile(`dcc_scale_ms\s*=\s*([0-9]+)`)

// separate are gcc's options whose value is the next argument.
var separate = map[string]bool{"-o": true, "-MF": true, "-MT": true, "-MQ": true, "-include": true, "-imacros": true,
	"-isystem": true, "-iquote": true, "-idirafter": true, "-iprefix": true, "-iwithprefix": true, "-isysroot": true,
	"-x": true, "-D": true, "-U": true, "-I": true, "-Xpreprocessor": true, "-Xassembler": true, "-Xlinker": true,
	"-aux-info": true, "--param": true, "-L": true, "-l": true, "-Xclang": true, "-MJ": true}

// compile is what a compile command asks for.
type compile struct {
	src, out, depFile string
	deps              bool
	targets           []string
}

func main() {
	c, ok := parse(os.Args[1:])
	if ok {
		data, err := os.ReadFile(c.src)
		if err == nil {
			if m := marker.FindSubmatch(data); m != nil {
				ms, _ := strconv.Atoi(string(m[1]))
				if err := fake(c, data, ms); err != nil {
					fmt.Fprintln(os.Stderr, "dcc-scale-cc:", err)
					os.Exit(1)
				}
				return
			}
		}
	}
	real := os.Getenv("DCC_SCALE_REAL_CC")
	if real == "" {
		real = "/usr/bin/gcc"
	}
	err := syscall.Exec(real, append([]string{real}, os.Args[1:]...), os.Environ())
	fmt.Fprintf(os.Stderr, "dcc-scale-cc: exec %s: %v\n", real, err)
	os.Exit(1)
}

// parse finds the source, the object and the dependency output of a
// compile; ok is false for anything but one source compiled with -c.
func parse(args []string) (c compile, ok bool) {
	hasC := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == "-c":
			hasC = true
		case a == "-E" || a == "-S" || a == "-###" || a == "-M" || a == "-MM":
			return c, false
		case a == "-MD" || a == "-MMD":
			c.deps = true
		case a == "-MF":
			c.depFile = next()
		case a == "-MT" || a == "-MQ":
			c.targets = append(c.targets, next())
		case a == "-o":
			c.out = next()
		case strings.HasPrefix(a, "-Wp,-MD,") || strings.HasPrefix(a, "-Wp,-MMD,"):
			c.deps = true
			c.depFile = a[strings.LastIndexByte(a, ',')+1:]
		case separate[a]:
			next()
		case strings.HasPrefix(a, "-") || a == "":
		default:
			if c.src != "" {
				return c, false
			}
			c.src = a
		}
	}
	if !hasC || c.src == "" {
		return c, false
	}
	if c.out == "" {
		c.out = strings.TrimSuffix(filepath.Base(c.src), filepath.Ext(c.src)) + ".o"
	}
	return c, true
}

// fake takes ms milliseconds, sleeping, and writes c's object and
// dependency file.
func fake(c compile, src []byte, ms int) error {
	start := time.Now()
	time.Sleep(time.Duration(ms) * time.Millisecond)
	sum := sha256.Sum256(src)
	obj := fmt.Appendf(nil, "dcc-scale object\n%x\n", sum)
	if err := os.WriteFile(c.out, obj, 0o644); err != nil {
		return fmt.Errorf("write the object: %w", err)
	}
	if c.deps {
		name := c.depFile
		if name == "" {
			name = strings.TrimSuffix(c.out, filepath.Ext(c.out)) + ".d"
		}
		targets := c.targets
		if len(targets) == 0 {
			targets = []string{c.out}
		}
		if err := os.WriteFile(name, fmt.Appendf(nil, "%s: %s\n", strings.Join(targets, " "), c.src), 0o644); err != nil {
			return fmt.Errorf("write the dependency file: %w", err)
		}
	}
	logUnit(start, ms, c.src)
	return nil
}

// logUnit appends the unit's line to units.log beside the program, in one
// write (lines of concurrent compiles do not mix).
func logUnit(start time.Time, ms int, src string) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(filepath.Dir(exe), "units.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return
	}
	defer f.Close()
	cwd, _ := os.Getwd()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\t%d\t%d\t%s\t%s\t%s\n", start.UnixNano(), time.Now().UnixNano(), ms, cwd, os.Getenv("TMPDIR"), filepath.Base(src))
	_, _ = f.Write(b.Bytes())
}
