package clixml

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVectorsRoundTrip decodes every PSRP message body recorded from real
// Windows exchanges (requests from pypsrp and responses from Windows),
// re-encodes it, and requires the result to be the same XML after
// canonicalisation and to decode to an equal value.
func TestVectorsRoundTrip(t *testing.T) {
	msgs := loadVectorMessages(t)
	n := 0
	for _, m := range msgs {
		if len(m.Data) == 0 {
			continue // END_OF_PIPELINE_INPUT
		}
		n++
		v, err := Decode(m.Data)
		if err != nil {
			t.Errorf("%v: decode: %v", m, err)
			continue
		}
		enc, err := Encode(v)
		if err != nil {
			t.Errorf("%v: encode: %v", m, err)
			continue
		}
		want, err := Canonicalize(m.Data)
		if err != nil {
			t.Errorf("%v: canonicalize original: %v", m, err)
			continue
		}
		got, err := Canonicalize(enc)
		if err != nil {
			t.Errorf("%v: canonicalize encoding: %v\n%s", m, err, enc)
			continue
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%v: re-encoding differs (-want +got):\n%s", m, diff)
			continue
		}
		v2, err := Decode(enc)
		if err != nil {
			t.Errorf("%v: decode of re-encoding: %v", m, err)
			continue
		}
		if diff := cmp.Diff(v, v2); diff != "" {
			t.Errorf("%v: value changed by a round trip (-first +second):\n%s", m, diff)
		}
	}
	t.Logf("%d message bodies round-tripped", n)
}

// TestVectorsWindowsByteExact requires the encoder to reproduce every
// message Windows sent byte for byte (after its BOM): attribute order,
// self-closing forms, RefId/TNRef numbering and escaping all match.
func TestVectorsWindowsByteExact(t *testing.T) {
	n := 0
	for _, m := range loadVectorMessages(t) {
		if !strings.HasPrefix(m.Where, "response") || len(m.Data) == 0 {
			continue
		}
		n++
		v, err := Decode(m.Data)
		if err != nil {
			t.Errorf("%v: decode: %v", m, err)
			continue
		}
		enc, err := Encode(v)
		if err != nil {
			t.Errorf("%v: encode: %v", m, err)
			continue
		}
		want := bytes.TrimPrefix(m.Data, []byte("\xEF\xBB\xBF"))
		if diff := cmp.Diff(string(want), string(enc)); diff != "" {
			t.Errorf("%v: encoding differs from Windows (-want +got):\n%s", m, diff)
		}
	}
	if n == 0 {
		t.Fatal("no Windows responses with PSRP data found")
	}
}
