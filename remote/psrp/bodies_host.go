package psrp

import (
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// RunspacePoolHostCallBody is RUNSPACEPOOL_HOST_CALL (MS-PSRP 2.2.2.15).
type RunspacePoolHostCallBody struct{ HostCall }

// PipelineHostCallBody is PIPELINE_HOST_CALL (MS-PSRP 2.2.2.27).
type PipelineHostCallBody struct{ HostCall }

func (*RunspacePoolHostCallBody) MessageType() MessageType { return MsgRunspacePoolHostCall }
func (*PipelineHostCallBody) MessageType() MessageType     { return MsgPipelineHostCall }

func (b *RunspacePoolHostCallBody) Value() clixml.Value { return hostCallValue(&b.HostCall) }
func (b *PipelineHostCallBody) Value() clixml.Value     { return hostCallValue(&b.HostCall) }

func (b *RunspacePoolHostCallBody) fromValue(v clixml.Value) error {
	return hostCallFrom(MsgRunspacePoolHostCall, v, &b.HostCall)
}

func (b *PipelineHostCallBody) fromValue(v clixml.Value) error {
	return hostCallFrom(MsgPipelineHostCall, v, &b.HostCall)
}

// hostMethodEnum is the `mi` property: a RemoteHostMethodId enum.
func hostMethodEnum(m HostMethodID) *clixml.Object {
	return newEnum(clixml.TypeRemoteHostMethodID, int32(m), m.String())
}

func hostCallValue(c *HostCall) clixml.Value {
	return newMS(
		clixml.Property{Name: "ci", Value: c.CallID},
		clixml.Property{Name: "mi", Value: hostMethodEnum(c.Method)},
		clixml.Property{Name: "mp", Value: newList(c.Params, typeNameArrayList, "System.Object")},
	)
}

func hostCallFrom(t MessageType, v clixml.Value, c *HostCall) error {
	r := newFieldReader(t, v)
	c.CallID, _ = r.callID()
	c.Method = HostMethodID(r.int32("mi"))
	if p, ok := r.optional("mp"); ok && p != nil {
		c.Params, _ = r.list("mp")
	}
	return r.done()
}

// HostResponseData is the content of a host response (MS-PSRP 2.2.2.16,
// 2.2.2.28): the call id and method echoed, and either a return value
// (`mr`), an exception (`me`, an ErrorRecord) or neither for a method that
// returns nothing.
type HostResponseData struct {
	CallID    int64
	Method    HostMethodID
	Result    clixml.Value   // `mr`, when HasResult
	HasResult bool           // `mr` is present (it may be Nil)
	Error     *clixml.Object // `me`, or nil
}

// RunspacePoolHostResponseBody is RUNSPACEPOOL_HOST_RESPONSE (MS-PSRP
// 2.2.2.16).
type RunspacePoolHostResponseBody struct{ HostResponseData }

// PipelineHostResponseBody is PIPELINE_HOST_RESPONSE (MS-PSRP 2.2.2.28).
type PipelineHostResponseBody struct{ HostResponseData }

func (*RunspacePoolHostResponseBody) MessageType() MessageType { return MsgRunspacePoolHostResponse }
func (*PipelineHostResponseBody) MessageType() MessageType     { return MsgPipelineHostResponse }

func (b *RunspacePoolHostResponseBody) Value() clixml.Value { return b.HostResponseData.value() }
func (b *PipelineHostResponseBody) Value() clixml.Value     { return b.HostResponseData.value() }

func (b *RunspacePoolHostResponseBody) fromValue(v clixml.Value) error {
	return b.HostResponseData.from(MsgRunspacePoolHostResponse, v)
}

func (b *PipelineHostResponseBody) fromValue(v clixml.Value) error {
	return b.HostResponseData.from(MsgPipelineHostResponse, v)
}

func (d *HostResponseData) value() clixml.Value {
	o := newMS(
		clixml.Property{Name: "ci", Value: d.CallID},
		clixml.Property{Name: "mi", Value: hostMethodEnum(d.Method)},
	)
	if d.HasResult {
		o.Members = append(o.Members, clixml.Property{Name: "mr", Value: d.Result})
	}
	if d.Error != nil {
		o.Members = append(o.Members, clixml.Property{Name: "me", Value: d.Error})
	}
	return o
}

func (d *HostResponseData) from(t MessageType, v clixml.Value) error {
	r := newFieldReader(t, v)
	*d = HostResponseData{}
	d.CallID, _ = r.callID()
	d.Method = HostMethodID(r.int32("mi"))
	d.Result, d.HasResult = r.optional("mr")
	d.Error = r.object("me", false)
	return r.done()
}
