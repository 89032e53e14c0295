package cmd

import (
	"encoding/json"
	"io"
)

// writeJSONArray writes the objects of --output json as one indented array.
func writeJSONArray(w io.Writer, items []any) error {
	if items == nil {
		items = []any{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(items)
}
