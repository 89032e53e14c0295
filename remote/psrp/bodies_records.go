package psrp

import (
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// The stream records (MS-PSRP 2.2.2.20-26) travel as the serialized .NET
// objects: ErrorRecord (2.2.3.15), InformationalRecord for debug, verbose
// and warning (2.2.3.16), ProgressRecord (2.2.3.17) and InformationRecord.
// The bodies keep the object as decoded.

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

// The typed views of the records are clixml's (clixml.ErrorRecord and
// friends); the bodies keep the decoded object so that re-encoding gives
// back what the peer sent.

// ErrorRecord parses the record into clixml's typed view.
func (b *ErrorRecordBody) ErrorRecord() (*clixml.ErrorRecord, error) {
	return clixml.ParseErrorRecord(objectOrNil(b.Record))
}

// Message returns the message a console shows for the record
// (clixml.ErrorRecord.DisplayMessage), or the record's ToString when it
// does not parse.
func (b *ErrorRecordBody) Message() string {
	if rec, err := b.ErrorRecord(); err == nil {
		return rec.DisplayMessage()
	}
	if b.Record == nil {
		return ""
	}
	return b.Record.ToString
}

// InformationalRecord parses the debug record.
func (b *DebugRecordBody) InformationalRecord() (*clixml.InformationalRecord, error) {
	return clixml.ParseInformationalRecord(objectOrNil(b.Record))
}

// InformationalRecord parses the verbose record.
func (b *VerboseRecordBody) InformationalRecord() (*clixml.InformationalRecord, error) {
	return clixml.ParseInformationalRecord(objectOrNil(b.Record))
}

// InformationalRecord parses the warning record.
func (b *WarningRecordBody) InformationalRecord() (*clixml.InformationalRecord, error) {
	return clixml.ParseInformationalRecord(objectOrNil(b.Record))
}

// ProgressRecord parses the progress record.
func (b *ProgressRecordBody) ProgressRecord() (*clixml.ProgressRecord, error) {
	return clixml.ParseProgressRecord(objectOrNil(b.Record))
}

// InformationRecord parses the information record.
func (b *InformationRecordBody) InformationRecord() (*clixml.InformationRecord, error) {
	return clixml.ParseInformationRecord(objectOrNil(b.Record))
}
