package psrp

import (
	"fmt"
	"strconv"
)

// RunspacePoolState is the state of a runspace pool (MS-PSRP 2.2.3.4; the
// wire value of RUNSPACEPOOL_STATE's RunspaceState).
type RunspacePoolState int32

// Runspace pool states (MS-PSRP 2.2.3.4).
const (
	PoolBeforeOpen    RunspacePoolState = 0
	PoolOpening       RunspacePoolState = 1
	PoolOpened        RunspacePoolState = 2
	PoolClosed        RunspacePoolState = 3
	PoolClosing       RunspacePoolState = 4
	PoolBroken        RunspacePoolState = 5
	PoolDisconnecting RunspacePoolState = 6
	PoolDisconnected  RunspacePoolState = 7
	PoolConnecting    RunspacePoolState = 8
)

var poolStateNames = [...]string{"BeforeOpen", "Opening", "Opened", "Closed", "Closing", "Broken", "Disconnecting", "Disconnected", "Connecting"}

// String returns the spec name of the state.
func (s RunspacePoolState) String() string {
	if s >= 0 && int(s) < len(poolStateNames) {
		return poolStateNames[s]
	}
	return "RunspacePoolState(" + strconv.Itoa(int(s)) + ")"
}

// poolTransitions lists the legal runspace pool transitions (MS-PSRP
// 3.1.1.1 client, 3.2.1.1 server; shared/PROTOCOL.md §2.5). Broken and
// Closed are reachable from every non-terminal state and handled in
// poolTransition.
var poolTransitions = map[RunspacePoolState][]RunspacePoolState{
	PoolBeforeOpen:    {PoolOpening, PoolConnecting},
	PoolOpening:       {PoolOpened},
	PoolOpened:        {PoolClosing, PoolDisconnecting},
	PoolClosing:       {},
	PoolDisconnecting: {PoolDisconnected, PoolOpened},
	PoolDisconnected:  {PoolConnecting, PoolClosing},
	PoolConnecting:    {PoolOpened, PoolDisconnected},
}

// poolTransition reports whether a pool may move from one state to another.
func poolTransition(from, to RunspacePoolState) bool {
	if from == PoolClosed || from == PoolBroken {
		return false
	}
	if to == PoolBroken || to == PoolClosed {
		return true
	}
	for _, s := range poolTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// PipelineState is the state of a pipeline (MS-PSRP 2.2.3.5,
// PSInvocationState; the wire value of PIPELINE_STATE's PipelineState).
type PipelineState int32

// Pipeline states (MS-PSRP 2.2.3.5).
const (
	PipelineNotStarted   PipelineState = 0
	PipelineRunning      PipelineState = 1
	PipelineStopping     PipelineState = 2
	PipelineStopped      PipelineState = 3
	PipelineCompleted    PipelineState = 4
	PipelineFailed       PipelineState = 5
	PipelineDisconnected PipelineState = 6
)

var pipelineStateNames = [...]string{"NotStarted", "Running", "Stopping", "Stopped", "Completed", "Failed", "Disconnected"}

// String returns the spec name of the state.
func (s PipelineState) String() string {
	if s >= 0 && int(s) < len(pipelineStateNames) {
		return pipelineStateNames[s]
	}
	return "PipelineState(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether the pipeline has finished (Stopped, Completed
// or Failed).
func (s PipelineState) Terminal() bool {
	return s == PipelineStopped || s == PipelineCompleted || s == PipelineFailed
}

// pipelineTransitions lists the legal pipeline transitions (MS-PSRP
// 3.1.1.1.2; shared/PROTOCOL.md §2.5). A terminal state is reachable from
// every non-terminal state.
var pipelineTransitions = map[PipelineState][]PipelineState{
	PipelineNotStarted:   {PipelineRunning},
	PipelineRunning:      {PipelineStopping, PipelineDisconnected},
	PipelineStopping:     {},
	PipelineDisconnected: {PipelineRunning},
}

// pipelineTransition reports whether a pipeline may move between states.
// Staying in a non-terminal state is allowed (Windows and psrpcore may
// repeat Running).
func pipelineTransition(from, to PipelineState) bool {
	if from.Terminal() {
		return false
	}
	if to.Terminal() || from == to {
		return true
	}
	for _, s := range pipelineTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// StateError reports a method called in a state that does not allow it.
type StateError struct {
	Op    string // the method, e.g. "ClientPool.CreatePipeline"
	State fmt.Stringer
}

func (e *StateError) Error() string {
	return fmt.Sprintf("psrp: %s not allowed in state %s", e.Op, e.State)
}

// guardPool returns a *StateError unless the pool state is one of allowed.
func guardPool(op string, state RunspacePoolState, allowed ...RunspacePoolState) error {
	for _, s := range allowed {
		if state == s {
			return nil
		}
	}
	return &StateError{Op: op, State: state}
}

// guardPipeline returns a *StateError unless the pipeline state is one of
// allowed.
func guardPipeline(op string, state PipelineState, allowed ...PipelineState) error {
	for _, s := range allowed {
		if state == s {
			return nil
		}
	}
	return &StateError{Op: op, State: state}
}
