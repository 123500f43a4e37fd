//go:build !windows

package posture

import (
	"os/exec"
	"syscall"
)

// prepareCommand puts the command in its own process group so a timeout
// kills everything it started.
func prepareCommand(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
