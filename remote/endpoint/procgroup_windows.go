//go:build windows

package endpoint

import (
	"os"
	"os/exec"
)

// ownProcessGroup does nothing on Windows: the engines' shells need a
// POSIX /bin/sh, which `pssession serve` and `demo` expect on Unix only.
func ownProcessGroup(*exec.Cmd) {}

// killGroup kills the process itself (Windows has no process groups to
// signal).
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
