package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcc-build/dcc/protocol"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostSecret writes a file of the host that no job may read: in the
// server's own config directory, beside its token, readable by every user
// (so that only the sandbox keeps a job from it, whoever the job runs as).
func hostSecret(t *testing.T, ts *testServer) (path, marker string) {
	t.Helper()
	marker = fmt.Sprintf("HOST-SECRET-%d-do-not-leak", time.Now().UnixNano())
	path = filepath.Join(filepath.Dir(ts.cfg.File), "secret.txt")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(marker+" = 1;\n"), 0o644))
	require.NoError(t, os.Chmod(filepath.Dir(path), 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(filepath.Dir(path)), 0o755))
	return path, marker
}

// honestCompile sends an honest unit (n makes it differ from the others, so
// that it is compiled, not answered from the result cache) and checks that
// the object is the one a local compile writes.
func honestCompile(t *testing.T, s *protocol.ClientSession, key string, n int) {
	t.Helper()
	dir, text := clientUnit(t, "gcc")
	text = append(text, fmt.Sprintf("int honest_%d = %d;\n", n, n)...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.i"), text, 0o644))
	want := localCompile(t, dir, "gcc", "-g", "-O2", "-x", "cpp-output", "-c", "x.i")
	m, err := call(t, s, &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{"-g", "-O2"},
		Preprocessed: text, SourceName: "x.c", ClientDir: dir}, protocol.MsgCompileResult)
	require.NoError(t, err)
	res := m.(*protocol.CompileResult)
	require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
	assert.True(t, bytes.Equal(want, res.Object), "the honest object differs from a local compile")
}

// TestSandboxIncbinOfHostFile: an .incbin of a host file (the assembler's
// read, which no check of the preprocessor's reads sees) fails with the
// assembler's "file not found", sent as preprocessed text or with its
// sources, and nothing of the file reaches any object; honest jobs before
// and after compile as they would locally. Without the sandbox the same
// request brings the file back inside the object: the hole this closes.
func TestSandboxIncbinOfHostFile(t *testing.T) {
	realCompiler(t, "gcc")
	ts := startServer(t, nil, nil)
	s := ts.dial(t)
	require.True(t, s.Welcome().Sandboxed)
	key := gccKey(t, s.Welcome())
	secret, marker := hostSecret(t, ts)
	unit := fmt.Sprintf("int f(void) { return 1; }\n__asm__(\".incbin \\\"%s\\\"\");\n", secret)
	honestCompile(t, s, key, 1)
	reqs := map[string]*protocol.CompileRequest{
		"preprocessed": {Toolchain: key, Language: "c", Args: []string{"-O2"}, Preprocessed: []byte(unit), SourceName: "x.c"},
		"sources": {Toolchain: key, Language: "c", Args: []string{"-O2"}, SourceName: "a.c", ClientDir: "/home/u/p",
			Sources: []protocol.SourceFile{sourceFile("/home/u/p/a.c", unit)}},
	}
	for name, req := range reqs {
		t.Run(name, func(t *testing.T) {
			m, err := call(t, s, req, protocol.MsgCompileResult)
			require.NoError(t, err)
			res := m.(*protocol.CompileResult)
			assert.NotEqual(t, 0, res.ExitCode)
			assert.Contains(t, string(res.Stderr), "file not found: "+secret)
			assert.Empty(t, res.Object)
			assert.NotContains(t, string(res.Stderr)+string(res.Stdout), marker)
			honestCompile(t, s, key, 2)
		})
	}
	t.Run("without the sandbox", func(t *testing.T) {
		off := startServer(t, func(c *Config) { c.Sandbox.Off = true }, nil)
		os0 := off.dial(t)
		require.False(t, os0.Welcome().Sandboxed)
		req := *reqs["preprocessed"]
		req.Toolchain = gccKey(t, os0.Welcome())
		m, err := call(t, os0, &req, protocol.MsgCompileResult)
		require.NoError(t, err)
		assert.Contains(t, string(m.(*protocol.CompileResult).Object), marker, "without the sandbox the host file leaks: the test sees nothing")
	})
}

// TestSandboxLineMarkerOfHostPath: preprocessed text whose line markers
// name a host file makes gcc quote that file's lines in its diagnostics;
// in the sandbox the file is not there and nothing of it comes back.
func TestSandboxLineMarkerOfHostPath(t *testing.T) {
	realCompiler(t, "gcc")
	for _, sandboxOff := range []bool{false, true} {
		t.Run(fmt.Sprintf("sandbox off %v", sandboxOff), func(t *testing.T) {
			ts := startServer(t, func(c *Config) { c.Sandbox.Off = sandboxOff }, nil)
			s := ts.dial(t)
			key := gccKey(t, s.Welcome())
			secret, marker := hostSecret(t, ts)
			text := fmt.Sprintf("# 1 \"%s\"\nint x = ;\n", secret)
			m, err := call(t, s, &protocol.CompileRequest{Toolchain: key, Language: "c", Preprocessed: []byte(text), SourceName: "x.c"},
				protocol.MsgCompileResult)
			require.NoError(t, err)
			res := m.(*protocol.CompileResult)
			assert.NotEqual(t, 0, res.ExitCode)
			assert.Contains(t, string(res.Stderr), secret+":1:9: error")
			if sandboxOff {
				// The hole the sandbox closes, shown: the test would see a leak.
				assert.Contains(t, string(res.Stderr), marker)
				return
			}
			assert.NotContains(t, string(res.Stderr), marker)
			honestCompile(t, s, key, 3)
		})
	}
}

