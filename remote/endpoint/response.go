package endpoint

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
)

// envelopeOpen declares the prefixes Windows uses in its responses
// (observed in shared/vectors/windows).
const envelopeOpen = `<s:Envelope xml:lang="en-US" xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddressing +
	`" xmlns:x="` + nsTransfer + `" xmlns:n="` + nsEnum + `" xmlns:w="` + nsWSMan +
	`" xmlns:rsp="` + nsShell + `" xmlns:p="` + nsWSMV + `">`

// writeEnvelope renders a whole response into b: header (Action, MessageID, To,
// RelatesTo = the request's MessageID) and body content.
func writeEnvelope(b *bytes.Buffer, action, relatesTo, body string) {
	writeEnvelopeHead(b, action, relatesTo, len(body))
	b.WriteString(body)
	writeEnvelopeTail(b)
}

// writeEnvelopeHead renders the envelope up to the body content, growing
// b for a body of bodySize bytes.
func writeEnvelopeHead(b *bytes.Buffer, action, relatesTo string, bodySize int) {
	b.Grow(len(envelopeOpen) + bodySize + 512)
	b.WriteString(envelopeOpen)
	b.WriteString(`<s:Header><a:Action>`)
	b.WriteString(esc(action))
	b.WriteString(`</a:Action><a:MessageID>uuid:`)
	b.WriteString(newGUID())
	b.WriteString(`</a:MessageID><a:To>` + addressAnonymous + `</a:To>`)
	if relatesTo != "" {
		b.WriteString(`<a:RelatesTo>`)
		b.WriteString(esc(relatesTo))
		b.WriteString(`</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>`)
}

func writeEnvelopeTail(b *bytes.Buffer) { b.WriteString(`</s:Body></s:Envelope>`) }

// envelopes recycles response envelopes (a bulk Receive's is the envelope
// size, 500 KiB).
var envelopes = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putEnvelope(b *bytes.Buffer) {
	if b.Cap() > 4<<20 {
		return
	}
	b.Reset()
	envelopes.Put(b)
}

// esc escapes text for element content and attribute values.
func esc(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return ""
	}
	return b.String()
}

// elem renders <name>text</name> with the text escaped.
func elem(name, text string) string {
	return "<" + name + ">" + esc(text) + "</" + name + ">"
}

// newGUID returns a random (version 4) GUID in upper case.
func newGUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:]))
}
