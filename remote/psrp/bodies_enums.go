package psrp

import (
	"strconv"
	"strings"
)

// CLIXML type names of the enums and collections in message bodies
// (MS-PSRP 2.2.3), as Windows and pypsrp write them.
const (
	typeNamePSThreadOptions     = "System.Management.Automation.Runspaces.PSThreadOptions"
	typeNameApartmentState      = "System.Management.Automation.Runspaces.ApartmentState"
	typeNameRemoteStreamOptions = "System.Management.Automation.Runspaces.RemoteStreamOptions"
	typeNamePipelineResultTypes = "System.Management.Automation.Runspaces.PipelineResultTypes"
	typeNamePSObjectList        = "System.Collections.Generic.List`1[[System.Management.Automation.PSObject, System.Management.Automation, Version=1.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
	typeNameArrayList           = "System.Collections.ArrayList"
	typeNameStringArray         = "System.String[]"
	typeNameObjectArray         = "System.Object[]"
)

// PSThreadOptions says how a runspace pool uses threads (MS-PSRP 2.2.3.6).
type PSThreadOptions int32

// Thread options (MS-PSRP 2.2.3.6).
const (
	ThreadOptionsDefault          PSThreadOptions = 0
	ThreadOptionsUseNewThread     PSThreadOptions = 1
	ThreadOptionsReuseThread      PSThreadOptions = 2
	ThreadOptionsUseCurrentThread PSThreadOptions = 3
)

var psThreadOptionsNames = [...]string{"Default", "UseNewThread", "ReuseThread", "UseCurrentThread"}

// String returns the .NET enum name.
func (o PSThreadOptions) String() string {
	if o >= 0 && int(o) < len(psThreadOptionsNames) {
		return psThreadOptionsNames[o]
	}
	return "PSThreadOptions(" + strconv.Itoa(int(o)) + ")"
}

// ApartmentState is the COM apartment of the runspace threads (MS-PSRP
// 2.2.3.7).
type ApartmentState int32

// Apartment states (MS-PSRP 2.2.3.7).
const (
	ApartmentSTA     ApartmentState = 0
	ApartmentMTA     ApartmentState = 1
	ApartmentUnknown ApartmentState = 2
)

var apartmentStateNames = [...]string{"STA", "MTA", "UNKNOWN"}

// String returns the enum name as it travels ("STA", "MTA", "UNKNOWN").
func (a ApartmentState) String() string {
	if a >= 0 && int(a) < len(apartmentStateNames) {
		return apartmentStateNames[a]
	}
	return "ApartmentState(" + strconv.Itoa(int(a)) + ")"
}

// RemoteStreamOptions are flags asking the server to add invocation
// information to records (MS-PSRP 2.2.3.30).
type RemoteStreamOptions int32

// Remote stream options (MS-PSRP 2.2.3.30).
const (
	StreamOptionsNone                             RemoteStreamOptions = 0
	StreamOptionsAddInvocationInfoToErrorRecord   RemoteStreamOptions = 1
	StreamOptionsAddInvocationInfoToWarningRecord RemoteStreamOptions = 2
	StreamOptionsAddInvocationInfoToDebugRecord   RemoteStreamOptions = 4
	StreamOptionsAddInvocationInfoToVerboseRecord RemoteStreamOptions = 8
	StreamOptionsAddInvocationInfo                RemoteStreamOptions = 15
)

// String returns the name .NET gives the flags value: a single name
// (AddInvocationInfo for all four), or names joined by ", ".
func (o RemoteStreamOptions) String() string {
	switch o {
	case StreamOptionsNone:
		return "None"
	case StreamOptionsAddInvocationInfo:
		return "AddInvocationInfo"
	}
	names := []struct {
		bit  RemoteStreamOptions
		name string
	}{
		{StreamOptionsAddInvocationInfoToErrorRecord, "AddInvocationInfoToErrorRecord"},
		{StreamOptionsAddInvocationInfoToWarningRecord, "AddInvocationInfoToWarningRecord"},
		{StreamOptionsAddInvocationInfoToDebugRecord, "AddInvocationInfoToDebugRecord"},
		{StreamOptionsAddInvocationInfoToVerboseRecord, "AddInvocationInfoToVerboseRecord"},
	}
	if o&^StreamOptionsAddInvocationInfo != 0 {
		return strconv.Itoa(int(o))
	}
	var parts []string
	for _, n := range names {
		if o&n.bit != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ", ")
}
