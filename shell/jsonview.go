package shell

import (
	"encoding/base64"
	"fmt"
	"math"

	"github.com/pssession/pssession/remote/psrp/clixml"
)

// maxJSONDepth bounds how deep nested objects are rendered; deeper values
// are rendered by their display text, as ConvertTo-Json does past -Depth.
const maxJSONDepth = 32

// JSONValue turns a deserialized value into plain Go data that
// encoding/json renders for jq: objects become maps with their type names
// (under "PSTypeNames") and their adapted and extended properties; lists
// become arrays; dictionaries become maps keyed by the key's text.
func JSONValue(v clixml.Value) any {
	return jsonValue(v, 0, map[*clixml.Object]bool{})
}

func jsonValue(v clixml.Value, depth int, seen map[*clixml.Object]bool) any {
	switch x := v.(type) {
	case nil, string, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return x
	case float32:
		return jsonFloat(float64(x))
	case float64:
		return jsonFloat(x)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case clixml.Char:
		return string(rune(x))
	case clixml.SecureString:
		return "System.Security.SecureString"
	case *clixml.Object:
		return jsonObject(x, depth, seen)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// jsonFloat keeps NaN and infinities representable (encoding/json refuses them).
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return f
}

func jsonObject(o *clixml.Object, depth int, seen map[*clixml.Object]bool) any {
	if o == nil {
		return nil
	}
	if depth >= maxJSONDepth || seen[o] {
		if o.HasToString {
			return o.ToString
		}
		return nil
	}
	seen[o] = true
	defer delete(seen, o)
	switch o.Content {
	case clixml.ContentList, clixml.ContentEnumerable, clixml.ContentQueue, clixml.ContentStack:
		if len(o.Props) == 0 && len(o.Members) == 0 {
			items := make([]any, 0, len(o.Items))
			for _, it := range o.Items {
				items = append(items, jsonValue(it, depth+1, seen))
			}
			return items
		}
	case clixml.ContentDict:
		if len(o.Props) == 0 && len(o.Members) == 0 {
			m := make(map[string]any, len(o.Entries))
			for _, e := range o.Entries {
				m[fmt.Sprint(jsonValue(e.Key, depth+1, seen))] = jsonValue(e.Value, depth+1, seen)
			}
			return m
		}
	case clixml.ContentPrimitive:
		if len(o.Props) == 0 && len(o.Members) == 0 {
			// Enums and boxed primitives: their name reads better than the number.
			if o.HasToString {
				return o.ToString
			}
			return jsonValue(o.Value, depth+1, seen)
		}
	}
	m := make(map[string]any, len(o.Props)+len(o.Members)+1)
	if len(o.TypeNames) > 0 {
		m["PSTypeNames"] = o.TypeNames
	}
	for _, p := range o.Props {
		m[p.Name] = jsonValue(p.Value, depth+1, seen)
	}
	for _, p := range o.Members {
		m[p.Name] = jsonValue(p.Value, depth+1, seen)
	}
	if len(m) == 0 || (len(m) == 1 && m["PSTypeNames"] != nil) {
		if o.HasToString {
			return o.ToString
		}
	}
	return m
}
