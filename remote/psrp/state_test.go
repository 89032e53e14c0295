package psrp

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStateStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"pool BeforeOpen", PoolBeforeOpen.String(), "BeforeOpen"},
		{"pool Opened", PoolOpened.String(), "Opened"},
		{"pool Connecting", PoolConnecting.String(), "Connecting"},
		{"pool unknown", RunspacePoolState(9).String(), "RunspacePoolState(9)"},
		{"pool negative", RunspacePoolState(-1).String(), "RunspacePoolState(-1)"},
		{"pipeline NotStarted", PipelineNotStarted.String(), "NotStarted"},
		{"pipeline Disconnected", PipelineDisconnected.String(), "Disconnected"},
		{"pipeline unknown", PipelineState(7).String(), "PipelineState(7)"},
		{"host method", HostReadLineAsSecureString.String(), "ReadLineAsSecureString"},
		{"host method last", HostPromptForChoiceMultipleSelection.String(), "PromptForChoiceMultipleSelection"},
		{"host method unknown", HostMethodID(57).String(), "MethodID(57)"},
		{"result type", ResultInformation.String(), "Information"},
		{"availability", RequestResetRunspaceState.String(), "ResetRunspaceState"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestPoolTransition(t *testing.T) {
	tests := []struct {
		from, to RunspacePoolState
		want     bool
	}{
		{PoolBeforeOpen, PoolOpening, true},
		{PoolBeforeOpen, PoolConnecting, true},
		{PoolBeforeOpen, PoolOpened, false},
		{PoolOpening, PoolOpened, true},
		{PoolOpening, PoolBroken, true},
		{PoolOpened, PoolDisconnecting, true},
		{PoolOpened, PoolConnecting, false},
		{PoolDisconnecting, PoolDisconnected, true},
		{PoolDisconnected, PoolConnecting, true},
		{PoolDisconnected, PoolOpened, false},
		{PoolConnecting, PoolOpened, true},
		{PoolOpened, PoolClosing, true},
		{PoolClosing, PoolClosed, true},
		{PoolClosing, PoolOpened, false},
		{PoolClosed, PoolOpened, false},
		{PoolClosed, PoolBroken, false},
		{PoolBroken, PoolClosed, false},
	}
	for _, tc := range tests {
		t.Run(tc.from.String()+"→"+tc.to.String(), func(t *testing.T) {
			if got := poolTransition(tc.from, tc.to); got != tc.want {
				t.Errorf("poolTransition = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPipelineTransition(t *testing.T) {
	tests := []struct {
		from, to PipelineState
		want     bool
	}{
		{PipelineNotStarted, PipelineRunning, true},
		{PipelineNotStarted, PipelineStopping, false},
		{PipelineRunning, PipelineRunning, true},
		{PipelineRunning, PipelineStopping, true},
		{PipelineRunning, PipelineCompleted, true},
		{PipelineRunning, PipelineDisconnected, true},
		{PipelineStopping, PipelineStopped, true},
		{PipelineStopping, PipelineRunning, false},
		{PipelineDisconnected, PipelineRunning, true},
		{PipelineCompleted, PipelineRunning, false},
		{PipelineFailed, PipelineStopped, false},
	}
	for _, tc := range tests {
		t.Run(tc.from.String()+"→"+tc.to.String(), func(t *testing.T) {
			if got := pipelineTransition(tc.from, tc.to); got != tc.want {
				t.Errorf("pipelineTransition = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStateGuards(t *testing.T) {
	c, err := NewClientPool(ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServerPool(ServerConfig{})
	tests := []struct {
		name string
		err  error
		want *StateError
	}{
		{"client ExchangeKey before open", c.ExchangeKey(), &StateError{Op: "ClientPool.ExchangeKey", State: PoolBeforeOpen}},
		{"client SetMaxRunspaces before open", second(c.SetMaxRunspaces(2)), &StateError{Op: "ClientPool.SetMaxRunspaces", State: PoolBeforeOpen}},
		{"client CreatePipeline before open", second(c.CreatePipeline(PipelineSpec{Commands: []Command{{Cmd: "x"}}})), &StateError{Op: "ClientPool.CreatePipeline", State: PoolBeforeOpen}},
		{"client HostResponse before open", c.HostResponse(1, nil, nil), &StateError{Op: "ClientPool.HostResponse", State: PoolBeforeOpen}},
		{"client BeginDisconnect before open", c.BeginDisconnect(), &StateError{Op: "ClientPool.BeginDisconnect", State: PoolBeforeOpen}},
		{"client BeginReconnect before open", c.BeginReconnect(), &StateError{Op: "ClientPool.BeginReconnect", State: PoolBeforeOpen}},
		{"server Open before init", s.Open(), &StateError{Op: "ServerPool.Open", State: PoolBeforeOpen}},
		{"server HostCall before open", second(s.HostCall(HostGetName)), &StateError{Op: "ServerPool.HostCall", State: PoolBeforeOpen}},
		{"server ReceiveConnect before open", s.ReceiveConnect(nil), &StateError{Op: "ServerPool.ReceiveConnect", State: PoolBeforeOpen}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var se *StateError
			if !errors.As(tc.err, &se) {
				t.Fatalf("error %v, want *StateError", tc.err)
			}
			if diff := cmp.Diff(tc.want, se); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if se.Error() == "" {
				t.Error("empty message")
			}
		})
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err == nil {
		t.Error("second Open succeeded")
	}
	if err := c.Connect(); err == nil {
		t.Error("Connect after Open succeeded")
	}
}

func second[T any](_ T, err error) error { return err }

func TestNewClientPoolLimits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min, max int32
		ok       bool
	}{
		{"defaults", 0, 0, true},
		{"min above max", 3, 2, false},
		{"negative", -1, 2, false},
		{"range", 2, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClientPool(ClientConfig{MinRunspaces: tc.min, MaxRunspaces: tc.max})
			if (err == nil) != tc.ok {
				t.Errorf("NewClientPool(%d, %d) error %v, want ok=%v", tc.min, tc.max, err, tc.ok)
			}
		})
	}
}
