//go:build !windows

package endpoint

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup makes p lead a new process group, so that killGroup
// ends everything it started.
func ownProcessGroup(p *exec.Cmd) { p.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the process group led by pid.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
