package cli

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/dcc-build/dcc/remote/remotetest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doctorIn runs "dcc doctor" with env set, and returns its exit status and
// output.
func doctorIn(t *testing.T, env map[string]string) (int, string) {
	t.Helper()
	isolateConfig(t)
	// The daemon's executable is found in PATH (this test binary, whose
	// build id the check reads; no daemon runs).
	self, err := os.Executable()
	require.NoError(t, err)
	daemonDir := t.TempDir()
	require.NoError(t, os.Symlink(self, filepath.Join(daemonDir, "dccd")))
	t.Setenv("PATH", os.Getenv("PATH")+string(os.PathListSeparator)+daemonDir)
	for k, v := range env {
		if k == "PATH" {
			v += string(os.PathListSeparator) + daemonDir
		}
		t.Setenv(k, v)
	}
	code, out, errOut := runDcc(t, "doctor")
	return code, out + errOut
}

// A masquerade directory after the real compiler's in PATH is found, and
// named with the fix; first in PATH it is fine.
func TestDoctorPathOrder(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	self, err := os.Executable()
	require.NoError(t, err)
	real, links := t.TempDir(), t.TempDir()
	require.NoError(t, os.Symlink(gcc, filepath.Join(real, "gcc")))
	require.NoError(t, os.Symlink(self, filepath.Join(links, "gcc")))

	code, out := doctorIn(t, map[string]string{"PATH": real + string(os.PathListSeparator) + links})
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "FAIL  gcc: PATH finds "+filepath.Join(real, "gcc")+" before dcc's link "+filepath.Join(links, "gcc")+": put "+links+" first in PATH")
	assert.Contains(t, out, "1 problem(s) found")

	code, out = doctorIn(t, map[string]string{"PATH": links + string(os.PathListSeparator) + real})
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "ok    gcc: dcc's link "+filepath.Join(links, "gcc")+" comes first in PATH")
	assert.Contains(t, out, "no problem found")
}

// A cache directory that cannot be made, a host nobody answers on, and a
// remote storage that is not there are each a FAIL line saying so; a
// storage without a team key is a warning.
func TestDoctorFindsPlantedProblems(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close()
	missing := filepath.Join(t.TempDir(), "not-mounted")

	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"dcc directory under a file", map[string]string{"DCC_DIR": filepath.Join(file, "dcc")},
			[]string{"FAIL  config: read config file: open " + filepath.Join(file, "dcc", "config.toml") + ": not a directory"}},
		{"host down", map[string]string{"DCC_HOSTS": closed + "/2,plaintext", "DCC_TOKEN": "t0ken"}, []string{"FAIL  host " + closed + ": unreachable: "}},
		{"storage missing", map[string]string{"DCC_REMOTE_STORAGE": "file:" + missing}, []string{"FAIL  remote storage: remote_storage file:" + missing + ": file storage " + missing}},
		{"storage without key", map[string]string{"DCC_REMOTE_STORAGE": "file:" + t.TempDir()}, []string{"ok    remote storage file:", "WARN  remote storage: no remote_storage_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := doctorIn(t, tt.env)
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			if tt.name == "storage without key" {
				assert.Equal(t, 0, code, "a warning alone is no failure:\n%s", out)
			} else {
				assert.Equal(t, 1, code, out)
			}
		})
	}
}

// A host whose clock is far from this machine's is named, with how far and
// which way; one in step is fine. (A stand-in host: a real dcc-server's
// clock is the system's, which a test cannot set for one process.)
func TestDoctorClockSkew(t *testing.T) {
	ahead := remotetest.Start(t, "127.0.0.2", remotetest.Options{ClockOffset: 95 * time.Second})
	inStep := remotetest.Start(t, "127.0.0.3", remotetest.Options{})
	hosts := ahead.Addr + "/2,fingerprint=" + remotetest.Fingerprint() + " " + inStep.Addr + "/2,fingerprint=" + remotetest.Fingerprint()
	_, out := doctorIn(t, map[string]string{"DCC_HOSTS": hosts, "DCC_TOKEN": remotetest.Token})
	assert.Regexp(t, `WARN  host `+regexp.QuoteMeta(ahead.Addr)+`: clock is 1m35(\.\d)?s ahead of this machine's`, out)
	assert.Contains(t, out, "ok    host "+inStep.Addr+": clock within 2s of this machine's")

	behind := remotetest.Start(t, "127.0.0.4", remotetest.Options{ClockOffset: -10 * time.Minute})
	_, out = doctorIn(t, map[string]string{"DCC_HOSTS": behind.Addr + "/2,fingerprint=" + remotetest.Fingerprint(), "DCC_TOKEN": remotetest.Token})
	assert.Regexp(t, `WARN  host `+regexp.QuoteMeta(behind.Addr)+`: clock is 10m0(\.\d)?s behind this machine's`, out)
}
