package wsman

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{20 * time.Second, "PT20S"},
		{60 * time.Second, "PT60S"},
		{1500 * time.Millisecond, "PT1.500S"},
		{7200 * time.Second, "PT7200S"},
		{-time.Second, "-PT1S"},
		{0, "PT0S"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"PT7200.000S", 7200 * time.Second, false},
		{"PT2147483.647S", 2147483647 * time.Millisecond, false},
		{"P0DT0H0M0S", 0, false},
		{"P0DT0H1M2S", 62 * time.Second, false},
		{"P1DT2H", 26 * time.Hour, false},
		{"PT60.000S", time.Minute, false},
		{"-PT1S", -time.Second, false},
		{" PT5S ", 5 * time.Second, false},
		{"", 0, true},
		{"P", 0, true},
		{"PT", 0, true},
		{"P1Y", 0, true},
		{"P1M", 0, true},
		{"PT1D", 0, true},
		{"PTS", 0, true},
		{"PT1.2.3S", 0, true},
		{"PT5", 0, true},
		{"PT-1S", 0, true},
		{"PT1TS", 0, true},
		{"PT99999999999999S", 0, true},
		{"20", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}
