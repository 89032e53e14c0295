package psrp

import (
	"github.com/pssession/pssession/remote/psrp/clixml"
)

// CreatePipelineBody is CREATE_PIPELINE (MS-PSRP 2.2.2.10;
// shared/PROTOCOL.md §2.7).
type CreatePipelineBody struct {
	NoInput             bool
	ApartmentState      ApartmentState
	RemoteStreamOptions RemoteStreamOptions
	AddToHistory        bool
	HostInfo            *clixml.Object // HostInfo (MS-PSRP 2.2.3.14)
	PowerShell          PowerShellData
	IsNested            bool
}

// PowerShellData is the PowerShell object of CREATE_PIPELINE (MS-PSRP
// 2.2.3.11).
type PowerShellData struct {
	IsNested bool
	// ExtraCmds holds every statement of a multi-statement batch (pypsrp
	// repeats the first one in Cmds); nil is written Nil.
	ExtraCmds [][]Command
	Cmds      []Command
	History   *string // nil is written Nil
	// RedirectShellErrorOutputPipe (MS-PSRP 2.2.3.11).
	RedirectShellErrorOutputPipe bool
	// OmitStreamMerges leaves out MergeError, MergeWarning, MergeVerbose
	// and MergeDebug, for servers older than protocol 2.2;
	// OmitInformationMerge leaves out MergeInformation, for servers older
	// than 2.3. Decoding sets them when a command lacks the properties.
	OmitStreamMerges, OmitInformationMerge bool
}

func (*CreatePipelineBody) MessageType() MessageType { return MsgCreatePipeline }

func (b *CreatePipelineBody) Value() clixml.Value {
	ps := &b.PowerShell
	var extra clixml.Value
	if ps.ExtraCmds != nil {
		stmts := make([]clixml.Value, len(ps.ExtraCmds))
		for i, cmds := range ps.ExtraCmds {
			stmts[i] = newMS(clixml.Property{Name: "Cmds", Value: ps.commandList(cmds)})
		}
		extra = newList(stmts, typeNamePSObjectList, "System.Object")
	}
	var history clixml.Value
	if ps.History != nil {
		history = *ps.History
	}
	psObj := newMS(
		clixml.Property{Name: "IsNested", Value: ps.IsNested},
		clixml.Property{Name: "ExtraCmds", Value: extra},
		clixml.Property{Name: "Cmds", Value: ps.commandList(ps.Cmds)},
		clixml.Property{Name: "History", Value: history},
		clixml.Property{Name: "RedirectShellErrorOutputPipe", Value: ps.RedirectShellErrorOutputPipe},
	)
	return newMS(
		clixml.Property{Name: "NoInput", Value: b.NoInput},
		clixml.Property{Name: "ApartmentState", Value: newEnum(typeNameApartmentState, int32(b.ApartmentState), b.ApartmentState.String())},
		clixml.Property{Name: "RemoteStreamOptions", Value: newEnum(typeNameRemoteStreamOptions, int32(b.RemoteStreamOptions), b.RemoteStreamOptions.String())},
		clixml.Property{Name: "AddToHistory", Value: b.AddToHistory},
		clixml.Property{Name: "HostInfo", Value: objectOrNil(b.HostInfo)},
		clixml.Property{Name: "PowerShell", Value: psObj},
		clixml.Property{Name: "IsNested", Value: b.IsNested},
	)
}

func resultType(v PipelineResultType) *clixml.Object {
	return newEnum(typeNamePipelineResultTypes, int32(v), v.String())
}

// commandList encodes one statement: a List<PSObject> of command objects.
func (ps *PowerShellData) commandList(cmds []Command) *clixml.Object {
	items := make([]clixml.Value, len(cmds))
	for i, c := range cmds {
		args := make([]clixml.Value, len(c.Args))
		for j, a := range c.Args {
			var name clixml.Value
			if a.Name != "" {
				name = a.Name
			}
			args[j] = newMS(clixml.Property{Name: "N", Value: name}, clixml.Property{Name: "V", Value: a.Value})
		}
		var local clixml.Value
		if c.UseLocalScope != nil {
			local = *c.UseLocalScope
		}
		o := newMS(
			clixml.Property{Name: "Cmd", Value: c.Cmd},
			clixml.Property{Name: "IsScript", Value: c.IsScript},
			clixml.Property{Name: "UseLocalScope", Value: local},
			clixml.Property{Name: "MergeMyResult", Value: resultType(c.MergeMyResult)},
			clixml.Property{Name: "MergeToResult", Value: resultType(c.MergeToResult)},
			clixml.Property{Name: "MergePreviousResults", Value: resultType(c.MergePreviousResults)},
			clixml.Property{Name: "Args", Value: newList(args, typeNamePSObjectList, "System.Object")},
		)
		if !ps.OmitStreamMerges {
			o.Members = append(o.Members,
				clixml.Property{Name: "MergeError", Value: resultType(c.MergeError)},
				clixml.Property{Name: "MergeWarning", Value: resultType(c.MergeWarning)},
				clixml.Property{Name: "MergeVerbose", Value: resultType(c.MergeVerbose)},
				clixml.Property{Name: "MergeDebug", Value: resultType(c.MergeDebug)},
			)
		}
		if !ps.OmitInformationMerge {
			o.Members = append(o.Members, clixml.Property{Name: "MergeInformation", Value: resultType(c.MergeInformation)})
		}
		items[i] = o
	}
	return newList(items, typeNamePSObjectList, "System.Object")
}

