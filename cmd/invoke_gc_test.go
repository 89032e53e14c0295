package cmd

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: invoke and serve raise GOGC and set a soft memory limit,
// unless the environment sets either.
func TestTuneGC(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		percent     int
		limit       int64
		wantPercent int
		wantLimit   int64
	}{
		{"invoke defaults", nil, invokeGCPercent, invokeMemoryGoal, invokeGCPercent, invokeMemoryGoal},
		{"serve defaults", nil, serveGCPercent, serveMemoryGoal, serveGCPercent, serveMemoryGoal},
		{"GOGC set", map[string]string{"GOGC": "100"}, invokeGCPercent, invokeMemoryGoal, 77, invokeMemoryGoal},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, serveGCPercent, serveMemoryGoal, serveGCPercent, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldPercent := debug.SetGCPercent(77)
			oldLimit := debug.SetMemoryLimit(math.MaxInt64)
			t.Cleanup(func() {
				debug.SetGCPercent(oldPercent)
				debug.SetMemoryLimit(oldLimit)
			})
			tuneGC(func(k string) string { return tt.env[k] }, tt.percent, tt.limit)
			if got := debug.SetGCPercent(77); got != tt.wantPercent {
				t.Errorf("GC percent %d, want %d", got, tt.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit %d, want %d", got, tt.wantLimit)
			}
		})
	}
}