// TestSandboxKeepsRefusingDangerousArgs: options that make the compiler
// load or run a file of the host stay refused before any sandbox.
func TestSandboxKeepsRefusingDangerousArgs(t *testing.T) {
	realCompiler(t, "gcc")
	ts := startServer(t, nil, nil)
	s := ts.dial(t)
	key := gccKey(t, s.Welcome())
	_, text := clientUnit(t, "gcc")
	for _, arg := range []string{"-fplugin=/tmp/evil.so", "-specs=/tmp/evil.specs", "-wrapper", "-wrapper=/bin/sh", "@/tmp/args"} {
		_, err := call(t, s, &protocol.CompileRequest{Toolchain: key, Language: "c", Args: []string{arg}, Preprocessed: text}, protocol.MsgCompileResult)
		var re *protocol.RemoteError
		require.True(t, errors.As(err, &re), "%s: %v", arg, err)
		assert.Equal(t, protocol.CodeForbiddenArg, re.Code, arg)
	}
	honestCompile(t, s, key, 4)
}

// evilCompilers builds testdata/evil.c, a "compiler" that misbehaves as
// its name says, into a directory every user may reach, and returns it
// under each name as a toolchain.
func evilCompilers(t *testing.T, port int, target, secret string) map[string]Compiler {
	t.Helper()
	dir := reachableTempDir(t)
	bin := filepath.Join(dir, "evil")
	out, err := exec.Command("gcc", "-O1", "-o", bin, fmt.Sprintf("-DPORT=%d", port), fmt.Sprintf("-DTARGET=%q", target), fmt.Sprintf("-DSECRET=%q", secret),
		filepath.Join("testdata", "evil.c")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	comps := map[string]Compiler{}
	for _, name := range []string{"write", "socket", "fork", "alloc", "cpu", "fsize", "symlink", "fifo", "litter", "peek", "killinit", "trace", "ipc", "sleep"} {
		path := filepath.Join(dir, "evil-"+name)
		require.NoError(t, os.Link(bin, path))
		comps[name] = Compiler{Info: protocol.Toolchain{Key: "id2-evil-" + name, Family: "gcc", Driver: "gcc", Version: "0", Target: "test"},
			Path: path, Family: toolchain.FamilyGCC}
	}
	return comps
}

// processesNamed lists the pids of processes whose command name is name.
func processesNamed(name string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err == nil && strings.TrimSpace(string(comm)) == name {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestSandboxContainsMisbehavingCompilers: a compile that writes outside its
// directory, opens a socket, forks without end, allocates without bound,
// spins or writes a huge file fails with a clear error, leaves nothing
// behind on the host, and the server goes on compiling honest jobs into
// objects identical to local compiles.
func TestSandboxContainsMisbehavingCompilers(t *testing.T) {
	gcc := realCompiler(t, "gcc")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	target := filepath.Join(reachableTempDir(t), "escaped")
	secret := filepath.Join(reachableTempDir(t), "secret")
	marker := fmt.Sprintf("HOST-SECRET-%d", time.Now().UnixNano())
	require.NoError(t, os.WriteFile(secret, []byte(marker), 0o644))
	evil := evilCompilers(t, l.Addr().(*net.TCPAddr).Port, target, secret)
	all := []Compiler{gcc}
	for _, c := range evil {
		all = append(all, c)
	}
	const memory = 256 << 20
	ts := startServer(t, func(c *Config) {
		c.Sandbox.Memory, c.Sandbox.Processes, c.Sandbox.CPU, c.Sandbox.FileSize = memory, 16, time.Second, 4<<20
	}, func(o *Options) { o.Toolchains = NewToolchains(all) })
	s := ts.dial(t)
	tests := []struct {
		name string
		want []string
	}{
		{"write", []string{"evil: write " + target + ": No such file or directory", "evil: write /usr/dcc-evil: Read-only file system",
			"evil: write /dcc-evil: Read-only file system"}},
		{"socket", []string{"evil: connect 127.0.0.1:"}},
		{"fork", []string{"evil: fork failed after ", "Resource temporarily unavailable"}},
		{"alloc", []string{"evil: allocation failed after "}},
		{"cpu", []string{"dcc-server: the compile was killed by", "1s of CPU time"}},
		{"fsize", []string{"dcc-server: the compile was killed by file size limit exceeded: the sandbox limits each file it writes to 4MiB"}},
	}
	// A job that leaves in place of its object a link to a host file, or a
	// FIFO, exits 0: the server, which reads the object, refuses it.
	for i, tt := range []struct{ name, want string }{
		{"symlink", "out.o is a symbolic link, not a file the compiler wrote"},
		{"fifo", "out.o is a named pipe, not a file the compiler wrote"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			m, err := s.Call(ctx, &protocol.CompileRequest{Toolchain: evil[tt.name].Info.Key, Language: "c",
				Preprocessed: []byte(tt.name), SourceName: "x.c"}, protocol.MsgCompileResult)
			require.Error(t, err, "%v", m)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), marker)
			honestCompile(t, s, gccKey(t, s.Welcome()), 30+i)
		})
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			m, err := s.Call(ctx, &protocol.CompileRequest{Toolchain: evil[tt.name].Info.Key, Language: "c",
				Preprocessed: []byte(tt.name), SourceName: "x.c"}, protocol.MsgCompileResult)
			require.NoError(t, err)
			res := m.(*protocol.CompileResult)
			assert.NotEqual(t, 0, res.ExitCode, "%s", res.Stderr)
			assert.Empty(t, res.Object)
			for _, w := range tt.want {
				assert.Contains(t, string(res.Stderr), w)
			}
			switch tt.name {
			case "write":
				assert.NoFileExists(t, target)
			case "socket":
				select {
				case <-accepted:
					t.Error("the job reached a socket of the host")
				default:
				}
			case "fork":
				// Every child died with the job's PID namespace.
				assert.Eventually(t, func() bool { return len(processesNamed("evil-fork")) == 0 }, 5*time.Second, 20*time.Millisecond,
					"processes of the job outlived it")
			case "alloc":
				var mib int
				_, err := fmt.Sscanf(string(res.Stderr[strings.Index(string(res.Stderr), "after ")+6:]), "%d", &mib)
				require.NoError(t, err)
				assert.Less(t, mib, memory>>20)
			}
			honestCompile(t, s, gccKey(t, s.Welcome()), 10+i)
		})
	}
}

