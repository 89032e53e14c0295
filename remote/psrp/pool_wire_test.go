package psrp

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

type fragSummary struct {
	ObjectID, FragmentID uint64
	Start, End           bool
	Len                  int
}

func summarize(t *testing.T, d *OutgoingData) []fragSummary {
	t.Helper()
	fs, err := ParseFragments(d.Data, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []fragSummary
	for _, f := range fs {
		out = append(out, fragSummary{f.ObjectID, f.FragmentID, f.Start, f.End, len(f.Blob)})
	}
	return out
}

func TestOutboxPacking(t *testing.T) {
	pidA := clixml.GUID{1}
	msg := func(pid clixml.GUID, n int) *Message {
		return &Message{Destination: DestinationServer, Type: MsgPipelineInput, PID: pid, Data: make([]byte, n)}
	}
	type packet struct {
		PID    clixml.GUID
		Stream string
		Frags  []fragSummary
	}
	tests := []struct {
		name  string
		fill  func(o *outbox)
		max   int
		only  bool
		pid   clixml.GUID
		want  []packet
		extra int // further packets expected after want (drained unchecked)
	}{
		{
			name: "two messages in one packet",
			fill: func(o *outbox) {
				o.push(msg(clixml.GUID{}, 10), StreamDefault, false)
				o.push(msg(clixml.GUID{}, 20), StreamDefault, false)
			},
			want: []packet{{Stream: StreamDefault, Frags: []fragSummary{{1, 0, true, true, 50}, {2, 0, true, true, 60}}}},
		},
		{
			name: "split to fit",
			fill: func(o *outbox) { o.push(msg(clixml.GUID{}, 60), StreamDefault, false) },
			max:  21 + 40,
			want: []packet{
				{Stream: StreamDefault, Frags: []fragSummary{{1, 0, true, false, 40}}},
				{Stream: StreamDefault, Frags: []fragSummary{{1, 1, false, false, 40}}},
				{Stream: StreamDefault, Frags: []fragSummary{{1, 2, false, true, 20}}},
			},
		},
		{
			name: "tail of one message then the next starts",
			fill: func(o *outbox) {
				o.push(msg(clixml.GUID{}, 30), StreamDefault, false)
				o.push(msg(clixml.GUID{}, 0), StreamDefault, false)
			},
			max: 21 + 60,
			want: []packet{
				{Stream: StreamDefault, Frags: []fragSummary{{1, 0, true, false, 60}}},
				{Stream: StreamDefault, Frags: []fragSummary{{1, 1, false, true, 10}, {2, 0, true, false, 29}}},
				{Stream: StreamDefault, Frags: []fragSummary{{2, 1, false, true, 11}}},
			},
		},
		{
			name:  "max below a header still progresses",
			fill:  func(o *outbox) { o.push(msg(clixml.GUID{}, 0), StreamDefault, false) },
			max:   5,
			want:  []packet{{Stream: StreamDefault, Frags: []fragSummary{{1, 0, true, false, 1}}}},
			extra: 39,
		},
		{
			name: "pipelines and streams never share a packet",
			fill: func(o *outbox) {
				o.push(msg(clixml.GUID{}, 0), StreamDefault, false)
				o.push(msg(pidA, 0), StreamDefault, false)
				o.push(msg(pidA, 0), StreamPromptResponse, false)
				o.push(msg(clixml.GUID{}, 0), StreamDefault, false)
			},
			want: []packet{
				{Stream: StreamDefault, Frags: []fragSummary{{1, 0, true, true, 40}, {4, 0, true, true, 40}}},
				{PID: pidA, Stream: StreamDefault, Frags: []fragSummary{{2, 0, true, true, 40}}},
				{PID: pidA, Stream: StreamPromptResponse, Frags: []fragSummary{{3, 0, true, true, 40}}},
			},
		},
		{
			name: "last ends the packet",
			fill: func(o *outbox) {
				o.push(msg(clixml.GUID{}, 0), StreamDefault, false)
				o.push(msg(clixml.GUID{}, 0), StreamDefault, true)
				o.push(msg(clixml.GUID{}, 0), StreamDefault, false)
			},
			want: []packet{
				{Stream: StreamDefault, Frags: []fragSummary{{1, 0, true, true, 40}, {2, 0, true, true, 40}}},
				{Stream: StreamDefault, Frags: []fragSummary{{3, 0, true, true, 40}}},
			},
		},
		{
			name: "only one pipeline",
			fill: func(o *outbox) {
				o.push(msg(clixml.GUID{}, 0), StreamDefault, false)
				o.push(msg(pidA, 0), StreamDefault, false)
				o.push(msg(pidA, 0), StreamDefault, false)
			},
			only: true, pid: pidA,
			want:  []packet{{PID: pidA, Stream: StreamDefault, Frags: []fragSummary{{2, 0, true, true, 40}, {3, 0, true, true, 40}}}},
			extra: -1, // the pool's message stays queued
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o outbox
			tc.fill(&o)
			var got []packet
			for range tc.want {
				d := o.next(tc.max, tc.pid, tc.only)
				if d == nil {
					break
				}
				if tc.max > fragmentHeaderLen && len(d.Data) > tc.max {
					t.Errorf("packet of %d bytes over max %d", len(d.Data), tc.max)
				}
				got = append(got, packet{d.PipelineID, d.Stream, summarize(t, d)})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("packets (-want +got):\n%s", diff)
			}
			if tc.only {
				if d := o.next(0, tc.pid, true); d != nil {
					t.Errorf("more data for %s: %x", tc.pid, d.Data)
				}
				if len(o.queue) != 1 {
					t.Errorf("%d messages left, want the pool's one", len(o.queue))
				}
				return
			}
			n := 0
			for o.next(tc.max, clixml.GUID{}, false) != nil {
				n++
			}
			if n != tc.extra {
				t.Errorf("%d further packets, want %d", n, tc.extra)
			}
		})
	}
}
