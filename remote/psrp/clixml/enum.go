package clixml

// Enum is a .NET enum value as PowerShell serializes it (MS-PSRP 2.2.5.2.9;
// shared/PROTOCOL.md §3.1): an Obj with the type names [EnumType,
// System.Enum, System.ValueType, System.Object], ToString = the name
// ("A, B" for flags) and the integer value as content.
type Enum struct {
	TypeName string // the enum type, most-derived type name
	Name     string // ToString
	Value    int64
}

// enumBaseTypes follow the enum type in an enum's type names.
var enumBaseTypes = []string{"System.Enum", "System.ValueType", "System.Object"}

// NewEnum returns the Obj for an Int32-based enum value.
func NewEnum(typeName, name string, v int32) *Object {
	return &Object{
		TypeNames:   append([]string{typeName}, enumBaseTypes...),
		ToString:    name,
		HasToString: true,
		Content:     ContentPrimitive,
		Value:       v,
	}
}

// NewFlags returns the Obj for an Int32-based [Flags] enum value; names is
// the ToString form (for example "Output, Error").
func NewFlags(typeName, names string, v int32) *Object {
	return NewEnum(typeName, names, v)
}

// Object returns e as an Obj with an Int32 value.
func (e Enum) Object() *Object { return NewEnum(e.TypeName, e.Name, int32(e.Value)) }

// ParseEnum reads an enum Obj. It accepts any integer content and also a
// bare integer (some senders do not box enums).
func ParseEnum(v Value) (Enum, error) {
	if n, ok := integerValue(v); ok {
		if o, isObj := v.(*Object); isObj {
			return Enum{TypeName: o.TypeName(), Name: o.ToString, Value: n}, nil
		}
		return Enum{Value: n}, nil
	}
	return Enum{}, &ShapeError{View: "Enum", Reason: "want an Obj with integer content, got " + kindName(v)}
}
