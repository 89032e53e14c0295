package session_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/psrp"
	"github.com/pssession/pssession/remote/psrp/clixml"
	"github.com/pssession/pssession/remote/session"
)

// restrictedEngine is the scripted engine without Out-String, as on a
// restricted (JEA) endpoint; it counts the pipelines its runspaces run.
type restrictedEngine struct{ runs *atomic.Int32 }

func (e restrictedEngine) Open(ctx context.Context, opts endpoint.RunspaceOptions) (endpoint.Runspace, error) {
	rs, err := endpoint.Scripted{}.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return restrictedRunspace{rs, e.runs}, nil
}

type restrictedRunspace struct {
	endpoint.Runspace
	runs *atomic.Int32
}

func (r restrictedRunspace) Commands() []string {
	all := r.Runspace.(endpoint.CommandLister).Commands()
	return slices.DeleteFunc(slices.Clone(all), func(c string) bool { return c == "Out-String" })
}

func (r restrictedRunspace) Run(ctx context.Context, p endpoint.Pipeline, w endpoint.Writer) error {
	r.runs.Add(1)
	return r.Runspace.Run(ctx, p, w)
}

// countingEngine is the scripted engine, counting pipelines.
type countingEngine struct{ runs *atomic.Int32 }

func (e countingEngine) Open(ctx context.Context, opts endpoint.RunspaceOptions) (endpoint.Runspace, error) {
	rs, err := endpoint.Scripted{}.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingRunspace{rs.(listingRunspace), e.runs}, nil
}

type listingRunspace interface {
	endpoint.Runspace
	endpoint.CommandLister
}

type countingRunspace struct {
	listingRunspace
	runs *atomic.Int32
}

func (r countingRunspace) Run(ctx context.Context, p endpoint.Pipeline, w endpoint.Writer) error {
	r.runs.Add(1)
	return r.listingRunspace.Run(ctx, p, w)
}

var outString = psrp.Command{Cmd: "Out-String", Args: []psrp.Argument{{Name: "Stream", Value: true}, {Name: "Width", Value: int32(80)}}}

// TestRunFormatted: the formatted pipeline runs at once where Out-String
// exists; where it does not, the endpoint fails it before anything runs
// and the script runs once, alone. Either answer is cached.
func TestRunFormatted(t *testing.T) {
	tests := []struct {
		name       string
		restricted bool
		script     string
		wantOut    []string
		wantState  psrp.PipelineState
		wantErr    string
		wantHas    bool
	}{
		{"full", false, "Write-Output hi; Write-Output there", []string{"hi", "there"}, psrp.PipelineCompleted, "", true},
		{"full, throws", false, "Write-Output a; throw boom", []string{"a"}, psrp.PipelineFailed, "boom", true},
		{"restricted", true, "Write-Output hi; Write-Output there", []string{"hi", "there"}, psrp.PipelineCompleted, "", false},
		{"restricted, throws", true, "Write-Output a; throw boom", []string{"a"}, psrp.PipelineFailed, "boom", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := &atomic.Int32{}
			var engine endpoint.Engine = countingEngine{runs}
			if tt.restricted {
				engine = restrictedEngine{runs}
			}
			srv := startServerWith(t, endpoint.Config{Engine: engine})
			s := srv.open(t, session.Config{})
			t.Cleanup(func() { s.Close(context.Background()) })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for round := 1; round <= 2; round++ {
				c := &collector{}
				res, err := s.RunFormatted(ctx, session.RunRequest{
					Spec:    psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: tt.script, IsScript: true}}},
					OnEvent: c.event,
				}, outString)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if diff := cmp.Diff(tt.wantOut, c.output); diff != "" {
					t.Errorf("round %d output (-want +got):\n%s", round, diff)
				}
				if len(c.errors) != 0 {
					t.Errorf("round %d error records %q", round, c.errors)
				}
				if res.State != tt.wantState {
					t.Errorf("round %d state %v, want %v", round, res.State, tt.wantState)
				}
				gotErr := ""
				if res.Error != nil {
					gotErr = res.Error.DisplayMessage()
				}
				if !strings.Contains(gotErr, tt.wantErr) || (tt.wantErr == "") != (gotErr == "") {
					t.Errorf("round %d error %q, want %q", round, gotErr, tt.wantErr)
				}
				// The script ran exactly once per round.
				if n := runs.Load(); n != int32(round) {
					t.Errorf("after round %d the engine ran %d pipelines", round, n)
				}
			}
			if got := s.HasOutString(ctx); got != tt.wantHas {
				t.Errorf("HasOutString %v, want %v", got, tt.wantHas)
			}
			if n := runs.Load(); n != 2 {
				t.Errorf("HasOutString ran a pipeline (%d in all); its answer was cached", n)
			}
		})
	}
}

// TestEndpointResolvesBeforeRunning: a pipeline naming a command the
// runspace does not have fails as PowerShell fails it, with
// CommandNotFoundException for that command, and nothing runs.
func TestEndpointResolvesBeforeRunning(t *testing.T) {
	runs := &atomic.Int32{}
	srv := startServerWith(t, endpoint.Config{Engine: restrictedEngine{runs}})
	s := srv.open(t, session.Config{})
	t.Cleanup(func() { s.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &collector{}
	res, err := s.Run(ctx, session.RunRequest{
		Spec:    psrp.PipelineSpec{Commands: []psrp.Command{{Cmd: "Write-Output hi", IsScript: true}, outString}},
		OnEvent: c.event,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != psrp.PipelineFailed || res.Error == nil {
		t.Fatalf("state %v, error %v", res.State, res.Error)
	}
	got := struct {
		ID, Target, Exception string
		Category              clixml.ErrorCategory
		Output                []string
		Runs                  int32
	}{res.Error.FullyQualifiedErrorID, res.Error.Category.TargetName, res.Error.Exception.TypeNames[0], res.Error.Category.Category, c.output, runs.Load()}
	want := got
	want.ID, want.Target, want.Exception, want.Category, want.Output, want.Runs = "CommandNotFoundException", "Out-String",
		"System.Management.Automation.CommandNotFoundException", 13, nil, 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
