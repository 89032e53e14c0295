package wsman

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatDuration renders d as an xs:duration the way WinRM accepts it
// ("PT20S", "PT60.500S"; MS-WSMV 2.2.4.41). Negative durations get a
// leading minus sign.
func FormatDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign = "-"
		d = -d
	}
	ms := d.Milliseconds()
	if ms%1000 == 0 {
		return fmt.Sprintf("%sPT%dS", sign, ms/1000)
	}
	return fmt.Sprintf("%sPT%d.%03dS", sign, ms/1000, ms%1000)
}

// ParseDuration parses an xs:duration such as "PT7200.000S",
// "PT2147483.647S" or "P0DT0H0M0S". Years and months have no fixed length
// and are rejected; values beyond time.Duration's range are an error.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return 0, fmt.Errorf("wsman: invalid xs:duration %q", orig)
	}
	s = s[1:]
	var total float64
	inTime := false
	seen := false
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("wsman: invalid xs:duration %q", orig)
			}
			inTime = true
			s = s[1:]
			if s == "" {
				return 0, fmt.Errorf("wsman: invalid xs:duration %q", orig)
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("wsman: invalid xs:duration %q", orig)
		}
		v, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("wsman: invalid xs:duration %q", orig)
		}
		var unit float64
		switch {
		case !inTime && s[i] == 'D':
			unit = 24 * 3600
		case inTime && s[i] == 'H':
			unit = 3600
		case inTime && s[i] == 'M':
			unit = 60
		case inTime && s[i] == 'S':
			unit = 1
		default:
			return 0, fmt.Errorf("wsman: unsupported xs:duration %q", orig)
		}
		total += v * unit
		seen = true
		s = s[i+1:]
	}
	if !seen {
		return 0, fmt.Errorf("wsman: invalid xs:duration %q", orig)
	}
	ns := math.Round(total * 1e9)
	if ns > math.MaxInt64/2 || math.IsNaN(ns) {
		return 0, fmt.Errorf("wsman: xs:duration %q out of range", orig)
	}
	d := time.Duration(ns)
	if neg {
		d = -d
	}
	return d, nil
}