// TestSandboxOffIsSaid: a host with sandbox = "off" says so in its Welcome
// (dcc hosts then prints "no sandbox" on its line; cli tests that), and one
// with the default says it sandboxes.
func TestSandboxOffIsSaid(t *testing.T) {
	realCompiler(t, "gcc")
	for _, off := range []bool{false, true} {
		ts := startServer(t, func(c *Config) { c.Sandbox.Off = off }, nil)
		assert.Equal(t, !off, ts.dial(t).Welcome().Sandboxed)
	}
}

// TestSandboxRefusesToStartWithout: where bubblewrap cannot make a sandbox
// (a bwrap that fails as it does when the kernel forbids unprivileged user
// namespaces, or none installed) the server refuses to start with one line
// saying why and how to allow it or turn the sandbox off; with sandbox =
// "off" the same host starts.
func TestSandboxRefusesToStartWithout(t *testing.T) {
	realCompiler(t, "gcc")
	failing := filepath.Join(reachableTempDir(t), "bwrap")
	require.NoError(t, os.WriteFile(failing, []byte("#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n"), 0o755))
	for _, tt := range []struct{ bwrap, want string }{
		{failing, "cannot make an unprivileged sandbox"},
		{"/nonexistent/bwrap", "bubblewrap (/nonexistent/bwrap) is not installed: apt-get install bubblewrap"},
	} {
		dir := t.TempDir()
		cfg := DefaultConfig(dir)
		cfg.Listen = "127.0.0.1:0"
		cfg.Tokens = []string{"sandbox-token-0123456789"}
		cfg.Sandbox.Bwrap = tt.bwrap
		_, err := New(t.Context(), Options{Config: cfg})
		require.Error(t, err)
		msg := err.Error()
		assert.Contains(t, msg, tt.want)
		assert.Contains(t, msg, `set sandbox = "off" in `+cfg.File)
		assert.NotContains(t, msg, "\n")
		if tt.bwrap == failing {
			assert.Contains(t, msg, "does not allow non-privileged user namespaces")
		}
		cfg.Sandbox.Off = true
		srv, err := New(t.Context(), Options{Config: cfg})
		require.NoError(t, err)
		require.NoError(t, srv.Close())
	}
}

// TestSandboxRefusalThroughTheCommand: dcc-server itself, started where no
// sandbox can be made, exits with status 1 and one line on stderr.
func TestSandboxRefusalThroughTheCommand(t *testing.T) {
	realCompiler(t, "gcc")
	dir := t.TempDir()
	conf := filepath.Join(dir, ConfigFileName)
	require.NoError(t, os.WriteFile(conf, []byte("tokens = [\"0123456789abcdef0123\"]\nlisten = \"127.0.0.1:0\"\nbwrap = \"/bin/false\"\n"), 0o600))
	t.Setenv("DCC_DIR", dir)
	// Bounded: a server that started anyway stops after 20 s.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Main(ctx, nil, &out, &errOut)
	stderr := errOut.String()
	assert.Equal(t, ExitError, code)
	assert.Regexp(t, `^dcc-server: sandbox: /bin/false cannot make an unprivileged sandbox .*; or set sandbox = "off" in `+conf+` to run jobs without one\n$`, stderr)
}
