//go:build !unix

package testutil

import (
	"os"
	"os/exec"
)

// On systems without process groups, signals go to the process alone.

func newProcessGroup(cmd *exec.Cmd) {}

func interruptGroup(cmd *exec.Cmd) error {
	return cmd.Process.Signal(os.Interrupt)
}

func killGroup(cmd *exec.Cmd) {
	cmd.Process.Kill()
}
