package psrp

import (
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// The stream records (MS-PSRP 2.2.2.20-26) travel as the serialized .NET
// objects: ErrorRecord (2.2.3.15), InformationalRecord for debug, verbose
// and warning (2.2.3.16), ProgressRecord (2.2.3.17) and InformationRecord.
// The bodies keep the object as decoded; the accessors read the fields a
// console shows.

// ErrorRecordBody is ERROR_RECORD (MS-PSRP 2.2.2.20).
type ErrorRecordBody struct{ Record *clixml.Object }

// DebugRecordBody is DEBUG_RECORD (MS-PSRP 2.2.2.22).
type DebugRecordBody struct{ Record *clixml.Object }

// VerboseRecordBody is VERBOSE_RECORD (MS-PSRP 2.2.2.23).
type VerboseRecordBody struct{ Record *clixml.Object }

// WarningRecordBody is WARNING_RECORD (MS-PSRP 2.2.2.24).
type WarningRecordBody struct{ Record *clixml.Object }

// ProgressRecordBody is PROGRESS_RECORD (MS-PSRP 2.2.2.25).
type ProgressRecordBody struct{ Record *clixml.Object }

// InformationRecordBody is INFORMATION_RECORD (MS-PSRP 2.2.2.26, protocol
// 2.3).
type InformationRecordBody struct{ Record *clixml.Object }

func (*ErrorRecordBody) MessageType() MessageType       { return MsgErrorRecord }
func (*DebugRecordBody) MessageType() MessageType       { return MsgDebugRecord }
func (*VerboseRecordBody) MessageType() MessageType     { return MsgVerboseRecord }
func (*WarningRecordBody) MessageType() MessageType     { return MsgWarningRecord }
func (*ProgressRecordBody) MessageType() MessageType    { return MsgProgressRecord }
func (*InformationRecordBody) MessageType() MessageType { return MsgInformationRecord }

func (b *ErrorRecordBody) Value() clixml.Value       { return objectOrNil(b.Record) }
func (b *DebugRecordBody) Value() clixml.Value       { return objectOrNil(b.Record) }
func (b *VerboseRecordBody) Value() clixml.Value     { return objectOrNil(b.Record) }
func (b *WarningRecordBody) Value() clixml.Value     { return objectOrNil(b.Record) }
func (b *ProgressRecordBody) Value() clixml.Value    { return objectOrNil(b.Record) }
func (b *InformationRecordBody) Value() clixml.Value { return objectOrNil(b.Record) }

func recordFrom(t MessageType, v clixml.Value) (*clixml.Object, error) {
	o, ok := v.(*clixml.Object)
	if !ok || o == nil {
		return nil, &BodyError{Type: t, Reason: "body is " + describe(v) + ", want an object"}
	}
	return o, nil
}

func (b *ErrorRecordBody) fromValue(v clixml.Value) (err error) {
	b.Record, err = recordFrom(MsgErrorRecord, v)
	return err
}

func (b *DebugRecordBody) fromValue(v clixml.Value) (err error) {
	b.Record, err = recordFrom(MsgDebugRecord, v)
	return err
}

func (b *VerboseRecordBody) fromValue(v clixml.Value) (err error) {
	b.Record, err = recordFrom(MsgVerboseRecord, v)
	return err
}

func (b *WarningRecordBody) fromValue(v clixml.Value) (err error) {
	b.Record, err = recordFrom(MsgWarningRecord, v)
	return err
}

func (b *ProgressRecordBody) fromValue(v clixml.Value) (err error) {
	b.Record, err = recordFrom(MsgProgressRecord, v)
	return err
}

func (b *InformationRecordBody) fromValue(v clixml.Value) (err error) {
	b.Record, err = recordFrom(MsgInformationRecord, v)
	return err
}

// stringProp returns a string property of o (extended or adapted), or "".
func stringProp(o *clixml.Object, name string) string {
	v, _, _ := lookup(o, name)
	s, _ := v.(string)
	return s
}

// ErrorRecordMessage returns the message a console shows for a serialized
// ErrorRecord (MS-PSRP 2.2.3.15): ErrorDetails_Message when set, else the
// exception's Message, else the record's ToString.
func ErrorRecordMessage(rec *clixml.Object) string {
	if rec == nil {
		return ""
	}
	if s := stringProp(rec, "ErrorDetails_Message"); s != "" {
		return s
	}
	if ex, _, _ := lookup(rec, "Exception"); ex != nil {
		if exo, ok := ex.(*clixml.Object); ok {
			if s := stringProp(exo, "Message"); s != "" {
				return s
			}
		}
	}
	return rec.ToString
}

// ErrorRecordID returns the FullyQualifiedErrorId of a serialized
// ErrorRecord.
func ErrorRecordID(rec *clixml.Object) string { return stringProp(rec, "FullyQualifiedErrorId") }

// Message returns the record's message (see ErrorRecordMessage).
func (b *ErrorRecordBody) Message() string { return ErrorRecordMessage(b.Record) }

// InformationalRecordMessage returns the message of a serialized debug,
// verbose or warning record (MS-PSRP 2.2.3.16).
func InformationalRecordMessage(rec *clixml.Object) string {
	if rec == nil {
		return ""
	}
	if s := stringProp(rec, "InformationalRecord_Message"); s != "" {
		return s
	}
	return rec.ToString
}

// Message returns the debug message.
func (b *DebugRecordBody) Message() string { return InformationalRecordMessage(b.Record) }

// Message returns the verbose message.
func (b *VerboseRecordBody) Message() string { return InformationalRecordMessage(b.Record) }

// Message returns the warning message.
func (b *WarningRecordBody) Message() string { return InformationalRecordMessage(b.Record) }

// ProgressRecord is the typed view of a serialized ProgressRecord
// (MS-PSRP 2.2.3.17).
type ProgressRecord struct {
	Activity          string
	ActivityID        int32
	StatusDescription string
	CurrentOperation  string
	ParentActivityID  int32
	PercentComplete   int32
	Completed         bool // Type is Completed (1) rather than Processing (0)
	SecondsRemaining  int32
}

// Progress reads the typed fields of the record.
func (b *ProgressRecordBody) Progress() (ProgressRecord, error) {
	r := newFieldReader(MsgProgressRecord, b.Value())
	var p ProgressRecord
	p.Activity = r.string("Activity")
	p.ActivityID = r.int32("ActivityId")
	if v, ok := r.optional("StatusDescription"); ok && v != nil {
		p.StatusDescription = r.string("StatusDescription")
	}
	if v, ok := r.optional("CurrentOperation"); ok && v != nil {
		p.CurrentOperation = r.string("CurrentOperation")
	}
	p.ParentActivityID = r.int32("ParentActivityId")
	p.PercentComplete = r.int32("PercentComplete")
	p.Completed = r.int32("Type") == 1
	p.SecondsRemaining = r.int32("SecondsRemaining")
	return p, r.done()
}

// MessageData returns the information record's MessageData (usually the
// string written by Write-Information or Write-Host).
func (b *InformationRecordBody) MessageData() clixml.Value {
	v, _, _ := lookup(b.Record, "MessageData")
	return v
}