func (b *CreatePipelineBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgCreatePipeline, v)
	b.NoInput = r.bool("NoInput")
	b.ApartmentState = ApartmentState(r.int32("ApartmentState"))
	b.RemoteStreamOptions = RemoteStreamOptions(r.int32("RemoteStreamOptions"))
	b.AddToHistory = r.bool("AddToHistory")
	b.HostInfo = r.object("HostInfo", false)
	b.IsNested = r.bool("IsNested")
	psObj := r.object("PowerShell", true)
	if r.err != nil {
		return r.err
	}
	if psObj == nil {
		return &BodyError{Type: MsgCreatePipeline, Field: "PowerShell", Reason: "is Nil"}
	}
	return b.PowerShell.fromObject(psObj)
}

func (ps *PowerShellData) fromObject(o *clixml.Object) error {
	r := newFieldReader(MsgCreatePipeline, o)
	*ps = PowerShellData{}
	ps.IsNested = r.bool("IsNested")
	if h, ok := r.optional("History"); ok && h != nil {
		s := r.string("History")
		ps.History = &s
	}
	if _, ok := r.optional("RedirectShellErrorOutputPipe"); ok {
		ps.RedirectShellErrorOutputPipe = r.bool("RedirectShellErrorOutputPipe")
	}
	cmds, _ := r.list("Cmds")
	if r.err != nil {
		return r.err
	}
	var err error
	if ps.Cmds, err = ps.commandsFrom(cmds); err != nil {
		return err
	}
	if e, ok := r.optional("ExtraCmds"); ok && e != nil {
		stmts, _ := r.list("ExtraCmds")
		if r.err != nil {
			return r.err
		}
		ps.ExtraCmds = make([][]Command, 0, len(stmts))
		for _, s := range stmts {
			sr := newFieldReader(MsgCreatePipeline, s)
			items, _ := sr.list("Cmds")
			if sr.err != nil {
				return sr.err
			}
			cs, err := ps.commandsFrom(items)
			if err != nil {
				return err
			}
			ps.ExtraCmds = append(ps.ExtraCmds, cs)
		}
	}
	return r.done()
}

