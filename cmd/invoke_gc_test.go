package cmd

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: invoke raises GOGC and sets a soft memory limit, unless the
// environment sets either.
func TestTuneGC(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{"defaults", nil, invokeGCPercent, invokeMemoryGoal},
		{"GOGC set", map[string]string{"GOGC": "100"}, 77, invokeMemoryGoal},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, invokeGCPercent, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldPercent := debug.SetGCPercent(77)
			oldLimit := debug.SetMemoryLimit(math.MaxInt64)
			t.Cleanup(func() {
				debug.SetGCPercent(oldPercent)
				debug.SetMemoryLimit(oldLimit)
			})
			tuneGC(func(k string) string { return tt.env[k] })
			if got := debug.SetGCPercent(77); got != tt.wantPercent {
				t.Errorf("GC percent %d, want %d", got, tt.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit %d, want %d", got, tt.wantLimit)
			}
		})
	}
}
