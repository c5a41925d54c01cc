package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// doctor runs "dcc doctor" with env and returns its exit status and output.
func doctor(t *testing.T, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(dccBin, "doctor")
	cmd.Env = append(append(os.Environ(), "DCC_DIR="+t.TempDir()), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("dcc doctor: %v", err)
	}
	return code, string(out)
}

// dcc doctor against real hosts: one that takes the client, one that
// refuses its token, and one with no compiler that takes no shipped ones.
func TestDoctorHosts(t *testing.T) {
	good := startHost(t, "127.0.0.14", 2)
	bare := launchHostSetup(t, freeAddr(t, "127.0.0.14"), 2, testToken, hostSetup{wrap: bareHost})

	code, out := doctor(t, hostsEnv(2, good)...)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "ok    host "+good.addr+": ")
	assert.Contains(t, out, "token accepted, 2 slots")

	code, out = doctor(t, "DCC_HOSTS="+good.hostArg(2), "DCC_TOKEN=not-the-token")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "FAIL  host "+good.addr+": reachable, but it refused this client: ")

	code, out = doctor(t, append(hostsEnv(2, bare), "DCC_SHIP_TOOLCHAINS=0")...)
	assert.Equal(t, 0, code, "a warning alone:\n%s", out)
	gcc := requireTool(t, "gcc")
	assert.True(t, strings.Contains(out, "WARN  host "+bare.addr+": has no gcc ") && strings.Contains(out, "like "+gcc+" here: its units compile here"), out)
}
