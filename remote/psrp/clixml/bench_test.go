package clixml

import (
	"strings"
	"testing"
)

// stringBody is a typical PIPELINE_OUTPUT body of `Out-String -Stream`.
var stringBody = []byte("\xEF\xBB\xBF<S>" + strings.Repeat("-a----        23/11/2026     20:41           1234 file.txt ", 2)[:80] + "</S>")

func BenchmarkDecodeString(b *testing.B) {
	b.SetBytes(int64(len(stringBody)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := Decode(stringBody)
		if err != nil || v == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeErrorRecordObj(b *testing.B) {
	data := vectorErrorRecord(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeString(b *testing.B) {
	v, err := Decode(stringBody)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(stringBody) - 3))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		if buf, err = AppendValue(buf[:0], "", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeErrorRecordObj(b *testing.B) {
	data := vectorErrorRecord(b)
	v, err := Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		if buf, err = AppendValue(buf[:0], "", v); err != nil {
			b.Fatal(err)
		}
	}
}

// vectorErrorRecord returns the first ERROR_RECORD body of the vectors.
func vectorErrorRecord(tb testing.TB) []byte {
	for _, m := range loadVectorMessages(tb) {
		if m.Type == 0x00041005 {
			return m.Data
		}
	}
	tb.Fatal("no ERROR_RECORD in the vectors")
	return nil
}