func (ps *PowerShellData) commandsFrom(items []clixml.Value) ([]Command, error) {
	out := make([]Command, 0, len(items))
	for _, it := range items {
		r := newFieldReader(MsgCreatePipeline, it)
		var c Command
		c.Cmd = r.string("Cmd")
		c.IsScript = r.bool("IsScript")
		if l, ok := r.optional("UseLocalScope"); ok && l != nil {
			b := r.bool("UseLocalScope")
			c.UseLocalScope = &b
		}
		merge := func(name string) PipelineResultType {
			if !r.has(name) {
				return ResultNone
			}
			return PipelineResultType(r.int32(name))
		}
		c.MergeMyResult = merge("MergeMyResult")
		c.MergeToResult = merge("MergeToResult")
		c.MergePreviousResults = merge("MergePreviousResults")
		if !r.has("MergeError") {
			ps.OmitStreamMerges = true
		}
		c.MergeError = merge("MergeError")
		c.MergeWarning = merge("MergeWarning")
		c.MergeVerbose = merge("MergeVerbose")
		c.MergeDebug = merge("MergeDebug")
		if !r.has("MergeInformation") {
			ps.OmitInformationMerge = true
		}
		c.MergeInformation = merge("MergeInformation")
		if a, ok := r.optional("Args"); ok && a != nil {
			args, _ := r.list("Args")
			for _, av := range args {
				ar := newFieldReader(MsgCreatePipeline, av)
				var arg Argument
				if n := ar.value("N"); ar.err == nil && n != nil {
					arg.Name = ar.string("N")
				}
				arg.Value = ar.value("V")
				if ar.err != nil {
					return nil, ar.err
				}
				c.Args = append(c.Args, arg)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		out = append(out, c)
	}
	return out, nil
}

// GetCommandMetadataBody is GET_COMMAND_METADATA (MS-PSRP 2.2.2.14). The
// server answers with PIPELINE_OUTPUT objects.
type GetCommandMetadataBody struct {
	Name         []string       // wildcard patterns (a String[])
	CommandType  int32          // CommandTypes flags (MS-PSRP 2.2.3.19); 511 is All
	Namespace    []string       // module names (an Object[]); nil is written Nil
	ArgumentList []clixml.Value // an Object[]; nil is written Nil
}

func (*GetCommandMetadataBody) MessageType() MessageType { return MsgGetCommandMetadata }

func arrayOf(typeName string, items []clixml.Value) *clixml.Object {
	return newList(items, typeName, "System.Array", "System.Object")
}

func stringItems(s []string) []clixml.Value {
	out := make([]clixml.Value, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func (b *GetCommandMetadataBody) Value() clixml.Value {
	var ns, args clixml.Value
	if b.Namespace != nil {
		ns = arrayOf(typeNameObjectArray, stringItems(b.Namespace))
	}
	if b.ArgumentList != nil {
		args = arrayOf(typeNameObjectArray, b.ArgumentList)
	}
	return newMS(
		clixml.Property{Name: "Name", Value: arrayOf(typeNameStringArray, stringItems(b.Name))},
		clixml.Property{Name: "CommandType", Value: b.CommandType},
		clixml.Property{Name: "Namespace", Value: ns},
		clixml.Property{Name: "ArgumentList", Value: args},
	)
}

func (r *fieldReader) strings(name string) []string {
	items, ok := r.list(name)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, isStr := it.(string)
		if !isStr {
			r.fail(name, "holds "+describe(it)+", want strings")
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (b *GetCommandMetadataBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgGetCommandMetadata, v)
	b.Name = r.strings("Name")
	b.CommandType = r.int32("CommandType")
	if ns, ok := r.optional("Namespace"); ok && ns != nil {
		b.Namespace = r.strings("Namespace")
	}
	if a, ok := r.optional("ArgumentList"); ok && a != nil {
		b.ArgumentList, _ = r.list("ArgumentList")
	}
	return r.done()
}

// PipelineInputBody is PIPELINE_INPUT (MS-PSRP 2.2.2.17): one input object.
type PipelineInputBody struct {
	Data clixml.Value
}

func (*PipelineInputBody) MessageType() MessageType         { return MsgPipelineInput }
func (b *PipelineInputBody) Value() clixml.Value            { return b.Data }
func (b *PipelineInputBody) fromValue(v clixml.Value) error { b.Data = v; return nil }

// EndOfPipelineInputBody is END_OF_PIPELINE_INPUT (MS-PSRP 2.2.2.18): no
// data at all.
type EndOfPipelineInputBody struct{}

func (*EndOfPipelineInputBody) MessageType() MessageType { return MsgEndOfPipelineInput }
func (*EndOfPipelineInputBody) Value() clixml.Value      { return nil }
func (*EndOfPipelineInputBody) fromValue(v clixml.Value) error {
	if v != nil {
		return &BodyError{Type: MsgEndOfPipelineInput, Reason: "body is " + describe(v) + ", want no data"}
	}
	return nil
}

// PipelineOutputBody is PIPELINE_OUTPUT (MS-PSRP 2.2.2.19): one output
// object.
type PipelineOutputBody struct {
	Data clixml.Value
}

func (*PipelineOutputBody) MessageType() MessageType         { return MsgPipelineOutput }
func (b *PipelineOutputBody) Value() clixml.Value            { return b.Data }
func (b *PipelineOutputBody) fromValue(v clixml.Value) error { b.Data = v; return nil }

// PipelineStateBody is PIPELINE_STATE (MS-PSRP 2.2.2.21).
type PipelineStateBody struct {
	State PipelineState
	Error *clixml.Object // ExceptionAsErrorRecord of Failed/Stopped, or nil
}

func (*PipelineStateBody) MessageType() MessageType { return MsgPipelineState }

func (b *PipelineStateBody) Value() clixml.Value {
	o := newMS(clixml.Property{Name: "PipelineState", Value: int32(b.State)})
	if b.Error != nil {
		o.Members = append(o.Members, clixml.Property{Name: "ExceptionAsErrorRecord", Value: b.Error})
	}
	return o
}

func (b *PipelineStateBody) fromValue(v clixml.Value) error {
	r := newFieldReader(MsgPipelineState, v)
	b.State = PipelineState(r.int32("PipelineState"))
	b.Error = r.object("ExceptionAsErrorRecord", false)
	return r.done()
}
