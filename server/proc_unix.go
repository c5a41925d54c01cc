//go:build unix

package server

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel makes cmd run in a process group of its own and makes
// its cancellation kill the whole group: the compiler driver and the cc1 and
// assembler it started.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
