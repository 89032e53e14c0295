package clixml

import "strings"

// TypePSPrimitiveDictionary is the most-derived type name of a
// PSPrimitiveDictionary (shared/PROTOCOL.md §3.3).
const TypePSPrimitiveDictionary = "System.Management.Automation.PSPrimitiveDictionary"

// PSPrimitiveDictionary is an ordered PSPrimitiveDictionary (application
// arguments, APPLICATION_PRIVATE_DATA). Values are primitives, nested
// dictionaries (as *Object; see Dict) or arrays.
type PSPrimitiveDictionary []DictEntry

// Get returns the value for a string key, matched case-insensitively as
// PowerShell's Hashtable does.
func (d PSPrimitiveDictionary) Get(key string) (Value, bool) {
	for _, e := range d {
		if k, ok := e.Key.(string); ok && k == key {
			return e.Value, true
		}
	}
	for _, e := range d {
		if k, ok := e.Key.(string); ok && strings.EqualFold(k, key) {
			return e.Value, true
		}
	}
	return nil, false
}

// Dict returns a nested dictionary value.
func (d PSPrimitiveDictionary) Dict(key string) (PSPrimitiveDictionary, bool) {
	v, ok := d.Get(key)
	if !ok {
		return nil, false
	}
	nd, err := ParsePSPrimitiveDictionary(v)
	return nd, err == nil
}

// Object builds the dictionary Obj with the PSPrimitiveDictionary type names.
func (d PSPrimitiveDictionary) Object() *Object {
	return &Object{
		TypeNames: []string{TypePSPrimitiveDictionary, "System.Collections.Hashtable", "System.Object"},
		Content:   ContentDict,
		Entries:   append([]DictEntry(nil), d...),
	}
}

// ParsePSPrimitiveDictionary reads any dictionary Obj (a Hashtable works
// too). Nil gives an empty dictionary.
func ParsePSPrimitiveDictionary(v Value) (PSPrimitiveDictionary, error) {
	if v == nil {
		return nil, nil
	}
	o, err := asObject("PSPrimitiveDictionary", v)
	if err != nil {
		return nil, err
	}
	if o.Content != ContentDict {
		return nil, &ShapeError{View: "PSPrimitiveDictionary", Reason: "not a dictionary"}
	}
	return PSPrimitiveDictionary(o.Entries), nil
}
