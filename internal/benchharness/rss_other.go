//go:build !unix

package main

import (
	"os"
	"time"
)

// maxRSS is not reported on this platform.
func maxRSS(*os.ProcessState) int64 { return 0 }

// selfCPU is not reported on this platform.
func selfCPU() time.Duration { return 0 }
