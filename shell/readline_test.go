package shell

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLineTracker(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"nothing written", nil, ""},
		{"unfinished line", []string{"Name: "}, "Name: "},
		{"finished line", []string{"done\n"}, ""},
		{"text after the last newline", []string{"a\nb", "c"}, "bc"},
		{"newline in a later write", []string{"abc", "\nQ: "}, "Q: "},
		{"long line keeps its end", []string{strings.Repeat("x", maxTrackedLine) + "end"}, strings.Repeat("x", maxTrackedLine-3) + "end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			l := &LineTracker{W: &out}
			for _, w := range tc.writes {
				if _, err := l.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.want, l.Take()); diff != "" {
				t.Errorf("Take (-want +got):\n%s", diff)
			}
			if got := l.Take(); got != "" {
				t.Errorf("second Take = %q, want empty", got)
			}
			if diff := cmp.Diff(strings.Join(tc.writes, ""), out.String()); diff != "" {
				t.Errorf("passed through (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPipeLines(t *testing.T) {
	p := &PipeLines{R: strings.NewReader("one\r\ntwo\nlast")}
	var got []string
	for {
		l, err := p.ReadLine("ignored> ")
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	if diff := cmp.Diff([]string{"one", "two", "last"}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
