//go:build windows

package posture

import (
	"os/exec"
	"syscall"
)

// createNoWindow keeps console programs from flashing a window on the
// user's desktop.
const createNoWindow = 0x08000000

func prepareCommand(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{HideWindow: true, CreationFlags: createNoWindow}
}
